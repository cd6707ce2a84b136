"""The database file deleted, replaced or made read-only under the running app: /healthz says so (503
with the reason), nothing is recorded into a file nobody will read again, and what arrived meanwhile
is recorded and announced, once, when the store works again."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.polling import wait_until
from tests.served import http, served_app

CHANNEL = "C0NEWS0003"
NEWS = (
    "date 2024-06-11\nMistral AI raises 600 million euros\n\n"
    "Mistral AI raised 600 million euros on Tuesday from investors led by General Catalyst. "
    "The round values the Paris start-up at about $6 billion, two years after its creation."
)
LATER = (
    "date 2024-07-18\nMistral AI and Nvidia release Mistral NeMo\n\n"
    "Mistral AI and Nvidia released Mistral NeMo, a 12 billion parameter model, on Thursday. "
    "The model handles a context of 128,000 tokens and is published under the Apache 2.0 licence."
)


@pytest.fixture
def database(tmp_path) -> Path:
    return tmp_path / "data" / "bot.db"


@pytest.fixture
def served(fake_slack, articles_dir, database):
    database.parent.mkdir()
    with served_app(fake_slack, articles_dir, f"sqlite:///{database}", notify_channel=CHANNEL) as app:
        yield app


def health(app) -> tuple[int, dict]:
    status, body = http("GET", f"{app.base_url}/healthz")
    return status, json.loads(body)


def announced(app, title: str) -> int:
    return sum(title in json.dumps(c["blocks"]) for c in app.slack.calls_to("chat.postMessage"))


def backup(database: Path, to: Path) -> Path:
    """A consistent copy of the live store, as an operator makes one (VACUUM INTO)."""
    with sqlite3.connect(database) as db:
        db.execute("VACUUM INTO ?", (str(to),))
    return to


def states_in_file(database: Path) -> dict[str, str]:
    """Announcement states by article title, read from the file now at the path."""
    with sqlite3.connect(database) as db:
        rows = db.execute(
            "SELECT a.title, n.state FROM articles a JOIN announcements n ON n.article_id = a.id"
        ).fetchall()
    return dict(rows)


def wait_for_broken_store(app, reason: str) -> dict:
    wait_until(lambda: health(app)[0] == 503, timeout=30)
    report = health(app)[1]
    assert report["status"] == "broken" and report["parts"]["store"]["status"] == "broken"
    assert reason in report["parts"]["store"]["reason"]
    return report


def test_a_deleted_database_is_reported_and_nothing_is_lost_once_it_is_back(served, database, tmp_path):
    copy = backup(database, tmp_path / "backup.db")
    database.unlink()
    wait_for_broken_store(served, "deleted")

    (Path(served.app.settings.articles_dir) / "news.txt").write_text(NEWS)
    wait_until(lambda: health(served)[1]["parts"]["watcher"]["waiting_for_store"] == 1, timeout=30)
    assert announced(served, "600 million euros") == 0

    shutil.copy(copy, database)  # the operator puts the backup back
    wait_until(lambda: health(served)[0] == 200, timeout=30)
    wait_until(lambda: announced(served, "600 million euros") == 1, timeout=30)
    (Path(served.app.settings.articles_dir) / "later.txt").write_text(LATER)
    wait_until(lambda: announced(served, "Mistral NeMo") == 1, timeout=30)
    assert announced(served, "600 million euros") == 1
    assert states_in_file(database)["Mistral AI raises 600 million euros"] == "posted"


def test_a_replaced_database_is_used_and_nothing_goes_into_the_old_file(served, database, tmp_path):
    copy = backup(database, tmp_path / "replacement.db")
    os.replace(copy, database)
    (Path(served.app.settings.articles_dir) / "news.txt").write_text(NEWS)
    wait_until(lambda: announced(served, "600 million euros") == 1, timeout=30)
    wait_until(
        lambda: states_in_file(database).get("Mistral AI raises 600 million euros") == "posted", timeout=30
    )
    assert health(served)[0] == 200


def make_read_only(path: Path, on: bool) -> bool:
    """chmod for a user; for root, whom modes do not stop, the immutable flag (chattr), if it works here."""
    if os.geteuid() != 0:
        path.chmod(0o444 if on else 0o644)
        return True
    return subprocess.run(["chattr", "+i" if on else "-i", str(path)], capture_output=True).returncode == 0


def test_a_read_only_database_is_reported_and_caught_up_once_writable(served, database):
    if not make_read_only(database, True):
        pytest.skip("chattr +i is not available here (needed to make a file read-only for root)")
    try:
        wait_for_broken_store(served, "read-only")
        (Path(served.app.settings.articles_dir) / "news.txt").write_text(NEWS)
        wait_until(lambda: health(served)[1]["parts"]["watcher"]["waiting_for_store"] == 1, timeout=30)
        assert announced(served, "600 million euros") == 0
    finally:
        make_read_only(database, False)
    wait_until(lambda: health(served)[0] == 200, timeout=30)
    wait_until(lambda: announced(served, "600 million euros") == 1, timeout=30)
    assert states_in_file(database)["Mistral AI raises 600 million euros"] == "posted"


def test_a_broken_store_is_logged_once(served, database, caplog):
    caplog.set_level(logging.INFO)
    database.unlink()
    wait_for_broken_store(served, "deleted")
    (Path(served.app.settings.articles_dir) / "news.txt").write_text(NEWS)
    wait_until(lambda: health(served)[1]["parts"]["watcher"]["waiting_for_store"] == 1, timeout=30)
    broken = [r for r in caplog.records if "deleted" in r.getMessage()]
    assert len(broken) == 1 and broken[0].levelname == "ERROR"
    assert not [r for r in caplog.records if r.exc_info]
