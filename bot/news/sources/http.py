"""Fetching feeds and pages without letting a web site hurt us.

Every request has a connect/read timeout and an overall deadline (a page that never finishes is cut
off), every response a size cap (from Content-Length, and again while reading), at most
`max_redirects` redirects, only HTML and feed content types, a clear User-Agent, and conditional GET
(ETag, Last-Modified). At most `max_in_flight` requests run at once, never two to the same host.
"""

from __future__ import annotations

import contextlib
import http.client
import re
import socket
import ssl
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import InitVar, dataclass
from typing import Literal
from urllib.parse import urljoin, urlsplit

from bot.news.sources.address_guard import AddressPolicy, RefusedAddress
from bot.news.sources.urls import BadUrl, normalise_url

USER_AGENT = "MistralNewsBot/0.1 (Slack news desk; +https://github.com/mistral-news-bot)"
MAX_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
TIMEOUT_SECONDS = 10.0
DEADLINE_SECONDS = 30.0
MAX_IN_FLIGHT = 4
CHUNK = 64 * 1024

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/xml",
        "text/xml",
        "application/feed+json",
        "application/json",
        "text/plain",  # some servers label their feeds so; the parser decides
    }
)
ErrorKind = Literal["refused", "unreachable", "timeout", "too_big", "bad_type", "http", "redirects", "binary"]


class FetchError(Exception):
    """A fetch that failed; `kind` sorts the failures (permanent ones are `refused`, `bad_type`...)."""

    def __init__(self, kind: ErrorKind, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status

    @property
    def temporary(self) -> bool:
        """Worth trying again later: the network, a timeout, a 5xx or a 429."""
        return self.kind in ("unreachable", "timeout") or (
            (self.kind == "http" and (self.status or 0) >= 500) or self.status == 429
        )


@dataclass(frozen=True)
class Response:
    url: str  # the final URL, after redirects
    status: int  # 200, or 304 (not modified: `body` is empty)
    body: bytes
    content_type: str
    charset: str | None
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    def text(self) -> str:
        """The body decoded: the declared charset, the page's meta charset, UTF-8, then Windows-1252."""
        for charset in (self.charset, _meta_charset(self.body), "utf-8"):
            if charset:
                try:
                    return self.body.decode(charset)
                except (LookupError, UnicodeDecodeError):
                    continue
        return self.body.decode("cp1252", errors="replace")


@dataclass(kw_only=True, eq=False)
class Fetcher:
    """Fetches URLs under the rules above; thread-safe, shared by every source."""

    max_bytes: int = MAX_BYTES
    timeout: float = TIMEOUT_SECONDS
    deadline: float = DEADLINE_SECONDS
    max_redirects: int = MAX_REDIRECTS
    max_in_flight: InitVar[int] = MAX_IN_FLIGHT
    allowed_hosts: frozenset[str] = frozenset()
    user_agent: str = USER_AGENT

    def __post_init__(self, max_in_flight: int) -> None:
        self._slots = threading.BoundedSemaphore(max_in_flight)
        self._hosts: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
        self._hosts_lock = threading.Lock()
        self.requests = 0  # requests sent, for tests and benchmarks

    def fetch(
        self,
        url: str,
        *,
        kinds: frozenset[str] = HTML_TYPES | FEED_TYPES,
        public_only: bool = False,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Response:
        """GET `url`, following redirects; FetchError (or RefusedAddress) when it cannot be had."""
        policy = AddressPolicy(public_only=public_only, allowed_hosts=self.allowed_hosts)
        started = time.monotonic()
        for _ in range(self.max_redirects + 1):
            try:
                url = normalise_url(url)
            except BadUrl as error:
                raise FetchError("refused", str(error)) from None
            with self._turn(urlsplit(url).netloc):
                status, headers, body = self._get(url, policy, started, etag, last_modified)
            if status in (301, 302, 303, 307, 308) and headers.get("location"):
                url = urljoin(url, headers["location"])
                etag = last_modified = None
                continue
            return self._response(url, status, headers, body, kinds)
        raise FetchError("redirects", f"more than {self.max_redirects} redirects")

    @contextmanager
    def _turn(self, host: str) -> Iterator[None]:
        """One of the few request slots, and the host to ourselves."""
        with self._hosts_lock:
            host_lock = self._hosts[host]
        with self._slots, host_lock:
            yield

    def _get(self, url, policy, started, etag, last_modified) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            addresses = policy.addresses(parts.hostname or "", port)
        except RefusedAddress as error:
            raise FetchError("refused", str(error)) from None
        except OSError as error:
            raise FetchError("unreachable", str(error)) from None
        connection = _connection(parts.scheme, parts.hostname or "", port, addresses, self.timeout)
        headers = {"User-Agent": self.user_agent, "Accept": _ACCEPT, "Accept-Encoding": "identity"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        self.requests += 1
        # A server can trickle its headers or body a byte at a time, each read within the timeout:
        # at the deadline the socket is shut, which ends any read under way.
        shut = threading.Event()
        deadline_timer = threading.Timer(
            max(self.deadline - (time.monotonic() - started), 0), _shut, [connection, shut]
        )
        deadline_timer.daemon = True
        deadline_timer.start()
        late = FetchError("timeout", f"no complete answer from {parts.netloc} within {self.deadline:.0f} s")
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            found = {k.lower(): v for k, v in response.getheaders()}
            body = b"" if response.status in (301, 302, 303, 304, 307, 308) else self._read(response, started)
        except TimeoutError:
            raise FetchError("timeout", f"no answer from {parts.netloc} in time") from None
        except (OSError, http.client.HTTPException, ssl.SSLError) as error:
            if shut.is_set():
                raise late from None
            raise FetchError("unreachable", f"{parts.netloc}: {error or type(error).__name__}") from None
        finally:
            deadline_timer.cancel()
            connection.close()
        if shut.is_set():  # what was read before the shutdown is not the whole answer
            raise late
        return response.status, found, body

    def _read(self, response: http.client.HTTPResponse, started: float) -> bytes:
        length = response.getheader("content-length")
        if length and length.isdigit() and int(length) > self.max_bytes:
            raise FetchError("too_big", f"too big ({int(length):,} bytes; the limit is {self.max_bytes:,})")
        chunks, size = [], 0
        while chunk := response.read1(CHUNK):
            size += len(chunk)
            if size > self.max_bytes:
                raise FetchError("too_big", f"too big (over {self.max_bytes:,} bytes)")
            if time.monotonic() - started > self.deadline:
                raise FetchError("timeout", f"the page took more than {self.deadline:.0f} s to arrive")
            chunks.append(chunk)
        return b"".join(chunks)

    def _response(self, url, status, headers, body, kinds) -> Response:
        if status == 304:
            return Response(url, 304, b"", "", None, headers.get("etag"), headers.get("last-modified"))
        if status != 200:
            raise FetchError("http", f"the server answered HTTP {status}", status)
        content_type, charset = _content_type(headers.get("content-type", ""))
        if content_type not in kinds:
            raise FetchError("bad_type", f"not a web page or a feed (it is {content_type or 'untyped'})")
        if b"\x00" in body[:4096]:
            raise FetchError("binary", "binary content, not a web page or a feed")
        return Response(
            url, 200, body, content_type, charset, headers.get("etag"), headers.get("last-modified")
        )


_ACCEPT = (
    "text/html, application/xhtml+xml, application/rss+xml, application/atom+xml, "
    "application/feed+json, application/xml;q=0.9, */*;q=0.1"
)
_META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset=["']?([\w-]+)""", re.IGNORECASE)


def _content_type(value: str) -> tuple[str, str | None]:
    kind, _, params = value.partition(";")
    charset = None
    for param in params.split(";"):
        name, _, found = param.partition("=")
        if name.strip().lower() == "charset":
            charset = found.strip().strip("\"'") or None
    return kind.strip().lower(), charset


def _meta_charset(body: bytes) -> str | None:
    match = _META_CHARSET_RE.search(body[:4096])
    return match.group(1).decode("ascii") if match else None


def _shut(connection: http.client.HTTPConnection, shut: threading.Event) -> None:
    shut.set()
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed
            sock.shutdown(socket.SHUT_RDWR)


def _connect(addresses: list[str], port: int, timeout: float) -> socket.socket:
    """A socket to the first of the checked `addresses` that answers."""
    error: OSError = OSError("no address")
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as failed:
            error = failed
    raise error


class _Connection(http.client.HTTPConnection):
    """Connects to an address checked beforehand, whatever the name resolves to now."""

    def __init__(self, host: str, port: int, addresses: list[str], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._addresses = addresses

    def connect(self) -> None:
        self.sock = _connect(self._addresses, self.port, self.timeout)


class _TlsConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, addresses: list[str], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._addresses = addresses

    def connect(self) -> None:
        sock = _connect(self._addresses, self.port, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _connection(
    scheme: str, host: str, port: int, addresses: list[str], timeout: float
) -> http.client.HTTPConnection:
    kind = _TlsConnection if scheme == "https" else _Connection
    return kind(host, port, addresses, timeout)
