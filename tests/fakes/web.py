"""A stand-in for the web: news sites and their feeds on a real HTTP server on loopback.

It serves tests/fixtures/web/site (pages of five outlets and a feed in each format) with `{base}`
replaced by its own URL, answers conditional GETs with 304 (ETag and Last-Modified), and serves the
hostile cases a news reader meets: a 10,000-item feed, 50 MB of HTML, binary content behind .html,
a redirect loop, a page that never finishes, a non-UTF-8 page. Tests can replace or add a file
(`put`), make a path fail for a while (`fail`) or answer slowly (`slow`), and read every request it
received (`requests`).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import defaultdict, deque
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

SITE = Path(__file__).resolve().parent.parent / "fixtures" / "web" / "site"
ARTICLES = SITE.parent / "articles"
LAST_MODIFIED = formatdate(1_735_689_600, usegmt=True)  # 2025-01-01
HUGE_FEED_ITEMS = 10_000
HUGE_PAGE_BYTES = 50 * 1024 * 1024
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".rdf": "application/rdf+xml; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
    ".xml": "application/xml",
}


class FakeWeb:
    """The sites on 127.0.0.1; usable as a context manager."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self._files: dict[str, tuple[bytes, str]] = {}
        self._failures: dict[str, deque[int]] = defaultdict(deque)
        self._delays: dict[str, float] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self.base = ""

    def start(self) -> FakeWeb:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeWeb:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- what tests change --------------------------------------------------------------------------

    def url(self, path: str) -> str:
        return self.base + path

    def put(self, path: str, body: str | bytes, content_type: str | None = None) -> None:
        """Serve `body` at `path` from now on (`{base}` is replaced in text)."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        kind = content_type or CONTENT_TYPES.get(Path(path).suffix, "text/html; charset=utf-8")
        with self._lock:
            self._files[path] = (data, kind)

    def fail(self, path: str, status: int = 503, times: int = 1) -> None:
        """The next `times` requests for `path` get `status`."""
        with self._lock:
            self._failures[path].extend([status] * times)

    def slow(self, path: str, seconds: float) -> None:
        """Answer `path` `seconds` after each request from now on (a page that takes its time)."""
        with self._lock:
            self._delays[path] = seconds

    def requested(self, path: str) -> list[dict]:
        """The requests received for `path` (query ignored), in order."""
        with self._lock:
            return [r for r in self.requests if r["path"] == path]

    def page_requests(self) -> list[dict]:
        with self._lock:
            return [r for r in self.requests if r["path"].endswith(".html")]

    # -- serving ------------------------------------------------------------------------------------

    def content(self, path: str) -> tuple[bytes, str] | None:
        with self._lock:
            if path in self._files:
                data, kind = self._files[path]
                return data.replace(b"{base}", self.base.encode()), kind
        if path == "/feeds/huge.rss":
            return huge_feed(self.base), CONTENT_TYPES[".rss"]
        file = (SITE / path.lstrip("/")).resolve()
        if not file.is_relative_to(SITE) or not file.is_file():
            return None
        kind = CONTENT_TYPES.get(file.suffix, "application/octet-stream")
        if path.startswith("/latin/"):
            kind = "text/html"  # no charset in the header: the page's meta tag says ISO-8859-1
        return file.read_bytes().replace(b"{base}", self.base.encode()), kind


def huge_feed(base: str) -> bytes:
    """An RSS 2.0 feed of 10,000 items, newest first (about 2 MB)."""
    items = "".join(
        f"<item><title>Archive item {n}</title><link>{base}/archive/{n}.html</link>"
        f"<guid>archive-{n}</guid><pubDate>Mon, 06 Jan 2025 08:00:00 +0000</pubDate>"
        f"<description>Archived note number {n} about Mistral AI.</description></item>"
        for n in range(HUGE_FEED_ITEMS, 0, -1)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Archive</title><link>{base}/</link>'
        f"{items}</channel></rss>"
    ).encode()


def _handler_for(web: FakeWeb) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            with web._lock:
                web.requests.append({"path": path, "headers": dict(self.headers), "at": time.monotonic()})
                status = web._failures[path].popleft() if web._failures.get(path) else None
                delay = web._delays.get(path, 0.0)
            web._stopping.wait(delay)
            if status is not None:
                return self._send(status, b"<html><body>Service unavailable</body></html>", "text/html")
            quirk = QUIRKS.get(path)
            if quirk is not None:
                return quirk(self)
            found = web.content(path)
            if found is None:
                return self._send(404, b"<html><body><h1>Not found</h1></body></html>", "text/html")
            data, kind = found
            etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag or (
                not self.headers.get("If-None-Match")
                and self.headers.get("If-Modified-Since") == LAST_MODIFIED
            ):
                return self._send(304, b"", None, {"ETag": etag, "Last-Modified": LAST_MODIFIED})
            self._send(200, data, kind, {"ETag": etag, "Last-Modified": LAST_MODIFIED})

        def _send(self, status: int, body: bytes, kind: str | None, headers: dict | None = None) -> None:
            self.send_response(status)
            if kind:
                self.send_header("Content-Type", kind)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)

        # -- the hostile pages ------------------------------------------------------------------------

        def huge(self, declared: bool) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            if declared:
                self.send_header("Content-Length", str(HUGE_PAGE_BYTES))
            self.send_header("Connection", "close")
            self.end_headers()
            chunk = b"<p>" + b"Mistral AI news filler text. " * 2000 + b"</p>\n"
            sent = 0
            try:
                self.wfile.write(b"<html><body>")
                while sent < HUGE_PAGE_BYTES and not web._stopping.is_set():
                    self.wfile.write(chunk)
                    sent += len(chunk)
            except OSError:
                pass  # the client gave up, as it should
            self.close_connection = True

        def hang(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            try:
                self.wfile.write(b"<html><head><title>Loading")
                self.wfile.flush()
                web._stopping.wait(120)
            except OSError:
                pass
            self.close_connection = True

        def trickle(self) -> None:
            """Headers one short line at a time, each well within any read timeout, never ending."""
            try:
                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                while not web._stopping.wait(0.2):
                    self.wfile.write(b"X-Waiting: still\r\n")
                    self.wfile.flush()
            except OSError:
                pass
            self.close_connection = True

        def redirect(self, location: str, status: int = 302) -> None:
            self._send(status, b"", "text/html", {"Location": location})

    QUIRKS = {
        "/quirks/huge.html": lambda h: h.huge(declared=True),
        "/quirks/huge-chunked.html": lambda h: h.huge(declared=False),
        "/quirks/hang.html": lambda h: h.hang(),
        "/quirks/trickle.html": lambda h: h.trickle(),
        "/quirks/binary.html": lambda h: h._send(200, bytes(range(256)) * 400, "text/html"),
        "/quirks/binary-typed.html": lambda h: h._send(200, b"\x89PNG\r\n" + bytes(4000), "image/png"),
        "/quirks/loop-a.html": lambda h: h.redirect("/quirks/loop-b.html"),
        "/quirks/loop-b.html": lambda h: h.redirect("/quirks/loop-a.html"),
        "/quirks/moved.html": lambda h: h.redirect("/ledger/2025/02/le-chat-downloads.html", 301),
        "/quirks/to-localhost.html": lambda h: h.redirect(
            f"http://localhost:{h.server.server_address[1]}/ledger/2025/02/le-chat-downloads.html"
        ),
    }
    return Handler
