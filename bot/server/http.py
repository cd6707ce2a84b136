"""Running the app: HTTP under waitress (POST /slack/events, GET /healthz), or Socket Mode."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterable

import waitress
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress import wasyncore

from bot.app import RunningApp, build_app
from bot.posting.worker import STOP_SECONDS
from bot.server.gate import MAX_BODY_BYTES, SlackGate
from bot.server.health import HealthRegistry
from bot.server.startup import Stopped
from bot.settings import Settings, SettingsError, check_slack_credentials
from bot.stores.types import StoreUnavailable

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
HTTP_THREADS = 16
SIGNAL_CHECK_SECONDS = 0.5

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]


def build_wsgi_app(bolt_app: App | None, health: HealthRegistry, *, signing_secret: str = "") -> WsgiApp:
    """The HTTP surface: Slack's requests (through the gate, to Bolt), and the health check.

    Without `bolt_app` (Socket Mode, where Slack's requests come over the socket and are not signed)
    only the health check is served.
    """
    slack = (
        SlackGate(SlackRequestHandler(bolt_app, path=EVENTS_PATH), signing_secret)
        if bolt_app is not None
        else _not_found
    )

    def wsgi_app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO")
        if path == HEALTH_PATH and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            return health_check(health, start_response)
        if path == EVENTS_PATH:
            return slack(environ, start_response)
        return _not_found(environ, start_response)

    return wsgi_app


def health_check(health: HealthRegistry, start_response: Callable) -> Iterable[bytes]:
    """200 with each part's state and counts; 503 when a part is broken."""
    snapshot = health.snapshot()
    index = snapshot["parts"].get("index", {})
    shown = {"status": snapshot["status"], **{k: index[k] for k in ("articles", "passages") if k in index}}
    body = json.dumps({**shown, "parts": snapshot["parts"]}).encode()
    status = "503 Service Unavailable" if snapshot["status"] == "broken" else "200 OK"
    start_response(
        status,
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
        ],
    )
    return [body]


def _not_found(environ: dict, start_response: Callable) -> Iterable[bytes]:
    start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
    return [b"Not Found"]


def create_http_server(
    wsgi_app: WsgiApp,
    *,
    host: str = "0.0.0.0",
    port: int = 3000,
    threads: int = HTTP_THREADS,
    max_body_bytes: int = MAX_BODY_BYTES,
):
    """A waitress server (multi-threaded, production grade); `.run()` serves until `stop_http_server`."""
    return waitress.create_server(
        wsgi_app,
        host=host,
        port=port,
        threads=threads,
        ident="mistral-news",
        # waitress refuses a larger Content-Length (413) before reading the body, and stops a chunked one.
        max_request_body_size=max_body_bytes + 1,
    )


def stop_http_server(server) -> None:
    """Stop a server whose `run()` loop is in another thread, without pulling sockets from under it.

    Its listening socket is closed first (no new connection), then the worker threads finish the
    requests under way (STOP_SECONDS at most; those still queued are not served: Slack sends them
    again), their responses are sent, and the loop closes every socket itself (through waitress's
    trigger), so it ends cleanly.
    """
    socket_map = server._map  # waitress's private socket map: the loop runs while it is not empty
    if not _in_loop(server, lambda: wasyncore.dispatcher.close(server)):
        return
    tasks = server.task_dispatcher
    tasks.shutdown(cancel_pending=False, timeout=STOP_SECONDS)
    _in_loop(server, lambda: _close_channels(socket_map, server.trigger, keep_trigger=bool(tasks.threads)))


def _in_loop(server, action: Callable[[], None]) -> bool:
    """Run `action` in the server loop's thread; False when the loop had already ended (its trigger is
    gone), in which case every socket left is closed here."""
    try:
        server.trigger.pull_trigger(action)
    except OSError as error:
        log.warning("Stopping the HTTP server directly: %s", error)
        wasyncore.close_all(server._map)
        return False
    return True


def _close_channels(socket_map: dict, trigger, *, keep_trigger: bool) -> None:
    """In the loop's thread: send what the channels still hold, and close them, and the trigger
    unless a request still under way needs it (a pull on its closed pipe would write into whatever
    file took its number)."""
    for channel in list(socket_map.values()):
        if channel is trigger:
            continue
        if channel.writable():
            channel.handle_write()
        channel.close()
    if not keep_trigger:
        trigger.close()


def serve(settings: Settings) -> None:
    """Listen at once, then start (token, store, index, folder) while serving; until stopped.

    A setting that is missing or wrong (including a token Slack refuses) ends it with one line and
    status 2.
    """
    try:
        check_slack_credentials(settings)
        app = build_app(settings)
    except SettingsError as error:
        _cannot_start(error)
    stopping = threading.Event()

    def on_sigterm(signum, frame) -> None:
        """A platform stopping the process (SIGTERM) gets the same clean stop as Ctrl-C, whether the app
        is starting or serving; a second SIGTERM meanwhile does not cut that stop short. The handler only
        sets flags: an exception raised wherever the main thread happens to be could be swallowed there."""
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stopping.set()
        app.stop_soon()

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        server = listen(app, settings)
    except OSError as error:
        _cannot_start(
            SettingsError(
                f"PORT {settings.port} cannot be listened on ({error.strerror or error}): "
                "stop the program using it, or set PORT to a free port."
            )
        )
    try:
        app.start()
        if settings.socket_mode and not stopping.is_set():
            app.connect_socket_mode()
            log.info("Connected to Slack in Socket Mode")
        # A signal the kernel hands another thread runs its handler only when the main thread runs
        # Python code again: a wait without a timeout could hold the stop back for good.
        while not stopping.wait(SIGNAL_CHECK_SECONDS):
            pass
        log.info("Stopping")
    except (SettingsError, StoreUnavailable) as error:
        _cannot_start(error)
    except (KeyboardInterrupt, Stopped):
        log.info("Stopping")
    finally:
        stop_http_server(server)
        app.stop()


def listen(app: RunningApp, settings: Settings):
    """The HTTP server for `app`, serving from a thread: Slack's requests (HTTP mode) and /healthz."""
    bolt = None if settings.socket_mode else app.bolt
    wsgi_app = build_wsgi_app(bolt, app.health, signing_secret=settings.slack_signing_secret)
    server = create_http_server(wsgi_app, port=settings.port, threads=2 if bolt is None else HTTP_THREADS)
    threading.Thread(target=server.run, name="http", daemon=True).start()
    served = HEALTH_PATH if bolt is None else f"{EVENTS_PATH} and {HEALTH_PATH}"
    log.info("Serving %s on port %d; starting", served, settings.port)
    return server


def _cannot_start(error: SettingsError | StoreUnavailable):
    print(f"Cannot start: {error}", file=sys.stderr)
    raise SystemExit(2) from None
