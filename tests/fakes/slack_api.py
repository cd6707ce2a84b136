"""A stand-in for the Slack Web API: a real HTTP server on loopback that records every call.

Point a WebClient at `FakeSlack.url` (or set SLACK_API_URL to it) and assert on `calls`. It answers
like Slack does, including 429 rate limits with a Retry-After header, so retry logic runs for real.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.fakes.socket_mode import FakeSocketMode

RESPONSE_URL_METHOD = "response_url"
TEAM_ID = "T0FAKE0001"
BOT_USER_ID = "U0FAKEBOT1"
BOT_ID = "B0FAKEBOT1"


class FakeSlack:
    """Slack's Web API on 127.0.0.1; usable as a context manager."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self._failures: dict[str, deque[dict[str, Any]]] = defaultdict(deque)
        self._delays: dict[str, deque[float]] = defaultdict(deque)
        self._holds: dict[str, threading.Event] = {}
        self.socket_mode = FakeSocketMode()  # the WebSocket endpoint apps.connections.open hands out
        self._changed = threading.Condition()
        self._ts = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base = ""
        self.timezones: dict[str, str] = {}  # users.info's tz by user id (Europe/Paris otherwise)
        self.memberships: dict[str, list[str]] = {}  # users.conversations: channel ids by user id

    # -- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        self.socket_mode.start()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        host, port = self._server.server_address[:2]
        self.base = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-slack", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        for method in list(self._holds):
            self.release(method)
        self.socket_mode.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The Web API base URL, as WebClient(base_url=...) and SLACK_API_URL expect it."""
        return f"{self.base}/api/"

    def response_url(self, name: str = "r1") -> str:
        """A URL on this server; POSTs to it are recorded as calls to method "response_url"."""
        return f"{self.base}/response/{name}"

    # -- assertions -----------------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        """The params of every call to `method`, in order."""
        with self._changed:
            return [call["params"] for call in self.calls if call["method"] == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 15.0) -> list[dict[str, Any]]:
        """Block until `method` was called `count` times; AssertionError when it was not in time."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.calls_to(method)) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [call["method"] for call in self.calls]
                    raise AssertionError(
                        f"expected {count} call(s) to {method} within {timeout}s; calls: {seen}"
                    )
                self._changed.wait(remaining)
            return self.calls_to(method)

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int | None = 1,
        error: str = "ratelimited",
        times: int = 1,
    ) -> None:
        """Answer the next `times` calls to `method` with an error (a 429 carries Retry-After)."""
        with self._changed:
            for _ in range(times):
                self._failures[method].append({"status": status, "retry_after": retry_after, "error": error})

    def delay_next(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Carry out the next `times` calls to `method` at once, but answer only after `seconds`:
        a slow Slack, whose caller times out although the message was posted."""
        with self._changed:
            self._delays[method].extend([seconds] * times)

    def drop_next(self, method: str) -> None:
        """Cut the connection of the next call to `method` without carrying it out or answering."""
        self.fail_next(method, status=0, error="dropped")

    def _delay_for(self, method: str) -> float:
        with self._changed:
            queue = self._delays.get(method)
            return queue.popleft() if queue else 0.0

    def hold(self, method: str) -> None:
        """Keep the calls to `method` waiting (recorded, unanswered) until `release(method)`.

        A call answered with a failure queued by `fail_next` is not held.
        """
        with self._changed:
            self._holds[method] = threading.Event()

    def release(self, method: str) -> None:
        with self._changed:
            held = self._holds.pop(method, None)
        if held is not None:
            held.set()

    def _wait_if_held(self, method: str) -> None:
        with self._changed:
            held = self._holds.get(method)
        if held is not None:
            held.wait(60)

    # -- serving --------------------------------------------------------------------------------------

    def _record(self, call: dict[str, Any]) -> dict[str, Any] | None:
        """Store the call; the failure to answer with, if one is queued for its method."""
        with self._changed:
            self.calls.append(call)
            self._changed.notify_all()
            queue = self._failures.get(call["method"])
            failure = queue.popleft() if queue else None
            call["status"] = failure["status"] if failure else 200
            return failure

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://fake.slack.com/",
                "team": "Fake Team",
                "user": "mistral-news",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
        if method in ("chat.postMessage", "chat.update"):
            ts = params.get("ts") or self._fresh_ts()
            message = {
                "type": "message",
                "user": BOT_USER_ID,
                "bot_id": BOT_ID,
                "text": params.get("text", ""),
                "ts": ts,
            }
            if "blocks" in params:
                message["blocks"] = params["blocks"]
            if "thread_ts" in params:
                message["thread_ts"] = params["thread_ts"]
            return {"ok": True, "channel": params.get("channel", "C0FAKE0001"), "ts": ts, "message": message}
        if method == "users.conversations":
            channels = self.memberships.get(params.get("user", ""), [])
            return {"ok": True, "channels": [{"id": c, "name": c.lower()} for c in channels]}
        if method == "users.info":
            user = params.get("user", "")
            timezone = self.timezones.get(user, "Europe/Paris")
            return {"ok": True, "user": {"id": user, "name": user.lower(), "tz": timezone, "is_bot": False}}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.socket_mode.url}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._fresh_ts()}
        return {"ok": True}

    def _fresh_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"


def _decode_params(content_type: str, body: bytes, query: str) -> dict[str, Any]:
    params: dict[str, Any] = dict(parse_qsl(query))
    if not body:
        return params
    text = body.decode("utf-8")
    if content_type.startswith("application/json"):
        decoded = json.loads(text)
        if isinstance(decoded, dict):
            params.update(decoded)
        return params
    for key, value in parse_qsl(text, keep_blank_values=True):
        params[key] = _maybe_json(value) if key in ("blocks", "attachments", "metadata") else value
    return params


def _maybe_json(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


def _handler_for(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self._handle()

        def do_GET(self) -> None:
            self._handle()

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            params = _decode_params(self.headers.get("Content-Type", ""), body, parts.query)
            if parts.path.startswith("/response/"):
                method = RESPONSE_URL_METHOD
            else:
                method = parts.path.removeprefix("/api/").strip("/")
            call = {"method": method, "params": params, "headers": dict(self.headers), "path": parts.path}
            failure = fake._record(call)
            if failure is None:
                fake._wait_if_held(method)
            if failure is not None and failure["status"] == 0:
                self.close_connection = True
            elif failure is not None:
                self._send(
                    failure["status"], {"ok": False, "error": failure["error"]}, failure["retry_after"]
                )
            elif method == RESPONSE_URL_METHOD:
                time.sleep(fake._delay_for(method))
                self._send(200, {"ok": True})
            else:
                call["response"] = fake._answer(method, params)
                time.sleep(fake._delay_for(method))
                self._send(200, call["response"])

        def _send(self, status: int, payload: dict[str, Any], retry_after: int | None = None) -> None:
            data = json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            if status == 429 and retry_after is not None:
                self.send_header("Retry-After", str(retry_after))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data)  # the client may have given up waiting (see delay_next)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the calls are in `FakeSlack.calls`."""

    return Handler
