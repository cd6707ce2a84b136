"""The feed claims of the store contract (every store: in-memory fake, SQLite, PostgreSQL): a feed the
caller is still polling is not claimed, the end of a poll ends its claim, and a clean stop gives
back its own unfinished claims, due now, never a feed another replica took since."""

from __future__ import annotations

from tests.stores.test_contract import Clock

A, B, C = "https://a.example/feed", "https://b.example/feed", "https://c.example/feed"


def urls(feeds) -> list[str]:
    return [feed.url for feed in feeds]


def test_a_feed_the_caller_is_still_polling_is_not_claimed_by_it(backend):
    clock = Clock()
    here, there = backend.open(clock).feeds, backend.open(clock).feeds
    here.add(A, "cli")
    here.add(B, "cli")
    assert urls(here.claim_due("here", lease_seconds=60)) == [A, B]
    assert here.get(A).claimed_by == "here"
    clock.now += 61  # both polls outlast the lease; A's is still running here
    assert urls(here.claim_due("here", lease_seconds=60, busy={A})) == [B]
    assert here.get(A).next_poll_at == clock.now - 1  # untouched: the lease it had
    assert here.claim_due("here", lease_seconds=60, busy={A}) == []
    assert urls(there.claim_due("there", lease_seconds=60)) == [A]  # its lease ran out: another takes it
    assert here.get(A).claimed_by == "there"


def test_the_end_of_a_poll_ends_its_claim(backend):
    clock = Clock()
    feeds = backend.open(clock).feeds
    feeds.add(A, "cli")
    feeds.add(B, "cli")
    feeds.claim_due("here", lease_seconds=60)
    feeds.polled(A, etag=None, last_modified=None, delay=600, title=None)
    feeds.failed(B, "HTTP 503", delay=120)
    assert [(f.claimed_by, f.next_poll_at) for f in feeds.all()] == [
        (None, clock.now + 600),
        (None, clock.now + 120),
    ]
    assert feeds.give_back("here") == 0
    assert feeds.get(A).next_poll_at == clock.now + 600


def test_a_clean_stop_gives_back_its_unfinished_feeds_due_now_and_only_its_own(backend):
    clock = Clock()
    stopping, other = backend.open(clock).feeds, backend.open(clock).feeds
    stopping.add(A, "cli")
    stopping.add(B, "cli")
    assert urls(stopping.claim_due("stopping", lease_seconds=60)) == [A, B]
    stopping.polled(A, etag=None, last_modified=None, delay=600, title=None)  # A finished
    clock.now += 61
    assert urls(other.claim_due("other", lease_seconds=60)) == [B]  # B outlasted the lease
    stopping.add(C, "cli")
    assert urls(stopping.claim_due("stopping", lease_seconds=60, busy={B})) == [C]
    clock.now += 1
    assert stopping.give_back("stopping") == 1  # C, claimed and not polled yet
    assert stopping.get(C).next_poll_at == clock.now and stopping.get(C).claimed_by is None
    assert stopping.get(B).claimed_by == "other"  # not given back: it is the other's now
    assert urls(other.claim_due("other", lease_seconds=60)) == [C]
    assert stopping.give_back("stopping") == 0
    assert stopping.claim_due("stopping", lease_seconds=60) == []  # B still leased, A in 600 s
