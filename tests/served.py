"""The whole app served over HTTP on loopback for tests and benchmarks, and a way to reach it as Slack does.

Everything is real (store, index, watcher, notifier, Bolt, waitress) but Slack: the FakeSlack stand-in.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from bot.app import build_app
from bot.news.parsing import Parse, parse_file
from bot.server.http import build_wsgi_app, create_http_server, stop_http_server
from bot.server.startup import Stopped
from bot.settings import Settings
from tests.fakes import FakeSlack
from tests.fakes.signing import JSON, block_actions_body, event_body, signed_headers, slash_command_body

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
ANSWER_METHODS = ("chat.postMessage", "chat.postEphemeral", "response_url")


class RunningApp:
    """The app served over HTTP, and ways to reach it as Slack does."""

    def __init__(self, slack: FakeSlack, base_url: str, secret: str = SIGNING_SECRET, app=None) -> None:
        self.slack = slack
        self.base_url = base_url
        self.secret = secret
        self.app = app  # the running app (bot.app.RunningApp), to reach its store and health

    def post(
        self, body: str, *, content_type: str = "application/x-www-form-urlencoded", **signing
    ) -> tuple[int, str]:
        headers = signed_headers(self.secret, body, content_type=content_type, **signing)
        return http("POST", f"{self.base_url}/slack/events", body.encode(), headers)

    def command(self, text: str, name: str = "r1") -> dict:
        """Run the slash command; the private answer it sent to the response_url."""
        status, _ = self.post(slash_command_body(text, self.slack.response_url(name)))
        assert status == 200
        return self.slack.wait_for("response_url")[-1]

    def event(self, event: dict, *, event_id: str | None = None, retry_num: int | None = None) -> int:
        status, _ = self.post(event_body(event, event_id=event_id), content_type=JSON, retry_num=retry_num)
        return status

    def press(self, action_id: str, value: str, *, is_ephemeral: bool = True, name: str = "r2") -> int:
        body = block_actions_body(action_id, value, self.slack.response_url(name), is_ephemeral=is_ephemeral)
        status, _ = self.post(body)
        return status

    def everything_sent(self) -> list[dict]:
        return [call["params"] for call in self.slack.calls if call["method"] in ANSWER_METHODS]


def free_port() -> int:
    """A TCP port free on loopback now (for a server started in another process)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def served_health(port: int, timeout: float = 2.0) -> dict | None:
    """`/healthz` of a server on loopback at `port`, as JSON (a 503's too); None when it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        return json.loads(error.read() or b"{}")
    except (OSError, ValueError):
        return None


def http(method: str, url: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def start_quietly(app) -> None:
    """`app.start()` in a thread: a start cut short by the test's end is no error."""
    with suppress(Stopped):
        app.start()


@contextmanager
def served_app(
    slack: FakeSlack,
    articles: Path,
    database_url: str,
    *,
    notify_channel: str | None = None,
    threads: int = 4,
    wait_ready: bool = True,
    feeds: str = "",
    feed_poll_seconds: float = 1.0,
    fetch_allow_hosts: str = "",
    clock: Callable[[], float] = time.time,
    parse: Parse = parse_file,
) -> Iterator[RunningApp]:
    """`serve()`'s app on a free loopback port, stopped (server, watcher, notifier, store) on exit.

    As `serve()` does, it listens first and starts in the background; with `wait_ready` (the
    default), it is yielded once started (index built, folder caught up).
    """
    settings = Settings(
        _env_file=None,
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack.url,
        slack_app_token=None,
        slash_command="/mistral",
        articles_dir=str(articles),
        database_url=database_url,
        notify_channel=notify_channel,
        feeds=feeds,
        feed_poll_seconds=feed_poll_seconds,
        fetch_allow_hosts=fetch_allow_hosts,
    )
    app = build_app(settings, clock=clock)
    app.parse = parse
    server = create_http_server(
        build_wsgi_app(app.bolt, app.health, signing_secret=SIGNING_SECRET),
        host="127.0.0.1",
        port=0,
        threads=threads,
    )
    threading.Thread(target=server.run, daemon=True).start()
    starting = threading.Thread(target=start_quietly, args=(app,), daemon=True)
    starting.start()
    try:
        if wait_ready:
            assert app.ready.wait(30), "the app did not start"
        yield RunningApp(slack, f"http://127.0.0.1:{server.effective_port}", app=app)
    finally:
        stop_http_server(server)
        app.stop()
        starting.join(timeout=30)
