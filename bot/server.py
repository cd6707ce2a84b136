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
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress import wasyncore

from bot.app import start_app
from bot.settings import Settings, SettingsError, check_slack_credentials
from search import SearchIndex

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
HTTP_THREADS = 16

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]


def build_wsgi_app(
    bolt_app: App | None, index: SearchIndex, sources_health: Callable[[], dict] | None = None
) -> WsgiApp:
    """The HTTP surface: Slack's requests to Bolt, and a health check with the index's counts.

    Without `bolt_app` (Socket Mode, where Slack's requests come over the socket and are not signed)
    only the health check is served.
    """
    slack = SlackRequestHandler(bolt_app, path=EVENTS_PATH) if bolt_app is not None else _not_found

    def wsgi_app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            counts = {"status": "ok", "articles": index.article_count, "passages": index.passage_count}
            if sources_health is not None:
                counts["sources"] = sources_health()
            body = json.dumps(counts).encode()
            start_response(
                "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            )
            return [body]
        return slack(environ, start_response)

    return wsgi_app


def _not_found(environ: dict, start_response: Callable) -> Iterable[bytes]:
    start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
    return [b"Not Found"]


def create_http_server(
    wsgi_app: WsgiApp, *, host: str = "0.0.0.0", port: int = 3000, threads: int = HTTP_THREADS
):
    """A waitress server (multi-threaded, production grade); `.run()` serves until `stop_http_server`."""
    return waitress.create_server(wsgi_app, host=host, port=port, threads=threads, ident="mistral-news")


def stop_http_server(server) -> None:
    """Stop a server whose `run()` loop is in another thread, without pulling sockets from under it.

    The loop itself closes every socket (through waitress's trigger), so it ends cleanly; then the
    worker threads finish the requests under way.
    """
    socket_map = server._map  # waitress's private socket map: the loop runs while it is not empty
    server.trigger.pull_trigger(lambda: wasyncore.close_all(socket_map))
    server.task_dispatcher.shutdown(cancel_pending=False)


def serve(settings: Settings) -> None:
    """Serve until stopped; a setting that is missing or wrong ends it with one line and status 2."""
    try:
        check_slack_credentials(settings)
        running = start_app(settings)
    except SettingsError as error:
        print(f"Cannot start: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        if settings.socket_mode:
            health = create_http_server(
                build_wsgi_app(None, running.index, running.health), port=settings.port, threads=2
            )
            threading.Thread(target=health.run, name="healthz", daemon=True).start()
            log.info("Connecting to Slack in Socket Mode; %s on port %d", HEALTH_PATH, settings.port)
            SocketModeHandler(running.bolt, settings.slack_app_token).start()
            return
        server = create_http_server(
            build_wsgi_app(running.bolt, running.index, running.health), port=settings.port
        )
        log.info("Serving %s and %s on port %d", EVENTS_PATH, HEALTH_PATH, settings.port)
        server.run()
    except KeyboardInterrupt:
        log.info("Stopping")
    finally:
        running.stop()


def _exit_on_sigterm(signum, frame) -> None:
    """A platform stopping the process (SIGTERM) gets the same clean stop as Ctrl-C."""
    raise KeyboardInterrupt
