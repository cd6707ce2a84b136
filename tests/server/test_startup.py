"""Starting: the server listens before the slow part of the start, says "loading" meanwhile, and the
bot token is checked with Slack (refused: one line and exit 2; unreachable: retried, one line each)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bot.app import build_app
from bot.settings import Settings
from tests.fakes.signing import JSON, event_body, mention_event, slash_command_body, url_verification_body
from tests.fakes.slack_api import BOT_USER_ID
from tests.polling import wait_until
from tests.served import SIGNING_SECRET, free_port, http, served_app, start_quietly

ROOT = Path(__file__).resolve().parents[2]


def health(app) -> tuple[int, dict]:
    status, body = http("GET", f"{app.base_url}/healthz")
    return status, json.loads(body)


def test_while_starting_health_says_loading_and_questions_get_a_private_still_loading(
    fake_slack, articles_dir, tmp_path
):
    fake_slack.hold("auth.test")  # the start waits on Slack: nothing is loaded yet
    with served_app(fake_slack, articles_dir, f"sqlite:///{tmp_path / 's.db'}", wait_ready=False) as app:
        status, starting = health(app)
        assert status == 200 and starting["status"] == "loading"
        assert starting["parts"]["index"]["status"] == "loading"
        assert starting["parts"]["slack"]["status"] == "loading"

        status, body = app.post(slash_command_body("valuation", fake_slack.response_url()))
        assert status == 200
        answer = json.loads(body)
        assert answer["response_type"] == "ephemeral"
        assert "Still loading the articles, try again in a few seconds" in answer["text"]

        mention = mention_event(f"<@{BOT_USER_ID}> valuation")
        assert app.event(mention) == 200
        [told] = fake_slack.wait_for("chat.postEphemeral")
        assert "Still loading" in told["text"] and told["user"] == mention["user"]
        assert fake_slack.calls_to("chat.postMessage") == [] and fake_slack.calls_to("response_url") == []

        status, body = app.post(url_verification_body("challenge-while-loading"), content_type=JSON)
        assert status == 200 and "challenge-while-loading" in body, "Slack can verify the URL meanwhile"

        fake_slack.release("auth.test")
        wait_until(lambda: health(app)[1]["status"] == "ok")
        assert health(app)[1]["parts"]["index"]["articles"] == 5
        assert "*valuation*" in json.dumps(app.command("valuation")["blocks"])


def test_health_reports_each_part_with_its_counts(fake_slack, articles_dir, tmp_path):
    with served_app(fake_slack, articles_dir, f"sqlite:///{tmp_path / 's.db'}", notify_channel="C1") as app:
        status, report = health(app)
    assert status == 200 and report["status"] == "ok"
    assert report["articles"] == 5 and report["passages"] > 5
    parts = report["parts"]
    assert set(parts) == {"index", "slack", "store", "watcher", "feeds"}
    assert all(part["status"] == "ok" for part in parts.values())
    assert parts["index"]["articles"] == 5
    assert parts["slack"]["bot_user_id"] == BOT_USER_ID
    assert parts["store"]["announcements"] == {"skipped": 5}
    assert parts["watcher"]["waiting_for_store"] == 0
    assert (parts["feeds"]["feeds"], parts["feeds"]["failing"]) == (0, [])


def settings_for(slack_url: str, articles: Path, tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack_url,
        articles_dir=str(articles),
        database_url=f"sqlite:///{tmp_path / 's.db'}",
    )


def test_slack_unreachable_at_start_is_retried_with_one_line_per_attempt(
    fake_slack, articles_dir, tmp_path, caplog
):
    caplog.set_level(logging.INFO)
    fake_slack.fail_next("auth.test", status=503, error="service_unavailable", times=2)
    fake_slack.hold("auth.test")
    app = build_app(settings_for(fake_slack.url, articles_dir, tmp_path))
    starting = threading.Thread(target=start_quietly, args=(app,), daemon=True)
    starting.start()
    try:
        wait_until(lambda: len(fake_slack.calls_to("auth.test")) == 3, timeout=20)
        slack = app.health.part("slack")
        assert slack.status == "broken" and "cannot reach Slack" in slack.reason
        assert app.health.snapshot()["status"] == "broken"
        fake_slack.release("auth.test")
        assert app.ready.wait(20)
        assert app.health.part("slack").status == "ok"
    finally:
        app.stop()
        starting.join(20)
    retries = [r for r in caplog.records if r.name == "bot.server.startup" and r.levelno == logging.WARNING]
    assert len(retries) == 2
    assert all("Cannot reach Slack" in r.getMessage() and "\n" not in r.getMessage() for r in retries)
    assert not [r for r in caplog.records if r.exc_info]


def run_serve(env: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
        "PYTHONPATH": str(ROOT),
        "PORT": str(free_port()),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("mode", ["http", "socket"])
@pytest.mark.parametrize("error", ["invalid_auth", "token_revoked", "not_authed"])
def test_a_token_slack_refuses_stops_the_start_with_one_line(fake_slack, articles_dir, tmp_path, mode, error):
    fake_slack.fail_next("auth.test", status=200, error=error)
    env = {
        "SLACK_BOT_TOKEN": "xoxb-1-a-mistyped-token",
        "SLACK_API_URL": fake_slack.url,
        "ARTICLES_DIR": str(articles_dir),
    }
    env.update(
        {"SLACK_APP_TOKEN": "xapp-1-A0FAKEAPP1-test"} if mode == "socket" else {"SLACK_SIGNING_SECRET": "s"}
    )
    done = run_serve(env, tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    [line] = [line for line in done.stderr.splitlines() if "SLACK_BOT_TOKEN" in line]
    assert error in line and line.startswith("Cannot start")
    assert len(done.stderr.splitlines()) <= 4, done.stderr
    assert fake_slack.calls_to("apps.connections.open") == [], "no Socket Mode connection with a bad token"


def test_socket_mode_reconnects_after_the_connection_drops(fake_slack, articles_dir, tmp_path):
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
        "PYTHONPATH": str(ROOT),
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_APP_TOKEN": "xapp-1-A0FAKEAPP1-test",
        "SLACK_API_URL": fake_slack.url,
        "ARTICLES_DIR": str(articles_dir),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    socket_mode = fake_slack.socket_mode
    try:
        socket_mode.wait_for_connections(1)
        wait_until(lambda: http("GET", f"http://127.0.0.1:{port}/healthz")[0] == 200, timeout=30)
        wait_until(lambda: json.loads(http("GET", f"http://127.0.0.1:{port}/healthz")[1])["status"] == "ok")
        health = json.loads(http("GET", f"http://127.0.0.1:{port}/healthz")[1])
        assert health["parts"]["socket_mode"]["status"] == "ok"
        ask_over_the_socket(socket_mode, "env-1", "Microsoft")
        fake_slack.wait_for("chat.postMessage")

        socket_mode.drop()  # no close frame: the client finds out from its pings, then reconnects
        socket_mode.wait_for_connections(2, timeout=90)
        assert len(fake_slack.calls_to("apps.connections.open")) >= 2
        wait_until(lambda: http("GET", f"http://127.0.0.1:{port}/healthz")[0] == 200)
        ask_over_the_socket(socket_mode, "env-2", "valuation")
        replies = fake_slack.wait_for("chat.postMessage", 2)
        assert "valuation" in replies[-1]["text"]
    finally:
        process.terminate()
        process.wait(timeout=10)


def ask_over_the_socket(socket_mode, envelope_id: str, question: str) -> None:
    body = json.loads(event_body(mention_event(f"<@{BOT_USER_ID}> {question}")))
    socket_mode.send(
        {"envelope_id": envelope_id, "type": "events_api", "payload": body, "accepts_response_payload": False}
    )
    socket_mode.wait_for_ack(envelope_id)


def test_an_app_token_slack_refuses_stops_the_start_with_one_line(fake_slack, articles_dir, tmp_path):
    fake_slack.fail_next("apps.connections.open", status=200, error="invalid_auth")
    env = {
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_APP_TOKEN": "xapp-1-A0MISTYPED-token",
        "SLACK_API_URL": fake_slack.url,
        "ARTICLES_DIR": str(articles_dir),
    }
    done = run_serve(env, tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    [line] = [line for line in done.stderr.splitlines() if "SLACK_APP_TOKEN" in line]
    assert "invalid_auth" in line and line.startswith("Cannot start")


@pytest.mark.parametrize("mode", ["http", "socket"])
def test_slack_unreachable_at_start_is_one_line_per_attempt_in_both_modes(articles_dir, tmp_path, mode):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
        "PYTHONPATH": str(ROOT),
        "PORT": str(free_port()),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_API_URL": f"http://127.0.0.1:{free_port()}/api/",  # nobody listens there
        "ARTICLES_DIR": str(articles_dir),
        **(
            {"SLACK_APP_TOKEN": "xapp-1-A0FAKEAPP1-test"}
            if mode == "socket"
            else {"SLACK_SIGNING_SECRET": "s"}
        ),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"], cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stderr), daemon=True)
    reader.start()
    try:
        wait_until(lambda: sum("Cannot reach Slack" in line for line in lines) >= 2, timeout=30)
        assert process.poll() is None, "it keeps trying"
    finally:
        process.terminate()
        process.wait(timeout=10)
        reader.join(5)
    assert not [line for line in lines if "Traceback" in line or line.startswith(" ")]
    attempts = [line for line in lines if "Cannot reach Slack" in line]
    assert "(attempt 1:" in attempts[0] and "(attempt 2:" in attempts[1]
    others = [line for line in lines if "Cannot reach Slack" not in line]
    assert len(others) <= 4, others  # the start line, the stop line, and Bolt's token warning at most


def test_slack_is_checked_while_running_and_a_revoked_token_breaks_health(
    fake_slack, articles_dir, tmp_path, caplog
):
    caplog.set_level(logging.INFO)
    app = build_app(settings_for(fake_slack.url, articles_dir, tmp_path))
    app.slack_check_seconds = 0.1
    starting = threading.Thread(target=start_quietly, args=(app,), daemon=True)
    starting.start()
    try:
        assert app.ready.wait(30)
        fake_slack.fail_next("auth.test", status=200, error="token_revoked", times=3)
        wait_until(lambda: app.health.part("slack").status == "broken")
        assert "token_revoked" in app.health.part("slack").reason
        assert app.health.snapshot()["status"] == "broken"
        wait_until(lambda: app.health.part("slack").status == "ok")
    finally:
        app.stop()
        starting.join(20)
    changes = [
        r.getMessage() for r in caplog.records if r.name == "bot.server.health" and "Slack" in r.getMessage()
    ]
    assert changes == [
        "Slack is broken: Slack refuses the bot token (token_revoked): check SLACK_BOT_TOKEN",
        "Slack works again",
    ]
