"""The channel store contract: every `Channels` (in-memory fake, SQLite) passes these."""

from __future__ import annotations

import inspect

import pytest

from bot.news.digests import parse_schedule
from bot.stores.types import Channels
from tests.stores.test_contract import Clock


@pytest.fixture
def opener(backend):
    """Opens a channel store on one shared database, as another process would."""
    return lambda clock: backend.open(clock).channels


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def channels(opener, clock) -> Channels:
    return opener(clock)


def test_has_every_method_of_the_protocol_with_its_signature(channels):
    for name in (n for n in vars(Channels) if not n.startswith("_")):
        assert inspect.signature(getattr(type(channels), name)) == inspect.signature(getattr(Channels, name))


def test_watches_are_added_once_listed_and_removed(channels, clock):
    assert channels.add_watch("C1", "mistral funding", "U1")
    assert not channels.add_watch("C1", "mistral funding", "U2")
    clock.now += 1
    assert channels.add_watch("C1", "le chat", "U1")
    assert channels.add_watch("C2", "le chat", "U3")
    assert [w.words for w in channels.watches("C1")] == ["mistral funding", "le chat"]
    assert channels.watches("C1")[0].user == "U1" and channels.watches("C1")[0].created_at == 1000.0
    assert channels.remove_watch("C1", "le chat")
    assert not channels.remove_watch("C1", "le chat")
    assert [(w.channel, w.words) for w in channels.active_watches()] == [
        ("C1", "mistral funding"),
        ("C2", "le chat"),
    ]


def test_a_paused_channel_has_no_active_watch_until_a_watch_is_added_again(channels):
    channels.add_watch("C1", "mistral", "U1")
    channels.pause("C1", "not_in_channel")
    assert channels.paused_reason("C1") == "not_in_channel"
    assert channels.active_watches() == []
    assert [w.words for w in channels.watches("C1")] == ["mistral"]
    channels.add_watch("C1", "le chat", "U1")
    assert channels.paused_reason("C1") is None
    assert len(channels.active_watches()) == 2


def test_the_cursor_is_none_then_kept(channels, opener, clock):
    assert channels.cursor() is None
    channels.set_cursor(7)
    channels.set_cursor(9)
    assert opener(clock).cursor() == 9


def test_one_top_level_post_per_story_and_channel_the_rest_in_its_thread(channels):
    assert channels.queue_post("C1", "a1", "a1") == "top"
    assert channels.queue_post("C1", "a1", "a1") is None
    assert channels.queue_post("C1", "a2", "a1") == "reply"
    assert channels.queue_post("C2", "a2", "a1") == "top"
    assert channels.story_channels("a1") == ["C1", "C2"]
    assert channels.post_state("C1", "a2") == "pending"


def test_a_reply_waits_for_its_story_post_then_goes_in_its_thread(channels, clock):
    channels.queue_post("C1", "a1", "a1")
    channels.queue_post("C1", "a2", "a1")
    top = channels.claim_post("w1", 60, pace_seconds=1)
    assert (top.article_id, top.reply, top.thread_ts) == ("a1", False, None)
    clock.now += 5
    assert channels.claim_post("w1", 60, pace_seconds=1) is None  # the story post is not recorded yet
    assert channels.story_post("C1", "a1") is None
    assert channels.finish_post("C1", "a1", "w1", "111.1")
    assert channels.story_post("C1", "a1") == "111.1"
    reply = channels.claim_post("w1", 60, pace_seconds=1)
    assert (reply.article_id, reply.reply, reply.thread_ts) == ("a2", True, "111.1")


def test_claims_are_paced_per_channel_and_exclusive_across_processes(channels, opener, clock):
    other = opener(clock)
    for n in range(3):
        channels.queue_post("C1", f"a{n}", f"a{n}")
    channels.queue_post("C2", "b0", "b0")
    first = channels.claim_post("w1", 60, pace_seconds=1)
    second = other.claim_post("w2", 60, pace_seconds=1)
    assert (first.channel, second.channel) == ("C1", "C2")
    assert channels.claim_post("w1", 60, pace_seconds=1) is None  # C1's next slot is a second away
    clock.now += 1
    assert other.claim_post("w2", 60, pace_seconds=1).article_id == "a1"


def test_a_throttled_post_is_no_failed_attempt_and_holds_the_channel_back(channels, clock):
    channels.queue_post("C1", "a1", "a1")
    channels.queue_post("C1", "a2", "a2")
    claim = channels.claim_post("w1", 60, pace_seconds=1)
    assert channels.retry_post("C1", "a1", "w1", "ratelimited", 30, throttled=True)
    clock.now += 10
    assert channels.claim_post("w1", 60, pace_seconds=1) is None
    clock.now += 21
    again = channels.claim_post("w1", 60, pace_seconds=1)
    assert (again.article_id, again.attempts) == ("a1", claim.attempts)


def test_an_expired_or_unsure_claim_is_recovered_and_a_failed_post_stays_failed(channels, opener, clock):
    channels.queue_post("C1", "a1", "a1")
    channels.queue_post("C2", "b1", "b1")
    channels.claim_post("w1", 60, pace_seconds=1)
    clock.now += 61
    taken = opener(clock).claim_post("w2", 60, pace_seconds=1)
    assert taken.recovered and taken.article_id == "a1"
    assert not channels.finish_post("C1", "a1", "w1", "1.1")
    assert channels.retry_post("C1", "a1", "w2", "timed out", 0, unsure=True)
    assert channels.post_state("C1", "a1") == "unsure"
    b1 = channels.claim_post("w1", 60, pace_seconds=1)
    assert not b1.recovered and channels.fail_post("C2", "b1", "w1", "is_archived")
    assert channels.post_state("C2", "b1") == "failed"
    clock.now += 2
    assert channels.claim_post("w1", 60, pace_seconds=1).recovered


def test_a_paused_channel_posts_nothing(channels):
    channels.queue_post("C1", "a1", "a1")
    channels.pause("C1", "channel_not_found")
    assert channels.claim_post("w1", 60, pace_seconds=1) is None


def test_a_digest_is_set_replaced_and_removed(channels):
    channels.set_digest("C1", parse_schedule("daily 08:30", "Europe/Paris"), "U1", 100.0)
    channels.set_digest("C1", parse_schedule("weekly monday 09:00", "Europe/Paris"), "U2", 200.0)
    [digest] = channels.digests()
    assert (digest.channel, digest.schedule.weekday, digest.user, digest.last_sent) == ("C1", 0, "U2", 200.0)
    assert digest.schedule.timezone == "Europe/Paris" and not digest.paused
    channels.pause("C1", "is_archived")
    assert channels.digests()[0].paused
    assert channels.remove_digest("C1") and not channels.remove_digest("C1")
    assert channels.digests() == []


def test_a_digest_period_is_claimed_by_one_worker_and_sent_once(channels, opener, clock):
    other = opener(clock)
    channels.set_digest("C1", parse_schedule("daily 08:30"), "U1", 100.0)
    [digest] = channels.digests()
    claim = channels.claim_digest(digest, 500.0, "w1", now=1000.0, lease_seconds=60)
    assert claim.period_start == 100.0 and not claim.recovered
    assert other.claim_digest(digest, 500.0, "w2", now=1000.0, lease_seconds=60) is None
    assert channels.finish_digest("C1", "w1", 500.0)
    assert other.claim_digest(digest, 500.0, "w2", now=1000.0, lease_seconds=60) is None  # sent already
    assert other.digests()[0].last_sent == 500.0


def test_an_abandoned_digest_claim_is_recovered_and_a_released_one_waits(channels, opener, clock):
    channels.set_digest("C1", parse_schedule("daily 08:30"), "U1", 100.0)
    [digest] = channels.digests()
    channels.claim_digest(digest, 500.0, "crashed", now=1000.0, lease_seconds=60)
    taken = opener(clock).claim_digest(digest, 500.0, "w2", now=1061.0, lease_seconds=60)
    assert taken.recovered
    assert channels.release_digest("C1", "w2", 2000.0, unsure=False)
    assert channels.claim_digest(digest, 500.0, "w1", now=1500.0, lease_seconds=60) is None
    again = channels.claim_digest(digest, 500.0, "w1", now=2000.0, lease_seconds=60)
    assert again is not None and not again.recovered


def posted_story_with_replies(channels, clock, replies: int) -> None:
    """Story a1 posted in C1 with `replies` of its later articles posted in its thread."""
    channels.queue_post("C1", "a1", "a1")
    for n in range(replies):
        channels.queue_post("C1", f"a1-{n}", "a1")
    for n in range(replies + 1):
        claim = channels.claim_post("w1", 60, pace_seconds=1)
        assert channels.finish_post("C1", claim.article_id, "w1", f"11{n}.1")
        clock.now += 1


def test_a_posted_reply_makes_its_story_post_due_a_recount_until_one_is_done(channels, opener, clock):
    channels.queue_post("C1", "a1", "a1")
    channels.claim_post("w1", 60, pace_seconds=1)
    channels.finish_post("C1", "a1", "w1", "110.1")
    assert channels.claim_recount("w1", 60) is None  # no reply yet: nothing to count
    clock.now += 1
    channels.queue_post("C1", "a2", "a1")
    channels.finish_post("C1", channels.claim_post("w1", 60, pace_seconds=1).article_id, "w1", "111.1")
    claim = opener(clock).claim_recount("w2", 60)  # kept in the database: another process sees it
    assert (claim.channel, claim.story, claim.message_ts, claim.wanted) == ("C1", "a1", "110.1", 1)
    assert channels.claim_recount("w1", 60) is None  # held
    assert channels.finish_recount("C1", "a1", "w2", claim.wanted)
    assert channels.claim_recount("w1", 60) is None  # done


def test_a_recount_given_back_waits_its_delay_and_an_abandoned_one_is_taken_over(channels, clock):
    posted_story_with_replies(channels, clock, 1)
    claim = channels.claim_recount("w1", 60)
    assert channels.retry_recount("C1", "a1", "w1", 30)
    clock.now += 29
    assert channels.claim_recount("w1", 60) is None
    clock.now += 2
    assert channels.claim_recount("crashed", 60) == claim
    clock.now += 61
    assert channels.claim_recount("w2", 60) == claim
    assert not channels.retry_recount("C1", "a1", "crashed", 0)


def test_a_reply_posted_during_a_recount_leaves_it_due_with_the_newer_count(channels, clock):
    channels.queue_post("C1", "a1", "a1")
    channels.queue_post("C1", "a2", "a1")
    channels.queue_post("C1", "a3", "a1")
    for _ in range(2):
        channels.finish_post("C1", channels.claim_post("w1", 60, pace_seconds=1).article_id, "w1", "1.1")
        clock.now += 1
    first = channels.claim_recount("w1", 60)
    channels.finish_post("C1", channels.claim_post("w1", 60, pace_seconds=1).article_id, "w1", "1.2")
    assert channels.finish_recount("C1", "a1", "w1", first.wanted)
    assert channels.claim_recount("w1", 60).wanted == first.wanted + 1


def test_a_recount_finished_after_its_lease_was_taken_over_is_wanted_once_more(channels, clock):
    posted_story_with_replies(channels, clock, 1)
    late = channels.claim_recount("slow", 60)
    clock.now += 61
    taken = channels.claim_recount("w2", 60)
    assert channels.finish_recount("C1", "a1", "w2", taken.wanted)
    # The slow worker's edit may have landed after w2's, with an older count: it is made again.
    assert not channels.finish_recount("C1", "a1", "slow", late.wanted)
    assert channels.claim_recount("w1", 60).wanted == taken.wanted + 1


def test_a_paused_channel_gets_no_recount(channels, clock):
    posted_story_with_replies(channels, clock, 1)
    channels.pause("C1", "channel_not_found")
    assert channels.claim_recount("w1", 60) is None


def test_a_slot_taken_outside_the_outbox_paces_the_channel_as_a_post_does(channels, opener, clock):
    other = opener(clock)
    assert channels.take_slot("C1", pace_seconds=1)  # a digest, say
    assert not other.take_slot("C1", pace_seconds=1)
    channels.queue_post("C1", "a1", "a1")
    assert other.claim_post("w2", 60, pace_seconds=1) is None
    assert other.take_slot("C2", pace_seconds=1)  # each channel has its own slots
    clock.now += 1
    assert other.claim_post("w2", 60, pace_seconds=1).article_id == "a1"
    assert not channels.take_slot("C1", pace_seconds=1)  # the post booked the next slot
    clock.now += 1
    assert channels.take_slot("C1", pace_seconds=1)


def test_held_slots_keep_every_poster_out_of_the_channel_for_that_long(channels, clock):
    channels.queue_post("C1", "a1", "a1")
    channels.hold_slots("C1", 30)
    channels.hold_slots("C1", 5)  # a shorter hold does not shorten the longer one
    clock.now += 29
    assert not channels.take_slot("C1", pace_seconds=1)
    assert channels.claim_post("w1", 60, pace_seconds=1) is None
    clock.now += 1
    assert channels.claim_post("w1", 60, pace_seconds=1).article_id == "a1"
