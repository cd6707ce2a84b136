"""The SQLite store lost under the running app (its file deleted, or replaced by an empty one): the
restart announces, once, the articles that arrived while it was lost, and none announced before (the
saved index lists what the app knew; the channel's history is read before posting)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bot.stores.articles import SqliteStore
from search import parse_article
from tests.fakes.slack_api import BOT_ID, BOT_USER_ID
from tests.polling import wait_until
from tests.posting.test_notifier import FakeSlackWithHistory
from tests.served import http, served_app

CHANNEL = "C0NEWS0020"
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
LATER_ID = parse_article(LATER, "later.txt").id


def delete(database: Path) -> None:
    database.unlink()


def replace_by_an_empty_file(database: Path) -> None:
    empty = database.with_name("empty.db")
    empty.touch()
    os.replace(empty, database)


LOSSES = [delete, replace_by_an_empty_file]


@pytest.fixture
def slack():
    with FakeSlackWithHistory() as fake:
        yield fake


@pytest.fixture
def database(tmp_path) -> Path:
    path = tmp_path / "data" / "bot.db"
    path.parent.mkdir()
    return path


def serve(slack, articles_dir, database):
    return served_app(slack, articles_dir, f"sqlite:///{database}", notify_channel=CHANNEL)


def posts(slack) -> list[str]:
    return [json.dumps(c["blocks"]) for c in slack.calls_to("chat.postMessage") if c["channel"] == CHANNEL]


def announced(slack, title: str) -> int:
    return sum(title in post for post in posts(slack))


def health(app) -> tuple[int, dict]:
    status, body = http("GET", f"{app.base_url}/healthz")
    return status, json.loads(body)


def lose_the_store_and_drop_later(slack, articles_dir, database, lose) -> None:
    """A first run: NEWS arrives and is announced, the store is lost, LATER arrives meanwhile."""
    with serve(slack, articles_dir, database) as served:
        (articles_dir / "news.txt").write_text(NEWS, "utf-8")
        wait_until(lambda: announced(slack, "600 million euros") == 1, timeout=30)
        lose(database)
        wait_until(lambda: health(served)[0] == 503, timeout=30)
        (articles_dir / "later.txt").write_text(LATER, "utf-8")
        wait_until(lambda: health(served)[1]["parts"]["watcher"]["waiting_for_store"] == 1, timeout=30)
        assert announced(slack, "Mistral NeMo") == 0


@pytest.mark.parametrize("lose", LOSSES)
def test_a_restart_after_a_lost_store_announces_what_arrived_meanwhile_once(
    slack, articles_dir, database, lose
):
    lose_the_store_and_drop_later(slack, articles_dir, database, lose)
    with serve(slack, articles_dir, database) as served:
        store = served.app.news.store
        wait_until(lambda: store.announcement_state(LATER_ID) == "posted", timeout=30)
        assert store.counts() == {"skipped": 6, "posted": 1}, "the seeds and NEWS are not announced again"
        assert served.app.index.article_count == 7 and store.baseline_done()
        assert health(served)[0] == 200
    assert announced(slack, "Mistral NeMo") == 1 and announced(slack, "600 million euros") == 1
    assert len(posts(slack)) == 2
    assert slack.calls_to("conversations.history"), "the channel was looked at before posting"


def test_an_article_of_the_lost_store_found_in_the_channel_is_not_posted_again(slack, articles_dir, database):
    lose_the_store_and_drop_later(slack, articles_dir, database, delete)
    # LATER was announced by a run whose saved index did not get it: the channel's history holds it.
    metadata = {"event_type": "mistral_news_announcement", "event_payload": {"article_id": LATER_ID}}
    slack.history.insert(
        0, {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "ts": "1.000001", "metadata": metadata}
    )
    with serve(slack, articles_dir, database) as served:
        store = served.app.news.store
        wait_until(lambda: store.announcement_state(LATER_ID) == "posted", timeout=30)
    assert announced(slack, "Mistral NeMo") == 0 and len(posts(slack)) == 1


def test_an_empty_store_put_back_while_running_announces_only_what_is_new(slack, articles_dir, database):
    with serve(slack, articles_dir, database) as served:
        (articles_dir / "news.txt").write_text(NEWS, "utf-8")
        wait_until(lambda: announced(slack, "600 million euros") == 1, timeout=30)
        fresh = database.with_name("fresh.db")
        SqliteStore(fresh).close()  # a store of ours, never started on (a new one, or an empty backup)
        os.replace(fresh, database)
        wait_until(lambda: served.app.news.store.reopened == 1, timeout=30)
        (articles_dir / "later.txt").write_text(LATER, "utf-8")
        store = served.app.news.store
        wait_until(lambda: store.announcement_state(LATER_ID) == "posted", timeout=30)
        wait_until(lambda: store.counts() == {"skipped": 6, "posted": 1}, timeout=30)
    assert announced(slack, "Mistral NeMo") == 1 and announced(slack, "600 million euros") == 1
    assert len(posts(slack)) == 2


def test_a_store_put_back_is_read_without_the_last_writes_of_the_file_it_replaced(tmp_path):
    store = SqliteStore(tmp_path / "bot.db")
    try:
        store.record(parse_article(NEWS, "news.txt"), announce=False)
        store.mark_baseline_done()
        fresh = tmp_path / "fresh.db"
        SqliteStore(fresh).close()
        os.replace(fresh, tmp_path / "bot.db")
        assert store.problem() is None and store.reopened == 1
        assert store.counts() == {} and not store.baseline_done()
    finally:
        store.close()
