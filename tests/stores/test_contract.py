"""The store contract: every `Store` (in-memory fake, SQLite, PostgreSQL) passes these."""

from __future__ import annotations

import inspect
import threading

import pytest

from bot.news.pipeline import Pipeline
from bot.news.sources.feeds import FeedItem
from bot.stores.articles import index_from_store
from bot.stores.types import CHANGES_PER_READ, Announcements, Articles, ChangesPruned, Feeds, StoreChanges
from search import SearchIndex, parse_article
from tests.polling import wait_until

NEWS = "date 2024-03-01\nMistral AI opens an office in Singapore\n\nMistral AI said on Friday it will hire 40 engineers in Singapore."
EDITED = NEWS.replace("40 engineers", "60 engineers")
DAY = 24 * 3600.0


class Clock:
    """A clock the test moves by hand (leases and retry delays), shared by every store it is given to."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def news(n: int):
    return parse_article(f"Mistral AI news number {n} about models.", f"{n}.txt")


@pytest.mark.parametrize(
    ("protocol", "repository"),
    [(Articles, "articles"), (Announcements, "announcements"), (Feeds, "feeds")],
)
def test_has_every_method_of_the_protocol_with_its_signature(store, protocol, repository):
    implementation = type(getattr(store, repository))
    methods = {name for name in vars(protocol) if not name.startswith("_")}
    assert methods
    for name in methods:
        expected = inspect.signature(getattr(protocol, name))
        assert inspect.signature(getattr(implementation, name)) == expected, name


def test_keeps_every_field_of_an_article_and_finds_it_by_source(store):
    article = parse_article(NEWS, "singapore.txt")
    assert store.articles.record(article, announce=True).outcome == "added"
    stored = store.articles.by_source("singapore.txt")
    assert stored.id == article.id
    assert (stored.title, stored.date, stored.language, stored.text) == (
        article.title,
        article.date,
        article.language,
        article.text,
    )
    assert stored.added_at == stored.changed_at
    assert stored.removed_at is None
    assert store.articles.get(article.id) == stored
    assert store.announcements.state(article.id) == "pending"


def test_unknown_ids_and_sources_are_none(store):
    assert store.articles.get("nope") is None
    assert store.articles.by_source("nope.txt") is None
    assert store.announcements.state("nope") is None
    assert store.articles.mark_removed("nope.txt") is None
    assert store.articles.active_articles() == [] and store.articles.active_sources() == []
    assert store.announcements.counts() == {}


def test_an_article_recorded_without_announcement_is_skipped(store):
    article = parse_article(NEWS, "a.txt")
    assert store.articles.record(article, announce=False).outcome == "added"
    assert store.announcements.state(article.id) == "skipped"
    assert store.announcements.claim("w1", lease_seconds=60) is None


def test_same_content_under_another_name_is_known(store):
    store.articles.record(parse_article(NEWS, "a.txt"), announce=True)
    result = store.articles.record(parse_article(NEWS, "b.txt"), announce=True)
    assert result.outcome == "known"
    assert [s.source for s in store.articles.active_articles()] == ["a.txt"]
    assert store.articles.active_sources() == ["a.txt"]


def test_new_content_at_the_same_source_is_an_update_without_announcement(store):
    first = parse_article(NEWS, "a.txt")
    store.articles.record(first, announce=True)
    second = parse_article(EDITED, "a.txt")
    result = store.articles.record(second, announce=True)
    assert (result.outcome, result.replaced_id) == ("updated", first.id)
    assert store.articles.get(first.id).removed_at is not None
    assert store.announcements.state(second.id) == "skipped"
    assert [s.id for s in store.articles.active_articles()] == [second.id]
    assert store.articles.by_source("a.txt").id == second.id


def test_removed_article_comes_back_without_a_second_announcement(store):
    article = parse_article(NEWS, "a.txt")
    store.articles.record(article, announce=True)
    assert store.articles.mark_removed("a.txt") == article.id
    assert store.articles.active_articles() == []
    assert store.articles.mark_removed("a.txt") is None
    assert store.articles.record(parse_article(NEWS, "b.txt"), announce=True).outcome == "restored"
    assert store.articles.by_source("b.txt").id == article.id
    assert store.announcements.counts() == {"pending": 1}


def test_the_baseline_mark_is_kept(backend):
    store = backend.open()
    assert not store.articles.baseline_done()
    store.articles.mark_baseline_done()
    store.articles.mark_baseline_done()
    assert store.articles.baseline_done()
    assert backend.open().articles.baseline_done()


def test_a_file_is_remembered_while_its_size_and_mtime_stay(store):
    store.articles.remember_file("a.txt", 120, 5_000_000_000_000_000_000, "id-1")
    assert store.articles.recorded_file("a.txt", 120, 5_000_000_000_000_000_000) == "id-1"
    assert store.articles.recorded_file("a.txt", 121, 5_000_000_000_000_000_000) is None
    assert store.articles.recorded_file("b.txt", 120, 5_000_000_000_000_000_000) is None
    store.articles.remember_file("a.txt", 121, 7, "id-2")
    assert store.articles.recorded_file("a.txt", 121, 7) == "id-2"
    assert store.articles.recorded_file("a.txt", 120, 5_000_000_000_000_000_000) is None


def test_every_remembered_file_is_read_at_once(store):
    assert store.articles.recorded_files() == {}
    store.articles.remember_file("a.txt", 120, 5_000_000_000_000_000_000, "id-1")
    store.articles.remember_file("b/c.md", 7, 8, "id-2")
    store.articles.remember_file("a.txt", 121, 9, "id-3")
    assert store.articles.recorded_files() == {"a.txt": (121, 9, "id-3"), "b/c.md": (7, 8, "id-2")}


def test_index_is_rebuilt_from_the_store_after_a_restart(backend):
    first = backend.open()
    article = parse_article(NEWS, "a.txt")
    first.articles.record(article, announce=False)
    first.close()
    index = index_from_store(backend.open().articles)
    assert index.get(article.id).title == article.title
    assert index.search("Singapore engineers", limit=1)[0].citation.article_id == article.id


def test_a_claim_is_taken_once_and_finished_only_by_its_holder(store):
    article = parse_article(NEWS, "a.txt")
    store.articles.record(article, announce=True)
    claim = store.announcements.claim("w1", lease_seconds=60)
    assert (claim.article_id, claim.attempts, claim.recovered) == (article.id, 0, False)
    assert store.announcements.claim("w2", lease_seconds=60) is None
    assert not store.announcements.finish(article.id, "w2", "1.1")
    assert store.announcements.finish(article.id, "w1", "1.1")
    assert store.announcements.state(article.id) == "posted"
    assert not store.announcements.finish(article.id, "w1", "1.1")


def test_the_oldest_announcement_is_claimed_first(backend):
    clock = Clock()
    store = backend.open(clock)
    for n in range(3):
        store.articles.record(news(n), announce=True)
        clock.now += 1
    taken = []
    while claim := store.announcements.claim("w1", lease_seconds=60):
        taken.append(claim.article_id)
    assert taken == [news(n).id for n in range(3)]
    assert [a.id for a in store.articles.active_articles()] == taken


def test_an_expired_claim_can_be_recovered_by_another_worker(backend):
    clock = Clock()
    store = backend.open(clock)
    store.articles.record(parse_article(NEWS, "a.txt"), announce=True)
    first = store.announcements.claim("crashed", lease_seconds=30)
    assert first.lease_until == clock.now + 30
    clock.now += 30
    assert store.announcements.claim("w2", lease_seconds=30) is None
    clock.now += 1
    claim = store.announcements.claim("w2", lease_seconds=30)
    assert claim.recovered and claim.attempts == 1
    assert not store.announcements.finish(claim.article_id, "crashed", "1.1")
    assert store.announcements.finish(claim.article_id, "w2", "1.1")


def test_retry_waits_until_its_time(backend):
    clock = Clock()
    store = backend.open(clock)
    store.articles.record(parse_article(NEWS, "a.txt"), announce=True)
    claim = store.announcements.claim("w1", lease_seconds=30)
    assert not store.announcements.retry(claim.article_id, "w2", "ratelimited", delay=5)
    assert store.announcements.retry(claim.article_id, "w1", "ratelimited", delay=5)
    assert store.announcements.state(claim.article_id) == "pending"
    assert store.announcements.claim("w1", lease_seconds=30) is None
    clock.now += 5
    again = store.announcements.claim("w1", lease_seconds=30)
    assert (again.article_id, again.attempts, again.recovered) == (claim.article_id, 1, False)


def test_a_throttled_retry_is_no_failed_attempt(backend):
    clock = Clock()
    store = backend.open(clock)
    store.articles.record(parse_article(NEWS, "a.txt"), announce=True)
    claim = store.announcements.claim("w1", lease_seconds=30)
    assert store.announcements.retry(claim.article_id, "w1", "waiting for a slot", delay=1, throttled=True)
    clock.now += 1
    assert store.announcements.claim("w1", lease_seconds=30).attempts == claim.attempts


def test_an_unsure_post_is_retried_as_recovered(backend):
    clock = Clock()
    store = backend.open(clock)
    store.articles.record(parse_article(NEWS, "a.txt"), announce=True)
    claim = store.announcements.claim("w1", lease_seconds=30)
    assert store.announcements.retry(claim.article_id, "w1", "timed out", delay=2, unsure=True)
    assert store.announcements.state(claim.article_id) == "unsure"
    assert store.announcements.claim("w2", lease_seconds=30) is None
    clock.now += 2
    again = store.announcements.claim("w2", lease_seconds=30)
    assert (again.article_id, again.attempts, again.recovered) == (claim.article_id, 1, True)


def test_an_article_recorded_unsure_is_claimed_as_recovered_and_a_copy_is_not_queued(store):
    article = parse_article(NEWS, "a.txt")
    store.articles.record(article, announce=True, unsure=True)
    assert store.announcements.state(article.id) == "unsure"
    claim = store.announcements.claim("w1", lease_seconds=60)
    assert (claim.article_id, claim.attempts, claim.recovered) == (article.id, 0, True)
    copy = parse_article(NEWS + " Reported again.", "b.txt")
    store.articles.record(copy, announce=True, unsure=True, story=article.id)
    assert store.announcements.state(copy.id) == "skipped"


def test_a_failed_announcement_is_never_claimed_again(backend):
    clock = Clock()
    store = backend.open(clock)
    store.articles.record(parse_article(NEWS, "a.txt"), announce=True)
    claim = store.announcements.claim("w1", lease_seconds=30)
    assert not store.announcements.fail(claim.article_id, "w2", "channel_not_found")
    assert store.announcements.fail(claim.article_id, "w1", "channel_not_found")
    clock.now += 3600
    assert store.announcements.claim("w1", lease_seconds=30) is None
    assert store.announcements.counts() == {"failed": 1}


def test_many_threads_claiming_take_each_announcement_once(store):
    for n in range(20):
        store.articles.record(news(n), announce=True)
    assert claim_all(store, workers=6) == sorted(news(n).id for n in range(20))
    assert store.announcements.counts() == {"posted": 20}


def test_two_stores_on_one_database_take_each_announcement_once(backend):
    first, second = backend.open(), backend.open()
    for n in range(30):
        (first if n % 2 else second).articles.record(news(n), announce=True)
    taken: list[str] = []
    threads = [
        threading.Thread(target=lambda s=s, i=i: taken.extend(claim_all(s, workers=1, prefix=f"s{i}")))
        for i, s in enumerate((first, second, first, second))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken) == sorted(news(n).id for n in range(30))
    assert first.announcements.counts() == second.announcements.counts() == {"posted": 30}


def test_two_stores_recording_the_same_files_at_once_keep_one_of_each(backend):
    stores = [backend.open(), backend.open()]
    outcomes: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def record(store):
        start.wait()
        try:
            for n in range(15):
                outcomes.append(store.articles.record(news(n), announce=True).outcome)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=record, args=(stores[i % 2],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(outcomes) == ["added"] * 15 + ["known"] * 45
    assert stores[0].articles.active_sources() == sorted(f"{n}.txt" for n in range(15))
    assert stores[1].announcements.counts() == {"pending": 15}


def claim_all(store, *, workers: int, prefix: str = "w") -> list[str]:
    """Claim and finish until nothing is left, from `workers` threads; the ids taken, sorted."""
    taken: list[str] = []

    def work(name):
        while claim := store.announcements.claim(name, lease_seconds=60):
            taken.append(claim.article_id)
            assert store.announcements.finish(claim.article_id, name, "1.1")

    threads = [threading.Thread(target=work, args=(f"{prefix}{i}",)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(taken)


# -- news sources: origins, stories, takedowns, URLs --------------------------------------------------


def web_news(n: int, url: str | None = None, outlet: str = "Wire"):
    article = parse_article(
        f"Mistral AI story number {n} told by {outlet}.", url or f"https://news.example/{n}"
    )
    return article.model_copy(update={"url": url or f"https://news.example/{n}", "outlet": outlet})


def test_an_article_keeps_its_url_outlet_origin_and_is_found_by_url(store):
    article = web_news(1).model_copy(update={"date_source": "page"})
    assert store.articles.record(article, announce=True, origin="feed").outcome == "added"
    stored = store.articles.by_url("https://news.example/1")
    assert (stored.id, stored.url, stored.outlet, stored.origin, stored.date_source) == (
        article.id,
        article.url,
        "Wire",
        "feed",
        "page",
    )
    assert stored.story_id == article.id
    assert store.articles.by_url("https://news.example/2") is None
    assert store.articles.active_sources() == []  # only folder articles are rescanned


def test_a_copy_joins_its_story_without_an_announcement_and_marks_the_story_changed(store):
    first, copy = web_news(1), web_news(2, outlet="Gazette")
    store.articles.record(first, announce=True, origin="feed")
    claim = store.announcements.claim("w1", lease_seconds=60)
    assert store.announcements.finish(claim.article_id, "w1", "1.1")
    assert store.announcements.claim_story_change() is None
    store.articles.record(copy, announce=True, origin="feed", story=first.id)
    assert store.announcements.state(copy.id) == "skipped"
    assert [a.id for a in store.articles.story_members(first.id)] == [first.id, copy.id]
    assert store.articles.get(copy.id).story_id == first.id
    assert store.announcements.claim_story_change() == (first.id, "1.1")
    assert store.announcements.claim_story_change() is None


def test_a_story_change_retried_waits_for_its_time(backend):
    clock = Clock()
    store = backend.open(clock)
    first = web_news(1)
    store.articles.record(first, announce=True, origin="feed")
    claim = store.announcements.claim("w1", lease_seconds=60)
    store.announcements.finish(claim.article_id, "w1", "1.1")
    store.articles.record(web_news(2), announce=True, origin="feed", story=first.id)
    assert store.announcements.claim_story_change() == (first.id, "1.1")
    store.announcements.retry_story_change(first.id, delay=30)
    assert store.announcements.claim_story_change() is None
    clock.now += 30
    assert store.announcements.claim_story_change() == (first.id, "1.1")


def test_a_taken_down_article_stays_down_and_is_still_known_by_url(store):
    article = web_news(1)
    store.articles.record(article, announce=True, origin="link")
    assert store.articles.take_down(article.id)
    assert not store.articles.take_down(article.id)
    assert store.articles.active_articles() == []
    assert store.articles.by_url(article.url).taken_down_at is not None
    assert store.articles.record(article, announce=True, origin="link").outcome == "removed"
    assert store.articles.get(article.id).removed_at is not None
    assert not store.articles.take_down("nope")


# -- the change log -----------------------------------------------------------------------------------


def test_the_change_log_shows_another_store_what_was_added_removed_taken_down_and_restored(backend):
    writer, reader = backend.open(), backend.open()
    mark = reader.articles.last_change()
    assert reader.articles.changes_since(mark) == StoreChanges([], [], mark)
    first, second = parse_article(NEWS, "a.txt"), web_news(2)
    writer.articles.record(first, announce=True)
    writer.articles.record(second, announce=True, origin="link")
    changes = reader.articles.changes_since(mark)
    assert [a.id for a in changes.active] == [first.id, second.id] and changes.inactive == []
    assert changes.seq == reader.articles.last_change() > mark
    mark = changes.seq
    writer.articles.mark_removed("a.txt")
    writer.articles.take_down(second.id)
    changes = reader.articles.changes_since(mark)
    assert (changes.active, changes.inactive) == ([], [first.id, second.id])
    mark = changes.seq
    assert writer.articles.record(parse_article(NEWS, "b.txt"), announce=True).outcome == "restored"
    assert [a.id for a in reader.articles.changes_since(mark).active] == [first.id]


def test_an_edit_shows_as_the_old_version_removed_and_the_new_one_added(store):
    mark = store.articles.last_change()
    store.articles.record(parse_article(NEWS, "a.txt"), announce=True)
    store.articles.record(parse_article(EDITED, "a.txt"), announce=True)
    changes = store.articles.changes_since(mark)
    assert [a.id for a in changes.active] == [parse_article(EDITED, "a.txt").id]
    assert changes.inactive == [parse_article(NEWS, "a.txt").id]


def test_the_change_log_is_read_in_bounded_pages(store):
    for n in range(CHANGES_PER_READ + 5):
        store.articles.record(news(n), announce=False)
    first = store.articles.changes_since(0)
    assert len(first.active) == CHANGES_PER_READ
    second = store.articles.changes_since(first.seq)
    assert len(second.active) == 5 and second.seq == store.articles.last_change()


def test_another_store_hears_of_a_change_at_once(backend):
    if backend.name == "sqlite":
        pytest.skip("SQLite has no notifications: its readers poll the change log")
    heard = threading.Event()
    listener, writer = backend.open(), backend.open()
    listener.articles.follow_changes(heard.set)
    wait_until(heard.is_set)  # a listener that (re)connects reports it once: changes may have been missed
    heard.clear()
    writer.articles.record(news(1), announce=False)
    wait_until(heard.is_set, timeout=5)
    assert [a.id for a in listener.articles.changes_since(0).active] == [news(1).id]


def test_pruning_keeps_the_changes_of_the_retention_time_and_always_the_newest(backend):
    clock = Clock()
    store = backend.open(clock)
    for n in range(3):
        store.articles.record(news(n), announce=False)
    mark = store.articles.last_change()
    clock.now += 8 * DAY
    store.articles.record(news(3), announce=False)
    store.articles.mark_removed("0.txt")
    assert store.articles.prune_changes(keep_seconds=7 * DAY, keep_rows=1) == 3  # the week-old ones
    assert store.articles.prune_changes(keep_seconds=7 * DAY, keep_rows=1) == 0
    changes = store.articles.changes_since(mark)
    assert ([a.id for a in changes.active], changes.inactive) == ([news(3).id], [news(0).id])
    clock.now += 8 * DAY
    assert (
        store.articles.prune_changes(keep_seconds=7 * DAY, keep_rows=2) == 0
    )  # both old, both among the newest 2
    assert store.articles.prune_changes(keep_seconds=7 * DAY, keep_rows=0) == 1  # the newest row always stays
    assert store.articles.last_change() == changes.seq
    assert store.articles.changes_since(changes.seq) == StoreChanges([], [], changes.seq)
    store.articles.record(news(4), announce=False)
    assert [a.id for a in store.articles.changes_since(changes.seq).active] == [news(4).id]


def test_a_reader_behind_the_pruned_changes_is_told_so(backend):
    clock = Clock()
    writer, reader = backend.open(clock), backend.open(clock)
    writer.articles.record(news(1), announce=False)
    behind = reader.articles.last_change()
    writer.articles.record(news(2), announce=False)
    writer.articles.record(news(3), announce=False)
    clock.now += 8 * DAY
    assert writer.articles.prune_changes(keep_seconds=7 * DAY, keep_rows=1) == 2
    for seq in (0, behind):
        with pytest.raises(ChangesPruned) as told:
            reader.articles.changes_since(seq)
        assert (told.value.seq, told.value.through) == (seq, reader.articles.last_change() - 1)
    assert [a.id for a in reader.articles.changes_since(told.value.through).active] == [news(3).id]


def story(n: int, source: str | None = None):
    """An article long enough for the near-duplicate check to know it."""
    words = " ".join(f"w{n}x{i}" for i in range(30))
    return parse_article(f"Mistral AI story {n}\n\nMistral AI said {words}.", source or f"{n}.txt")


def test_an_index_behind_the_pruned_changes_is_compared_with_the_store_and_follows_on(backend):
    clock = Clock()
    writer, follower = backend.open(clock), backend.open(clock)
    for n in range(4):
        writer.articles.record(story(n), announce=False)
    since = follower.articles.last_change()
    pipeline = Pipeline(follower, index_from_store(follower.articles, SearchIndex()))
    pipeline.follow_from(since)
    # While the replica is away: a removal, a takedown, an edit, a new article; then a week passes.
    writer.articles.mark_removed("0.txt")
    writer.articles.take_down(story(1).id)
    edited = story(20, "2.txt")
    writer.articles.record(edited, announce=False)
    writer.articles.record(story(4), announce=False)
    clock.now += 8 * DAY
    writer.articles.record(story(5), announce=False)
    assert writer.articles.prune_changes(keep_seconds=7 * DAY, keep_rows=1) == 9  # all but the last
    pipeline.sync()
    wanted = {story(3).id, edited.id, story(4).id, story(5).id}
    assert pipeline.index.article_ids() == writer.articles.active_ids() == wanted
    writer.articles.mark_removed("3.txt")  # and it follows the change log from there on
    pipeline.sync()
    assert pipeline.index.article_ids() == wanted - {story(3).id}


# -- feeds --------------------------------------------------------------------------------------------


def item(n: int, content: str = "text") -> FeedItem:
    return FeedItem(
        url=f"https://news.example/{n}", guid=f"g{n}", title=f"Item {n}", published=None, content=content
    )


def test_feeds_are_added_once_listed_and_removed_with_their_items(backend):
    clock = Clock()
    feeds = backend.open(clock).feeds
    assert feeds.add("https://a.example/feed", "cli")
    clock.now += 1
    assert feeds.add("https://b.example/feed", "slack")
    assert not feeds.add("https://a.example/feed", "setting")
    assert [f.url for f in feeds.all()] == ["https://a.example/feed", "https://b.example/feed"]
    assert feeds.get("https://b.example/feed").public_only
    assert feeds.get("https://a.example/feed").origin == "cli"
    feeds.add_items("https://a.example/feed", [item(1)], "pending")
    assert feeds.remove("https://a.example/feed") and not feeds.remove("https://a.example/feed")
    assert feeds.get("https://a.example/feed") is None
    assert feeds.known_keys("https://a.example/feed") == set()


def test_a_due_feed_is_claimed_by_one_store_until_its_lease_runs_out(backend):
    clock = Clock()
    first, second = backend.open(clock).feeds, backend.open(clock).feeds
    first.add("https://a.example/feed", "cli")
    assert [f.url for f in first.claim_due("first", lease_seconds=60)] == ["https://a.example/feed"]
    assert second.claim_due("second", lease_seconds=60) == []
    clock.now += 61  # the replica polling it died: its lease ran out
    assert [f.url for f in second.claim_due("second", lease_seconds=60)] == ["https://a.example/feed"]
    assert not second.polled("https://a.example/feed", etag='"1"', last_modified=None, delay=600, title="A")
    clock.now += 599
    assert first.claim_due("first", lease_seconds=60) == []
    assert first.get("https://a.example/feed").etag == '"1"'
    first.poll_soon("https://a.example/feed")
    assert [f.title for f in first.claim_due("first", lease_seconds=60)] == ["A"]


def test_a_feed_claim_is_measured_on_the_databases_time_not_the_callers(backend):
    """Callers give durations, never a time: replicas whose own clocks disagree (here all of them
    are decades away from the database's time) neither take a feed another holds nor hold one back."""
    database_time = Clock()
    first, second = backend.open(database_time).feeds, backend.open(database_time).feeds
    assert "now" not in inspect.signature(type(first).claim_due).parameters
    first.add("https://a.example/feed", "cli")
    [feed] = first.claim_due("first", lease_seconds=60)
    assert first.get(feed.url).next_poll_at == database_time.now + 60
    assert (
        second.claim_due("second", lease_seconds=60) == []
        and first.claim_due("first", lease_seconds=60) == []
    )
    first.failed(feed.url, "HTTP 503", delay=30)
    assert first.get(feed.url).next_poll_at == database_time.now + 30
    database_time.now += 29
    assert second.claim_due("second", lease_seconds=60) == []
    database_time.now += 1
    assert [f.url for f in second.claim_due("second", lease_seconds=60)] == [feed.url]
    assert first.claim_due("first", lease_seconds=60) == []


def test_many_stores_claiming_a_due_feed_at_once_take_it_once(backend):
    stores = [backend.open() for _ in range(4)]
    for n in range(10):
        stores[0].feeds.add(f"https://{n}.example/feed", "cli")
    taken: list[str] = []
    start = threading.Barrier(4)

    def claim(store):
        start.wait()
        taken.extend(f.url for f in store.feeds.claim_due(str(id(store)), lease_seconds=60))

    threads = [threading.Thread(target=claim, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken) == sorted(f"https://{n}.example/feed" for n in range(10))


def test_failures_are_counted_until_a_good_poll(backend):
    clock = Clock()
    feeds = backend.open(clock).feeds
    feeds.add("https://a.example/feed", "cli")
    assert feeds.failed("https://a.example/feed", "HTTP 503", delay=10) == 1
    assert feeds.failed("https://a.example/feed", "HTTP 504", delay=20) == 2
    failing = feeds.get("https://a.example/feed")
    assert (failing.failures, failing.last_error, failing.next_poll_at) == (2, "HTTP 504", clock.now + 20)
    assert failing.failing_since is not None
    assert feeds.polled("https://a.example/feed", etag=None, last_modified="x", delay=30, title=None)
    ok = feeds.get("https://a.example/feed")
    assert (ok.failures, ok.failing_since, ok.last_error, ok.last_modified) == (0, None, None, "x")
    assert feeds.failed("https://gone.example/feed", "HTTP 404", delay=10) == 0


def test_feed_items_wait_in_order_until_done_or_given_up(store):
    feeds = store.feeds
    url = "https://a.example/feed"
    feeds.add(url, "cli")
    feeds.add_items(url, [item(3), item(1), item(2)], "pending")
    feeds.add_items(url, [item(9)], "backlog")
    feeds.add_items(url, [item(1, content="again")], "pending")
    assert feeds.known_keys(url) == {item(n).key for n in (1, 2, 3, 9)}
    assert pending(feeds, url, limit=2) == [(item(3).key, "text", 0), (item(1).key, "text", 0)]
    feeds.item_done(url, item(3).key, "id-3")
    assert not feeds.item_failed(url, item(1).key, max_attempts=2)
    assert pending(feeds, url, limit=5) == [(item(1).key, "text", 1), (item(2).key, "text", 0)]
    assert feeds.item_failed(url, item(1).key, max_attempts=2)
    assert pending(feeds, url, limit=5) == [(item(2).key, "text", 0)]


def pending(feeds, url: str, limit: int) -> list[tuple[str, str, int]]:
    return [(i.key, i.content, attempts) for i, attempts in feeds.pending_items(url, limit)]


def test_an_item_without_a_link_is_known_by_its_guid(store):
    feeds = store.feeds
    feeds.add("https://a.example/feed", "cli")
    bare = FeedItem(url=None, guid="tag:1", title="T", published=None, content="c")
    feeds.add_items("https://a.example/feed", [bare], "pending")
    assert feeds.pending_items("https://a.example/feed", limit=1) == [(bare, 0)]
    feeds.item_done("https://a.example/feed", bare.key, None)
    assert feeds.pending_items("https://a.example/feed", limit=1) == []


VECTORS = {0: b"\x00\x00\x80\x3f" * 4, 2: b"\x00\x00\x00\x40" * 4}  # float32 1.0s and 2.0s, by position


def test_passage_vectors_are_kept_by_article_position_and_model(store):
    first, second = news(1), news(2)
    for article in (first, second):
        store.articles.record(article, announce=False)
    store.articles.save_vectors(first.id, "model-a", VECTORS)
    assert store.articles.vectors_for([first.id, second.id, "nope"], "model-a") == {first.id: VECTORS}
    assert store.articles.vectors_for([first.id], "model-b") == {}
    store.articles.save_vectors(first.id, "model-a", {2: b"\x00" * 16})
    assert store.articles.vectors_for([first.id], "model-a") == {first.id: {**VECTORS, 2: b"\x00" * 16}}


def test_another_models_vectors_replace_the_old_ones(store):
    article = news(1)
    store.articles.record(article, announce=False)
    store.articles.save_vectors(article.id, "model-a", VECTORS)
    store.articles.save_vectors(article.id, "model-b", {0: b"\x01" * 16})
    assert store.articles.vectors_for([article.id], "model-a") == {}
    assert store.articles.vectors_for([article.id], "model-b") == {article.id: {0: b"\x01" * 16}}


def test_an_article_leaving_takes_its_vectors_and_none_are_kept_for_it_afterwards(store):
    removed, taken_down, edited = news(1), news(2), parse_article(NEWS, "c.txt")
    for article in (removed, taken_down, edited):
        store.articles.record(article, announce=False)
        store.articles.save_vectors(article.id, "m", VECTORS)
    store.articles.mark_removed(removed.source)
    store.articles.take_down(taken_down.id)
    newer = parse_article(EDITED, edited.source)
    assert store.articles.record(newer, announce=False).replaced_id == edited.id
    assert store.articles.vectors_for([removed.id, taken_down.id, edited.id], "m") == {}
    store.articles.save_vectors(removed.id, "m", VECTORS)
    assert store.articles.vectors_for([removed.id], "m") == {}


def test_vectors_of_many_articles_are_read_at_once(store):
    articles = [news(n) for n in range(1200)]
    for article in articles:
        store.articles.record(article, announce=False)
        store.articles.save_vectors(article.id, "m", {0: article.id.encode()[:16].ljust(16, b"-")})
    found = store.articles.vectors_for([a.id for a in articles], "m")
    assert len(found) == 1200
    assert found[articles[-1].id] == {0: articles[-1].id.encode()[:16].ljust(16, b"-")}
