"""Feed polls on time, on every store (in-memory fake, SQLite, PostgreSQL), with the local web and a
short interval: the next poll comes `poll_seconds` after a poll ends however long it took, a failing
feed is requested less often than a healthy one, a clean stop gives its feeds back to the next start,
and processes sharing the feeds poll each one in turn, a killed one's feeds once its lease runs out.
Counts and order only: slow pages make a poll outlast the interval, never a measured time."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from bot.news.pipeline import Pipeline
from bot.news.sources.http import Fetcher
from bot.news.sources.poller import FeedPoller
from bot.stores.store import Store
from search import SearchIndex
from tests.fakes import FakeWeb
from tests.polling import wait_until

WIRE = "/feeds/wire.atom"
WIRE_PAGES = (
    "/wire/2025/09/funding-wire.html",
    "/wire/2025/06/datacenter-france.html",
    "/wire/2025/02/stellantis-partnership.html",
)
FEEDS = (WIRE, "/feeds/daily.json", "/feeds/ledger.rss", "/feeds/journal.rdf")
SLOW_PAGE_SECONDS = 0.4  # three of them: a poll of the wire outlasts every interval below


@pytest.fixture
def web():
    with FakeWeb() as server:
        for page in WIRE_PAGES:
            server.slow(page, SLOW_PAGE_SECONDS)
        yield server


def poller(store: Store, poll_seconds: float) -> FeedPoller:
    fetcher = Fetcher(timeout=5.0, deadline=10.0)
    return FeedPoller(store.feeds, fetcher, Pipeline(store, SearchIndex()), poll_seconds=poll_seconds)


@contextmanager
def polling(store: Store, poll_seconds: float = 0.2) -> Iterator[FeedPoller]:
    """A poller running on `store` until the block ends, then stopped cleanly."""
    running = poller(store, poll_seconds).start()
    try:
        yield running
    finally:
        running.stop()


def add(store: Store, web: FakeWeb, *paths: str) -> None:
    for path in paths:
        store.feeds.add(web.url(path), "cli")


class Ticking:
    """A clock a second further on at each reading: whatever comes later reads a later time."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        self.now += 1
        return self.now


def test_the_next_poll_is_measured_from_the_end_of_the_poll(backend, web):
    store = backend.open(Ticking())
    add(store, web, WIRE)
    assert poller(store, poll_seconds=60).poll(store.feeds.get(web.url(WIRE))) == len(WIRE_PAGES)
    last_ingested = max(article.added_at for article in store.articles.active_articles())
    assert store.feeds.get(web.url(WIRE)).next_poll_at > last_ingested + 60


def test_a_poll_longer_than_the_interval_is_followed_by_the_next_one(backend, web):
    store = backend.open()
    add(store, web, WIRE)
    with polling(store, poll_seconds=0.2):
        wait_until(lambda: len(web.requested(WIRE)) >= 3, timeout=30)
    paths = [request["path"] for request in web.requests]
    second_poll = [n for n, path in enumerate(paths) if path == WIRE][1]
    assert set(WIRE_PAGES) <= set(paths[:second_poll])  # the first poll ended before the next
    assert Counter(paths[second_poll:]) == Counter({WIRE: len(paths) - second_poll})  # 304s


def test_a_failing_feed_is_requested_less_often_than_a_healthy_one(backend, web):
    web.fail("/feeds/ledger.rss", 503, times=1000)
    store = backend.open()
    add(store, web, WIRE, "/feeds/ledger.rss")
    with polling(store, poll_seconds=0.1):
        wait_until(lambda: len(web.requested(WIRE)) >= 10, timeout=60)
    failing = store.feeds.get(web.url("/feeds/ledger.rss"))
    assert failing.failures == len(web.requested("/feeds/ledger.rss")) < len(web.requested(WIRE))


def test_a_clean_stop_gives_its_feeds_back_and_the_next_start_polls_them_at_once(backend, web):
    store = backend.open()
    add(store, web, *FEEDS)
    with polling(store, poll_seconds=600):  # no feed polled twice by itself in this test
        wait_until(lambda: web.page_requests(), timeout=30)  # stopped in the middle of a poll
    feeds = store.feeds.all()
    assert [feed.claimed_by for feed in feeds] == [None] * len(FEEDS)
    unfinished = [feed.url for feed in feeds if feed.last_ok_at is None]
    assert web.url(WIRE) in unfinished
    before = Counter(request["path"] for request in web.requests)
    restarted = backend.open()  # as the next process would
    with polling(restarted, poll_seconds=600):
        wait_until(lambda: not any(restarted.feeds.pending_items(url, 1) for url in unfinished), timeout=60)
        wait_until(lambda: all(feed.last_ok_at for feed in restarted.feeds.all()), timeout=30)
    after = Counter(request["path"] for request in web.requests)
    paths = [url.removeprefix(web.base) for url in unfinished]
    assert [path for path in paths if after[path] > before[path]] == paths
    assert set(after[page] for page in WIRE_PAGES) == {1}  # each page once, across the restart


def test_two_processes_share_the_feeds_and_poll_each_in_turn(backend, web):
    first, second = backend.open(), backend.open()
    add(first, web, *FEEDS)
    with polling(first), polling(second):
        wait_until(lambda: all(len(web.requested(path)) >= 4 for path in FEEDS), timeout=60)
    pages = Counter(request["path"] for request in web.page_requests())
    assert set(pages.values()) == {1}  # no feed was ever polled by both at once
    assert {feed.claimed_by for feed in first.feeds.all()} == {None}


def test_a_killed_processs_feeds_are_taken_by_another_once_its_lease_runs_out(backend, web):
    store = backend.open()
    add(store, web, WIRE)
    assert len(backend.open().feeds.claim_due("killed", lease_seconds=1.0)) == 1  # then it died
    with polling(backend.open()):
        wait_until(lambda: len(web.requested(WIRE)) >= 2, timeout=30)
    assert store.feeds.get(web.url(WIRE)).claimed_by is None
