"""A stop while answers are being written, on SQLite and PostgreSQL: the work under way is drained
before the store closes, a store refuses any use once closed, and nothing crashes (issue 19: a
SQLite connection closed under a listener's UPDATE crashed the process)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bot.stores.store import open_sqlite, open_store
from bot.stores.types import Question, StoreUnavailable
from tests.app.test_app import free_port, wait_until_serving
from tests.hang import finishes
from tests.served import SIGNING_SECRET, RunningApp
from tests.stopping import ANSWER_DELAY_SECONDS, QUESTIONS, ask, unsettled

ROOT = Path(__file__).resolve().parents[2]
LOOPS = 20


@pytest.fixture(params=("sqlite", "postgresql"))
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bot.db'}"
    return request.getfixturevalue("postgres_url")


def test_the_app_stopped_while_answers_are_written_drains_them_first(database_url):
    """LOOPS starts and stops, each while answers are under way (tests/stopping.py), in a child
    process: a crash is its exit status, not pytest's end."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.stopping", database_url, str(LOOPS)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"exit status {done.returncode}:\n{done.stdout}\n{done.stderr[-3000:]}"
    assert f"{LOOPS} loops stopped cleanly" in done.stdout


def test_a_closed_store_refuses_any_use(database_url):
    store = open_store(database_url)
    assert store.answers.record(question("before"), "worker-1", 15.0)
    store.close()
    uses = {
        "counts": store.announcements.counts,
        "record": lambda: store.answers.record(question("after"), "worker-1", 15.0),
        "state": lambda: store.answers.state("before"),
        "feeds": store.feeds.all,
    }
    assert {name: refusal(use) for name, use in uses.items()} == dict.fromkeys(uses, "refused")
    reopened = open_store(database_url)
    try:
        assert reopened.answers.state("before") == "answering"
        assert reopened.answers.state("after") is None, "nothing was written after the close"
    finally:
        reopened.close()


def test_a_connection_is_closed_only_once_the_statement_it_runs_is_done(tmp_path):
    """Another thread's statement under way holds the close back; that thread's next statement
    fails with StoreUnavailable. In a child process: a connection closed under the statement may
    crash it."""
    assert finishes(lambda: close_under_a_statement(tmp_path / "bot.db")) == {
        "close waited": True,
        "held statement": 1,
        "next statement": "StoreUnavailable",
    }


def close_under_a_statement(path: Path) -> dict:
    store = open_sqlite(path)
    entered, release, closed = threading.Event(), threading.Event(), threading.Event()
    seen: dict = {}

    def hold() -> int:
        entered.set()
        release.wait(30)
        return 1

    def use() -> None:
        db = store.database._connection()
        db.create_function("hold", 0, hold)
        db.execute("SELECT hold()")  # its first step runs hold(); the close may come right after it
        seen["held statement"] = 1
        closed.wait(30)
        try:
            db.execute("SELECT 1")
        except StoreUnavailable:
            seen["next statement"] = "StoreUnavailable"

    user = threading.Thread(target=use)
    user.start()
    assert entered.wait(30)
    closer = threading.Thread(target=store.close)
    closer.start()
    closer.join(0.2)
    seen["close waited"] = closer.is_alive()
    release.set()
    closer.join(30)
    closed.set()
    user.join(30)
    return seen


def refusal(use) -> str:
    """ "refused" when `use()` raises StoreUnavailable saying the store was closed; else what it did."""
    try:
        return f"went through: {use()!r}"
    except StoreUnavailable as error:
        return "refused" if "closed" in str(error) else f"StoreUnavailable: {error}"
    except Exception as error:
        return repr(error)


def question(question_id: str) -> Question:
    return Question(
        id=question_id, kind="mention", text="Mistral", user="U1", channel="C1", asked_at=1.0, thread_ts="1.0"
    )


def test_sigterm_during_answers_stops_python_m_bot_serve_cleanly(fake_slack, articles_dir, tmp_path):
    """The platform's SIGTERM while answers are being sent: exit status 0, "Stopping" logged, no
    error, and every question acknowledged answered or left for another replica."""
    database = tmp_path / "store.db"
    for _ in range(3):
        fake_slack.calls.clear()
        fake_slack.delay_next("response_url", ANSWER_DELAY_SECONDS, times=QUESTIONS)
        process, app = serve_in_a_process(fake_slack, articles_dir, f"sqlite:///{database}", tmp_path)
        acknowledged: list[str] = []
        senders = [threading.Thread(target=ask, args=(app, f"q{n}", acknowledged)) for n in range(QUESTIONS)]
        try:
            for sender in senders:
                sender.start()
            fake_slack.wait_for("response_url")
            process.send_signal(signal.SIGTERM)
            errors = process.communicate(timeout=60)[1].decode()
        finally:
            process.kill()
        for sender in senders:
            sender.join(30)
        assert process.returncode == 0, errors
        assert "Stopping" in errors
        assert not [line for line in errors.splitlines() if " ERROR " in line or " CRITICAL " in line], errors
        assert unsettled(fake_slack, f"sqlite:///{database}", acknowledged) == []


def serve_in_a_process(
    slack, articles: Path, database_url: str, folder: Path
) -> tuple[subprocess.Popen, RunningApp]:
    port = free_port()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.url,
        "SLASH_COMMAND": "/mistral",
        "PORT": str(port),
        "ARTICLES_DIR": str(articles),
        "DATABASE_URL": database_url,
        "PYTHONPATH": str(ROOT),
    }
    env.pop("SLACK_APP_TOKEN", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    app = RunningApp(slack, f"http://127.0.0.1:{port}")
    wait_until_serving(f"{app.base_url}/healthz", process)
    return process, app
