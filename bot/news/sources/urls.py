"""One spelling per link: the same article reached by two spellings of its URL is one article."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TRACKING_PARAMS = frozenset({"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid"})
DEFAULT_PORTS = {"http": 80, "https": 443}


class BadUrl(ValueError):
    """Not an http(s) URL we can fetch; the message says why."""


def normalise_url(url: str) -> str:
    """`url` with scheme and host in lower case, no default port, no fragment, no tracking parameters.

    The path and the other query parameters (and their order) are kept: they can name another page.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise BadUrl(f"not a valid URL: {url[:200]!r}") from error
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise BadUrl(f"only http:// and https:// links can be fetched, not {url[:200]!r}")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise BadUrl(f"no host in {url[:200]!r}")
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username or parts.password:
        raise BadUrl("links with a user name or password are not fetched")
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _tracking(k)], doseq=True
    )
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def _tracking(name: str) -> bool:
    name = name.lower()
    return name.startswith("utm_") or name in TRACKING_PARAMS


def outlet_of(url: str) -> str:
    """A readable outlet name from a URL when the page names none: its host without `www.`."""
    host = urlsplit(url).hostname or url
    return host.removeprefix("www.")
