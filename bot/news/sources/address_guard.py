"""The address guard: links given in Slack must not reach the host's own network.

Every address the host name resolves to is checked before any connection (a name with one public
and one private address is refused), and the connection then goes to a checked address, so a second
DNS answer cannot swap in another one (DNS rebinding). Redirects are checked the same way.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedAddress(ValueError):
    """The link points at an address the app must not reach for this caller."""


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses a fetch may connect to.

    `public_only` is for what Slack users give; `allowed_hosts` (host or host:port, as written in
    URLs) are the operator's exceptions, e.g. an intranet news site (FETCH_ALLOW_HOSTS).
    """

    public_only: bool = False
    allowed_hosts: frozenset[str] = field(default_factory=frozenset)

    def addresses(self, host: str, port: int) -> list[str]:
        """The addresses to connect to for host:port, all checked; RefusedAddress when one is not allowed."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as error:
            raise OSError(f"cannot resolve {host}: {error}") from error
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not self.public_only or host in self.allowed_hosts or f"{host}:{port}" in self.allowed_hosts:
            return addresses
        for address in addresses:
            reason = non_public(ipaddress.ip_address(address.split("%", 1)[0]))
            if reason:
                raise RefusedAddress(f"{host} is {reason} ({address}): links must point to public web sites")
        return addresses


def non_public(address: Address) -> str | None:
    """Why `address` is not a public internet address, or None when it is."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return non_public(address.ipv4_mapped)
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_private:
        return "a private address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_unspecified or address.is_reserved or not address.is_global:
        return "a reserved address"
    return None
