"""The store contract: every `ArticleStore` (in-memory fake, SQLite, PostgreSQL) passes these."""

from __future__ import annotations

import inspect
import threading

from bot.store import ArticleStore, index_from_store
from search import parse_article

NEWS = "date 2024-03-01\nMistral AI opens an office in Singapore\n\nMistral AI said on Friday it will hire 40 engineers in Singapore."
EDITED = NEWS.replace("40 engineers", "60 engineers")


class Clock:
    """A clock the test moves by hand (leases and retry delays), shared by every store it is given to."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def news(n: int):
    return parse_article(f"Mistral AI news number {n} about models.", f"{n}.txt")


def test_has_every_method_of_the_protocol_with_its_signature(store):
    methods = {name for name in vars(ArticleStore) if not name.startswith("_")}
    assert methods
    for name in methods:
        expected = inspect.signature(getattr(ArticleStore, name))
        assert inspect.signature(getattr(type(store), name)) == expected, name


def test_keeps_every_field_of_an_article_and_finds_it_by_source(store):
    article = parse_article(NEWS, "singapore.txt")
    assert store.record(article, announce=True).outcome == "added"
    stored = store.by_source("singapore.txt")
    assert stored.id == article.id
    assert (stored.title, stored.date, stored.language, stored.text) == (
        article.title,
        article.date,
        article.language,
        article.text,
    )
    assert stored.added_at == stored.changed_at
    assert stored.removed_at is None
    assert store.get(article.id) == stored
    assert store.announcement_state(article.id) == "pending"


def test_unknown_ids_and_sources_are_none(store):
    assert store.get("nope") is None
    assert store.by_source("nope.txt") is None
    assert store.announcement_state("nope") is None
    assert store.mark_removed("nope.txt") is None
    assert store.active_articles() == [] and store.active_sources() == []
    assert store.counts() == {}


def test_an_article_recorded_without_announcement_is_skipped(store):
    article = parse_article(NEWS, "a.txt")
    assert store.record(article, announce=False).outcome == "added"
    assert store.announcement_state(article.id) == "skipped"
    assert store.claim_announcement("w1", lease_seconds=60) is None


def test_same_content_under_another_name_is_known(store):
    store.record(parse_article(NEWS, "a.txt"), announce=True)
    result = store.record(parse_article(NEWS, "b.txt"), announce=True)
    assert result.outcome == "known"
    assert [s.source for s in store.active_articles()] == ["a.txt"]
    assert store.active_sources() == ["a.txt"]


def test_new_content_at_the_same_source_is_an_update_without_announcement(store):
    first = parse_article(NEWS, "a.txt")
    store.record(first, announce=True)
    second = parse_article(EDITED, "a.txt")
    result = store.record(second, announce=True)
    assert (result.outcome, result.replaced_id) == ("updated", first.id)
    assert store.get(first.id).removed_at is not None
    assert store.announcement_state(second.id) == "skipped"
    assert [s.id for s in store.active_articles()] == [second.id]
    assert store.by_source("a.txt").id == second.id


def test_removed_article_comes_back_without_a_second_announcement(store):
    article = parse_article(NEWS, "a.txt")
    store.record(article, announce=True)
    assert store.mark_removed("a.txt") == article.id
    assert store.active_articles() == []
    assert store.mark_removed("a.txt") is None
    assert store.record(parse_article(NEWS, "b.txt"), announce=True).outcome == "restored"
    assert store.by_source("b.txt").id == article.id
    assert store.counts() == {"pending": 1}


def test_the_baseline_mark_is_kept(backend):
    store = backend.open()
    assert not store.baseline_done()
    store.mark_baseline_done()
    store.mark_baseline_done()
    assert store.baseline_done()
    assert backend.open().baseline_done()


def test_a_file_is_remembered_while_its_size_and_mtime_stay(store):
    store.remember_file("a.txt", 120, 5_000_000_000_000_000_000, "id-1")
    assert store.recorded_file("a.txt", 120, 5_000_000_000_000_000_000) == "id-1"
    assert store.recorded_file("a.txt", 121, 5_000_000_000_000_000_000) is None
    assert store.recorded_file("b.txt", 120, 5_000_000_000_000_000_000) is None
    store.remember_file("a.txt", 121, 7, "id-2")
    assert store.recorded_file("a.txt", 121, 7) == "id-2"
    assert store.recorded_file("a.txt", 120, 5_000_000_000_000_000_000) is None


def test_index_is_rebuilt_from_the_store_after_a_restart(backend):
    first = backend.open()
    article = parse_article(NEWS, "a.txt")
    first.record(article, announce=False)
    first.close()
    index = index_from_store(backend.open())
    assert index.get(article.id).title == article.title
    assert index.search("Singapore engineers", limit=1)[0].citation.article_id == article.id


def test_a_claim_is_taken_once_and_finished_only_by_its_holder(store):
    article = parse_article(NEWS, "a.txt")
    store.record(article, announce=True)
    claim = store.claim_announcement("w1", lease_seconds=60)
    assert (claim.article_id, claim.attempts, claim.recovered) == (article.id, 0, False)
    assert store.claim_announcement("w2", lease_seconds=60) is None
    assert not store.finish_announcement(article.id, "w2", "1.1")
    assert store.finish_announcement(article.id, "w1", "1.1")
    assert store.announcement_state(article.id) == "posted"
    assert not store.finish_announcement(article.id, "w1", "1.1")


def test_the_oldest_announcement_is_claimed_first(backend):
    clock = Clock()
    store = backend.open(clock)
    for n in range(3):
        store.record(news(n), announce=True)
        clock.now += 1
    taken = []
    while claim := store.claim_announcement("w1", lease_seconds=60):
        taken.append(claim.article_id)
    assert taken == [news(n).id for n in range(3)]
    assert [a.id for a in store.active_articles()] == taken


def test_an_expired_claim_can_be_recovered_by_another_worker(backend):
    clock = Clock()
    store = backend.open(clock)
    store.record(parse_article(NEWS, "a.txt"), announce=True)
    first = store.claim_announcement("crashed", lease_seconds=30)
    assert first.lease_until == clock.now + 30
    clock.now += 30
    assert store.claim_announcement("w2", lease_seconds=30) is None
    clock.now += 1
    claim = store.claim_announcement("w2", lease_seconds=30)
    assert claim.recovered and claim.attempts == 1
    assert not store.finish_announcement(claim.article_id, "crashed", "1.1")
    assert store.finish_announcement(claim.article_id, "w2", "1.1")


def test_retry_waits_until_its_time(backend):
    clock = Clock()
    store = backend.open(clock)
    store.record(parse_article(NEWS, "a.txt"), announce=True)
    claim = store.claim_announcement("w1", lease_seconds=30)
    assert not store.retry_announcement(claim.article_id, "w2", "ratelimited", delay=5)
    assert store.retry_announcement(claim.article_id, "w1", "ratelimited", delay=5)
    assert store.announcement_state(claim.article_id) == "pending"
    assert store.claim_announcement("w1", lease_seconds=30) is None
    clock.now += 5
    again = store.claim_announcement("w1", lease_seconds=30)
    assert (again.article_id, again.attempts, again.recovered) == (claim.article_id, 1, False)


def test_an_unsure_post_is_retried_as_recovered(backend):
    clock = Clock()
    store = backend.open(clock)
    store.record(parse_article(NEWS, "a.txt"), announce=True)
    claim = store.claim_announcement("w1", lease_seconds=30)
    assert store.retry_announcement(claim.article_id, "w1", "timed out", delay=2, unsure=True)
    assert store.announcement_state(claim.article_id) == "unsure"
    assert store.claim_announcement("w2", lease_seconds=30) is None
    clock.now += 2
    again = store.claim_announcement("w2", lease_seconds=30)
    assert (again.article_id, again.attempts, again.recovered) == (claim.article_id, 1, True)


def test_a_failed_announcement_is_never_claimed_again(backend):
    clock = Clock()
    store = backend.open(clock)
    store.record(parse_article(NEWS, "a.txt"), announce=True)
    claim = store.claim_announcement("w1", lease_seconds=30)
    assert not store.fail_announcement(claim.article_id, "w2", "channel_not_found")
    assert store.fail_announcement(claim.article_id, "w1", "channel_not_found")
    clock.now += 3600
    assert store.claim_announcement("w1", lease_seconds=30) is None
    assert store.counts() == {"failed": 1}


def test_many_threads_claiming_take_each_announcement_once(store):
    for n in range(20):
        store.record(news(n), announce=True)
    assert claim_all(store, workers=6) == sorted(news(n).id for n in range(20))
    assert store.counts() == {"posted": 20}


def test_two_stores_on_one_database_take_each_announcement_once(backend):
    first, second = backend.open(), backend.open()
    for n in range(30):
        (first if n % 2 else second).record(news(n), announce=True)
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
    assert first.counts() == second.counts() == {"posted": 30}


def test_two_stores_recording_the_same_files_at_once_keep_one_of_each(backend):
    stores = [backend.open(), backend.open()]
    outcomes: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def record(store):
        start.wait()
        try:
            for n in range(15):
                outcomes.append(store.record(news(n), announce=True).outcome)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=record, args=(stores[i % 2],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(outcomes) == ["added"] * 15 + ["known"] * 45
    assert stores[0].active_sources() == sorted(f"{n}.txt" for n in range(15))
    assert stores[1].counts() == {"pending": 15}


def claim_all(store, *, workers: int, prefix: str = "w") -> list[str]:
    """Claim and finish until nothing is left, from `workers` threads; the ids taken, sorted."""
    taken: list[str] = []

    def work(name):
        while claim := store.claim_announcement(name, lease_seconds=60):
            taken.append(claim.article_id)
            assert store.finish_announcement(claim.article_id, name, "1.1")

    threads = [threading.Thread(target=work, args=(f"{prefix}{i}",)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(taken)
