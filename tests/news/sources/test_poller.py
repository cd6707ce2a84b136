"""Polling feeds, one poll at a time (no thread): only new items, 304s, bounded work, backoff, health."""

from __future__ import annotations

import logging

import pytest

from bot.news.pipeline import Pipeline
from bot.news.sources.http import Fetcher
from bot.news.sources.poller import FeedPoller
from bot.stores.store import open_sqlite
from search import SearchIndex
from tests.fakes import FakeWeb


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def web():
    with FakeWeb() as server:
        yield server


@pytest.fixture
def parts(tmp_path):
    clock = Clock()  # the store's: it measures next polls (the poller gives delays)
    store = open_sqlite(tmp_path / "store.db", clock=clock)
    store.articles.mark_baseline_done()
    index = SearchIndex()
    pipeline = Pipeline(store, index)
    feeds = store.feeds
    poller = FeedPoller(feeds, Fetcher(timeout=1.0, deadline=3.0), pipeline, poll_seconds=60)
    yield store, feeds, poller, clock, index
    store.close()


def poll(feeds, poller, url):
    return poller.poll(feeds.get(url))


def test_a_feed_is_ingested_once_and_a_second_poll_fetches_no_page(web, parts):
    store, feeds, poller, clock, _index = parts
    url = web.url("/feeds/wire.atom")
    feeds.add(url, "cli")
    assert poll(feeds, poller, url) == 3
    assert store.announcements.counts() == {"pending": 3}
    assert {a.outlet for a in store.articles.active_articles()} == {"EuroWire"}
    pages = len(web.page_requests())
    assert poll(feeds, poller, url) == 0
    assert web.requested("/feeds/wire.atom")[-1]["headers"].get("If-None-Match")
    assert len(web.page_requests()) == pages  # 304: no page fetched
    assert feeds.get(url).next_poll_at == clock.now + 60


def test_a_new_item_is_the_only_page_fetched(web, parts):
    store, feeds, poller, _clock, _index = parts
    url = web.url("/feeds/journal.rdf")
    feeds.add(url, "cli")
    poll(feeds, poller, url)
    feed = (web.content("/feeds/journal.rdf")[0]).decode()
    page = "/latin/2025/05/latin1-fr.html"
    item = f'<item rdf:about="{web.base}{page}"><title>Singapour</title><link>{web.base}{page}</link></item>'
    web.put("/feeds/journal.rdf", feed.replace("</rdf:RDF>", item + "</rdf:RDF>"), "application/rdf+xml")
    before = len(web.page_requests())
    assert poll(feeds, poller, url) == 1
    assert [r["path"] for r in web.page_requests()[before:]] == [page]
    [stored] = [a for a in store.articles.active_articles() if a.url == web.url(page)]
    assert stored.title == "Mistral AI ouvre un bureau à Singapour pour l'Asie" and stored.language == "fr"


def test_the_syndicated_copy_joins_the_wire_story_without_an_announcement(web, parts):
    store, feeds, poller, clock, index = parts
    for path in ("/feeds/wire.atom", "/feeds/daily.json"):
        feeds.add(web.url(path), "cli")
        poll(feeds, poller, web.url(path))
        clock.now += 60
    wire = store.articles.by_url(web.url("/wire/2025/09/funding-wire.html"))
    copy = store.articles.by_url(web.url("/daily/2025/09/funding-syndicated.html"))
    assert copy.story == wire.id and wire.story == wire.id
    assert store.announcements.state(copy.id) == "skipped" and store.announcements.state(wire.id) == "pending"
    assert copy.id in index  # searchable and citable
    assert [m.outlet for m in store.articles.story_members(wire.id)] == ["EuroWire", "The Daily Byte"]


def test_the_first_poll_of_a_huge_feed_takes_only_the_newest_items(web, parts):
    _store, feeds, poller, _clock, _index = parts
    url = web.url("/feeds/huge.rss")
    feeds.add(url, "cli")
    poll(feeds, poller, url)
    archive = [r for r in web.requests if r["path"].startswith("/archive/")]
    assert len(archive) == poller.max_items  # pages that 404; their feed text is too short to keep
    assert len(feeds.known_keys(url)) == 10_000
    assert len(feeds.pending_items(url, 100_000)) == poller.max_items  # to retry at the next polls


def test_an_item_whose_page_fails_uses_its_feed_text_or_is_retried_a_few_times(web, parts):
    store, feeds, poller, _clock, _index = parts
    long_text = " ".join(["Mistral AI opened a research lab in Munich with forty engineers."] * 6)
    web.put(
        "/feeds/items.json",
        '{"version": "https://jsonfeed.org/version/1.1", "title": "T", "items": ['
        f'{{"id": "1", "url": "{{base}}/gone/long.html", "title": "Munich lab", "content_text": "{long_text}"}},'
        '{"id": "2", "url": "{base}/gone/short.html", "title": "Short", "content_text": "One line."}]}',
    )
    url = web.url("/feeds/items.json")
    feeds.add(url, "cli")
    assert poll(feeds, poller, url) == 1
    [stored] = store.articles.active_articles()
    assert stored.title == "Munich lab" and stored.url == web.url("/gone/long.html")
    for _ in range(3):
        poll(feeds, poller, url)
    assert len(web.requested("/gone/short.html")) == 3  # tried, then given up
    assert feeds.pending_items(url, 10) == []


def test_errors_back_off_exponentially_and_a_failing_feed_is_reported_once(web, parts, caplog):
    _store, feeds, poller, clock, _index = parts
    url = web.url("/feeds/ledger.rss")
    feeds.add(url, "cli")
    web.fail("/feeds/ledger.rss", 503, times=5)
    delays = []
    with caplog.at_level(logging.WARNING, logger="bot.news.sources.poller"):
        for _ in range(5):
            poll(feeds, poller, url)
            delays.append(feeds.get(url).next_poll_at - clock.now)
    assert delays == [120, 240, 480, 960, 1920]
    reports = [r for r in caplog.records if "keeps failing" in r.getMessage()]
    assert len(reports) == 1
    [failing] = poller.health()["failing"]
    assert failing["url"] == url and failing["failures"] == 5 and "503" in failing["error"]
    assert poll(feeds, poller, url) == 3  # it works again
    assert poller.health() == {"feeds": 1, "failing": []}


@pytest.mark.parametrize(
    "path", ["/feeds/garbage.xml", "/quirks/hang.html", "/quirks/loop-a.html", "/nope.rss"]
)
def test_a_bad_feed_is_a_failure_not_a_crash(web, parts, path):
    _store, feeds, poller, _clock, _index = parts
    feeds.add(web.url(path), "cli")
    assert poll(feeds, poller, web.url(path)) == 0
    assert feeds.get(web.url(path)).failures == 1


def test_a_feed_given_in_slack_cannot_reach_local_addresses(web, parts):
    _store, feeds, poller, _clock, _index = parts
    url = web.url("/feeds/wire.atom")
    feeds.add(url, "slack")
    poll(feeds, poller, url)
    assert "loopback" in feeds.get(url).last_error
    assert web.requested("/feeds/wire.atom") == []


def test_a_taken_down_article_is_not_brought_back_by_its_feed(web, parts):
    store, feeds, poller, _clock, index = parts
    url = web.url("/feeds/ledger.rss")
    feeds.add(url, "cli")
    poll(feeds, poller, url)
    stored = store.articles.by_url(web.url("/ledger/2025/02/le-chat-downloads.html"))
    poller.pipeline.take_down(stored)
    assert stored.id not in index
    feeds.remove(url)  # forgets what the feed listed: everything is new again
    feeds.add(url, "cli")
    poll(feeds, poller, url)
    assert stored.id not in index and store.articles.get(stored.id).taken_down_at is not None


def test_changed_guids_and_a_second_copy_of_the_feed_bring_nothing_back(web, parts):
    store, feeds, poller, _clock, _index = parts
    url = web.url("/feeds/wire.atom")
    feeds.add(url, "cli")
    assert poll(feeds, poller, url) == 3
    feed = web.content("/feeds/wire.atom")[0].decode().replace("tag:eurowire.example,2025:", "tag:moved:")
    web.put("/feeds/wire.atom", feed, "application/atom+xml")
    web.put("/mirror/wire.atom", feed, "application/atom+xml")
    feeds.add(web.url("/mirror/wire.atom"), "cli")
    pages = len(web.page_requests())
    assert poll(feeds, poller, url) == 0
    assert poll(feeds, poller, web.url("/mirror/wire.atom")) == 0
    assert len(web.page_requests()) == pages and store.announcements.counts() == {"pending": 3}
