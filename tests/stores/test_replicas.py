"""Two replicas (two served apps in one process, each with its own store and pool) on one PostgreSQL
schema and one shared articles folder: an article added through either, or through the command line,
is searchable on both, and so is its removal; each story is announced once; a feed is polled by one."""

from __future__ import annotations

import json
from collections import Counter
from contextlib import ExitStack

import pytest

from search import parse_article
from tests.cli.test_cli import run_bot
from tests.e2e.test_serving_news import CHANNEL, NEWS, announcements
from tests.fakes import FakeWeb
from tests.polling import wait_until
from tests.served import RunningApp, served_app

TITLE = "Mistral AI raises 600 million euros"
FEED = "/feeds/wire.atom"
ITEMS = 3  # its items, each a page and a story of its own


NEWS_ID = parse_article(NEWS, "new.txt").id  # ids are derived from the text alone


def searchable(app: RunningApp) -> bool:
    """The news is in the replica's own index (what its answers come from)."""
    return NEWS_ID in app.app.index


@pytest.fixture
def replicas(fake_slack, articles_dir, postgres_url):
    with ExitStack() as stack:
        yield [
            stack.enter_context(served_app(fake_slack, articles_dir, postgres_url, notify_channel=CHANNEL))
            for _ in range(2)
        ]


def test_a_new_file_is_announced_once_and_searchable_on_both_replicas(replicas, fake_slack, articles_dir):
    (articles_dir / "new.txt").write_text(NEWS, encoding="utf-8")
    for app in replicas:
        wait_until(lambda app=app: searchable(app), timeout=20)
    wait_until(lambda: announcements(fake_slack), timeout=20)
    answer = replicas[1].command("General Catalyst", name="second")
    assert TITLE in json.dumps(answer["blocks"], ensure_ascii=False)
    (articles_dir / "new.txt").unlink()
    for app in replicas:
        wait_until(lambda app=app: not searchable(app), timeout=20)
    assert len(announcements(fake_slack)) == 1


def test_an_article_ingested_or_removed_from_the_command_line_reaches_every_replica(
    replicas, fake_slack, articles_dir, tmp_path, postgres_url
):
    path = tmp_path / "elsewhere.txt"
    path.write_text(NEWS, encoding="utf-8")
    env = {"DATABASE_URL": postgres_url, "ARTICLES_DIR": str(articles_dir)}
    assert run_bot("ingest", str(path), env=env).returncode == 0
    for app in replicas:
        wait_until(lambda app=app: searchable(app), timeout=20)
    wait_until(lambda: announcements(fake_slack), timeout=20)
    assert run_bot("remove", NEWS_ID, env=env).returncode == 0
    for app in replicas:
        wait_until(lambda app=app: not searchable(app), timeout=20)
    assert len(announcements(fake_slack)) == 1


def test_a_feed_is_polled_by_one_replica_and_its_items_announced_once(
    fake_slack, articles_dir, postgres_url, tmp_path
):
    with FakeWeb() as web, ExitStack() as stack:
        apps = [
            stack.enter_context(
                served_app(
                    fake_slack,
                    articles_dir,
                    postgres_url,
                    notify_channel=CHANNEL,
                    feeds=web.url(FEED),
                    feed_poll_seconds=600,
                    fetch_allow_hosts=web.base.removeprefix("http://"),
                )
            )
            for _ in range(2)
        ]
        wait_until(lambda: len(announcements(fake_slack)) == ITEMS, timeout=60)
        seeds = len(list(articles_dir.glob("*.txt")))
        for app in apps:
            wait_until(lambda app=app: app.app.index.article_count == seeds + ITEMS, timeout=30)
        # Each replica's poller has since run again (the index follows the store from its loop).
        (articles_dir / "later.txt").write_text(NEWS, encoding="utf-8")
        for app in apps:
            wait_until(lambda app=app: searchable(app), timeout=20)
        assert len(web.requested(FEED)) == 1
        pages = Counter(r["path"] for r in web.page_requests())
        assert len(pages) == ITEMS and set(pages.values()) == {1}  # each item's page fetched once
        titles = [c["blocks"][0]["text"]["text"] for c in announcements(fake_slack)]
        assert len(titles) == len(set(titles))
