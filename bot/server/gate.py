"""The gate in front of Bolt: only a small, signed, well-formed request from Slack gets through, once.

Everything else is refused with 400, 401 or 413 and one short log line (never the body, never a
traceback): anyone on the internet can reach POST /slack/events, so nothing they send may cost more
than a bounded read, fill the log, or make Bolt fail.

- The body is capped (`MAX_BODY_BYTES`; Slack's requests are a few KB): a larger Content-Length is
  refused before reading a byte, and a chunked body is read only up to the cap.
- The signature is Slack's (HMAC-SHA256 of `v0:{timestamp}:{body}` with the signing secret), with a
  timestamp within five minutes.
- A signature already seen is a replay (Slack signs each delivery anew): acknowledged, not handled
  again. Signatures are remembered for the five-minute window only, so memory stays bounded.
- The body must have the shape of one of Slack's requests (form or JSON, with the fields Bolt reads).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from io import BytesIO
from urllib.parse import parse_qs

from slack_bolt.request.internals import parse_body
from slack_sdk.signature import SignatureVerifier

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
WINDOW_SECONDS = 5 * 60
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
READ_CHUNK = 64 * 1024

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]


class Refused(Exception):
    """A request we do not pass on: the HTTP status, and the reason (short, never the body)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


STATUS_LINES = {
    400: "400 Bad Request",
    401: "401 Unauthorized",
    405: "405 Method Not Allowed",
    413: "413 Content Too Large",
}


class ThrottledLog:
    """At most `limit` refusal lines per `window` seconds: a flood of bad requests cannot fill the disk.

    The lines left out are counted and told in one line when the next window starts.
    """

    def __init__(
        self,
        logger: logging.Logger,
        limit: int = 20,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.limit = limit
        self.window = window
        self._clock = clock
        self._window_end = float("-inf")
        self._logged = 0
        self._left_out = 0
        self._lock = threading.Lock()

    def warning(self, message: str, *args: object) -> None:
        with self._lock:
            now = self._clock()
            left_out = 0
            if now >= self._window_end:
                left_out, self._left_out, self._logged = self._left_out, 0, 0
                self._window_end = now + self.window
            self._logged += 1
            keep = self._logged <= self.limit
            if not keep:
                self._left_out += 1
        if left_out:
            self.logger.warning(
                "%d more requests were refused in the last %.0f s (not logged)", left_out, self.window
            )
        if keep:
            self.logger.warning(message, *args)


class RecentSignatures:
    """Signatures of the requests let through lately (for two windows); thread-safe, bounded by time."""

    def __init__(self, window: float = WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self._clock = clock
        self._expiry: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, signature: str) -> bool:
        """True the first time `signature` is seen within the window (and remember it)."""
        now = self._clock()
        with self._lock:
            while self._expiry and next(iter(self._expiry.values())) <= now:
                self._expiry.popitem(last=False)
            if signature in self._expiry:
                return False
            # Kept two windows: its timestamp may be up to a window ahead of our clock, and stays
            # acceptable for a window after that; once forgotten, it can no longer be accepted.
            self._expiry[signature] = now + 2 * self.window
            return True

    def __len__(self) -> int:
        return len(self._expiry)


@dataclass
class SlackGate:
    """WSGI middleware for POST /slack/events: checks a request, then hands it to `app` (Bolt)."""

    app: WsgiApp
    signing_secret: str
    max_body_bytes: int = MAX_BODY_BYTES
    recent: RecentSignatures | None = None
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        self.recent = self.recent or RecentSignatures()
        self._refusals = ThrottledLog(log)
        self._verifier = SignatureVerifier(self.signing_secret, clock=_Clock(self.clock))

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        try:
            body = self.check(environ)
        except Refused as refusal:
            self._refusals.warning(
                "Refused %s %s from %s: %s",
                environ.get("REQUEST_METHOD", "?"),
                environ.get("PATH_INFO", "?"),
                environ.get("REMOTE_ADDR", "?"),
                refusal.reason,
            )
            return _plain(start_response, STATUS_LINES[refusal.status], refusal.reason)
        if not self.recent.first_time(environ["HTTP_X_SLACK_SIGNATURE"]):
            log.info("Ignored a replayed request from %s (same signature)", environ.get("REMOTE_ADDR", "?"))
            return _plain(start_response, "200 OK", "")
        environ["wsgi.input"] = BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)

    def check(self, environ: dict) -> bytes:
        """The body of a request fit for Bolt; Refused otherwise."""
        if environ.get("REQUEST_METHOD") != "POST":
            raise Refused(405, "only POST is accepted here")
        body = read_body(environ, self.max_body_bytes)
        self.check_signature(environ, body)
        check_shape(environ.get("CONTENT_TYPE", ""), body)
        return body

    def check_signature(self, environ: dict, body: bytes) -> None:
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
        signature = environ.get("HTTP_X_SLACK_SIGNATURE", "")
        if not timestamp or not signature:
            raise Refused(401, "not signed (X-Slack-Signature and X-Slack-Request-Timestamp are required)")
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
            raise Refused(401, "the request timestamp is not a number")
        if abs(self.clock() - int(timestamp)) > WINDOW_SECONDS:
            raise Refused(401, "the request timestamp is more than five minutes away")
        if not signature.isascii():
            raise Refused(401, "invalid signature")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise Refused(400, "the body is not UTF-8") from None
        if not self._verifier.is_valid(text, timestamp, signature):
            raise Refused(401, "invalid signature")


def read_body(environ: dict, limit: int) -> bytes:
    """At most `limit` bytes of the body; Refused(413) for a larger one, before reading it when it says so."""
    declared = environ.get("CONTENT_LENGTH") or ""
    stream = environ.get("wsgi.input")
    if declared:
        if not declared.isdigit():
            raise Refused(400, "Content-Length is not a number")
        if int(declared) > limit:
            raise Refused(413, f"the body is over {limit:,} bytes")
        body = stream.read(int(declared)) if stream is not None and int(declared) else b""
        if len(body) != int(declared):
            raise Refused(400, "the body is shorter than its Content-Length")
        return body
    # No length (a chunked body): read up to one byte past the cap, in chunks.
    chunks: list[bytes] = []
    size = 0
    while stream is not None and size <= limit:
        chunk = stream.read(min(READ_CHUNK, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise Refused(413, f"the body is over {limit:,} bytes")
    return b"".join(chunks)


def check_shape(content_type: str, body: bytes) -> None:
    """Refused(400) unless `body` looks like one of Slack's requests as Bolt will read it (its own
    parser decides: a body starting with `{` is JSON, a form with `payload` is that JSON)."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type not in (JSON, FORM):
        raise Refused(400, f"unsupported content type {media_type[:40]!r}")
    text = body.decode("utf-8")
    if media_type == FORM:
        _check_form(text)
    try:
        request = parse_body(text, media_type)
    except (ValueError, RecursionError):
        raise Refused(400, "the body (or its payload) is not valid JSON") from None
    if not isinstance(request, dict):
        raise Refused(400, "the body (or its payload) is not a JSON object")
    if "command" in request and "type" not in request:
        if not str(request["command"]).startswith("/"):
            raise Refused(400, "the command does not start with /")
        _check_response_url(request.get("response_url"), required=True)
    elif "ssl_check" not in request:
        _check_request(request)


def _check_form(text: str) -> None:
    try:
        form = parse_qs(text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=200)
    except ValueError:
        raise Refused(400, "the form body is malformed") from None
    if any(len(values) > 1 for values in form.values()):
        raise Refused(400, "a form field is repeated")


OBJECTS = ("event", "view", "container", "channel", "message", "state")
OBJECTS_OR_IDS = ("team", "user", "enterprise")
EVENT_TEXT_FIELDS = ("text", "user", "channel", "ts", "thread_ts", "channel_type", "subtype", "bot_id")


def _check_request(request: dict) -> None:
    """An event, an interaction payload...: the fields Bolt and our listeners read have their types."""
    if not isinstance(request.get("type"), str):
        raise Refused(400, "the request has no type")
    for name in OBJECTS:
        if name in request and not isinstance(request[name], dict):
            raise Refused(400, f"{name} is not an object")
    for name in OBJECTS_OR_IDS:
        if request.get(name) is not None and not isinstance(request[name], dict | str):
            raise Refused(400, f"{name} is neither an object nor an id")
    for name in ("authorizations", "actions"):
        if name in request and not (
            isinstance(request[name], list) and all(isinstance(item, dict) for item in request[name])
        ):
            raise Refused(400, f"{name} is not a list of objects")
    # A button in a message comes with a response_url; one in the App Home tab (a view) does not.
    in_message = (request.get("container") or {}).get("type") != "view"
    _check_response_url(
        request.get("response_url"), required=request["type"] == "block_actions" and in_message
    )
    event = request.get("event")
    if request["type"] == "event_callback":
        if not (isinstance(event, dict) and isinstance(event.get("type"), str)):
            raise Refused(400, "an event_callback without an event object")
        for name in EVENT_TEXT_FIELDS:
            if name in event and not isinstance(event[name], str):
                raise Refused(400, f"the event's {name} is not text")
        if event["type"] == "app_mention" and not ("channel" in event and "ts" in event):
            raise Refused(400, "a mention without its channel and ts")
    if request["type"] == "url_verification" and not isinstance(request.get("challenge"), str):
        raise Refused(400, "a url_verification without a challenge")


def _check_response_url(url: object, *, required: bool = False) -> None:
    """A web address (Slack's are https://hooks.slack.com/...), where answers are sent; or absent."""
    if url is None and required:
        raise Refused(400, "no response_url")
    if url is not None and not (isinstance(url, str) and url.startswith(("https://", "http://"))):
        raise Refused(400, "the response_url is not a web address")


def _plain(start_response: Callable, status: str, text: str) -> list[bytes]:
    body = text.encode()
    start_response(
        status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    )
    return [body]


class _Clock:
    """slack_sdk's clock interface, on our clock (tests may move time)."""

    def __init__(self, now: Callable[[], float]) -> None:
        self.now = now
