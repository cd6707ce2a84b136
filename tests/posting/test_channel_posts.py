"""The channel outbox worker on a hand-moved clock: pacing, rate limits, crashes and two processes."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from slack_sdk import WebClient

from bot.news.digests import due_digest, parse_schedule
from bot.posting.announcements import Notifier
from bot.posting.channel_posts import ChannelNews
from bot.stores.articles import SqliteStore
from bot.stores.channels import SqliteChannelStore
from handlers.blocks.news import DIGEST_EVENT, story_reply_message
from search import SearchIndex, Summarizer, parse_article
from tests.posting.test_notifier import FakeSlackWithHistory
from tests.stores.test_contract import Clock

CHANNEL = "C0WATCH001"
TOPICS = ("GPU", "Paris", "Munich", "Tokyo", "Lagos", "Lima", "Oslo", "Seoul", "Quito", "Cairo")


def news(n: int):
    return parse_article(
        f"date 2024-06-11\nMistral AI update {n}\n\n"
        f"Mistral AI published release note {n} about its {TOPICS[n % 10]} plans, item {n * 7919}.",
        f"burst/{n}.txt",
    )


@pytest.fixture
def slack():
    with FakeSlackWithHistory() as fake:
        yield fake


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "bot.db"


def worker(db_path, clock, index, slack, opened, name):
    store = SqliteStore(db_path, clock=clock)
    opened.append(store)
    client = WebClient(token="xoxb-test", base_url=slack.url)  # no retry handler: 429s reach the worker
    summarizer = Summarizer(index.analyzer)
    message_for = Notifier(store, index, client, None, summarizer).message_for
    return ChannelNews(
        store, SqliteChannelStore(store), index, client, message_for, summarizer, worker_id=name
    )


@pytest.fixture
def opened():
    stores: list[SqliteStore] = []
    yield stores
    for store in stores:
        store.close()


def posted_ids(slack) -> list[str]:
    return [c["metadata"]["event_payload"]["article_id"] for c in slack.calls_to("chat.postMessage")]


def test_a_burst_of_50_articles_with_rate_limits_is_posted_once_each_a_second_apart(
    db_path, clock, slack, opened
):
    index = SearchIndex()
    first, second = (worker(db_path, clock, index, slack, opened, name) for name in ("w1", "w2"))
    first.match_new()  # the cursor starts at the end of the store
    first.channels.add_watch(CHANNEL, "mistral", "U1")
    clock.now += 1
    articles = [news(n) for n in range(50)]
    for article in articles:
        first.store.record(article, announce=True)
        index.add(article)
    slack.fail_next("chat.postMessage", status=429, retry_after=3, times=4)
    times: list[float] = []
    for _ in range(400):
        before = len(post_calls(slack))
        busy = first.run_once() | second.run_once()
        times += [clock.now] * (len(post_calls(slack)) - before)
        if not busy:
            clock.now += 0.25
        if len([c for c in post_calls(slack) if c["status"] == 200]) == 50:
            break
    delivered = [c["params"] for c in post_calls(slack) if c["status"] == 200]
    ids = [c["metadata"]["event_payload"]["article_id"] for c in delivered]
    assert sorted(ids) == sorted(a.id for a in articles)  # each one, once, none lost
    assert all(later - earlier >= 1 for earlier, later in itertools.pairwise(times))
    # After each 429 the channel waited its Retry-After (3 s) before the next try.
    statuses = [c["status"] for c in post_calls(slack)]
    assert statuses.count(429) == 4
    for n, status in enumerate(statuses[:-1]):
        if status == 429:
            assert times[n + 1] - times[n] >= 3


def post_calls(slack) -> list[dict]:
    return [c for c in slack.calls if c["method"] == "chat.postMessage"]


def test_a_crash_after_posting_is_found_in_the_history_and_not_posted_again(db_path, clock, slack, opened):
    index = SearchIndex()
    crashed = worker(db_path, clock, index, slack, opened, "crashed")
    crashed.match_new()
    crashed.channels.add_watch(CHANNEL, "mistral", "U1")
    clock.now += 1
    article = news(1)
    crashed.store.record(article, announce=True)
    index.add(article)
    crashed.match_new()
    claim = crashed.channels.claim_post("crashed", lease_seconds=60, pace_seconds=1)
    crashed.client.chat_postMessage(channel=CHANNEL, **crashed.message_for(article))
    # ...and the process dies before recording the post; another takes over once the lease ran out.
    clock.now += 61
    survivor = worker(db_path, clock, index, slack, opened, "survivor")
    assert survivor.run_once()
    assert survivor.channels.post_state(CHANNEL, claim.article_id) == "posted"
    assert posted_ids(slack) == [article.id]


def test_an_article_recorded_before_the_watch_is_never_posted(db_path, clock, slack, opened):
    index = SearchIndex()
    news_worker = worker(db_path, clock, index, slack, opened, "w1")
    news_worker.match_new()
    early = news(1)
    news_worker.store.record(early, announce=True)
    index.add(early)
    clock.now += 1
    news_worker.channels.add_watch(CHANNEL, "mistral", "U1")  # before the worker saw the article
    late = news(2)
    clock.now += 1
    news_worker.store.record(late, announce=True)
    index.add(late)
    while news_worker.run_once():
        clock.now += 1
    assert posted_ids(slack) == [late.id]


def test_a_digest_sent_before_a_crash_is_found_in_the_history_and_not_sent_again(
    db_path, clock, slack, opened
):
    index = SearchIndex()
    crashed = worker(db_path, clock, index, slack, opened, "crashed")
    crashed.clock = clock
    crashed.channels.set_digest(CHANNEL, parse_schedule("daily 08:30"), "U1", clock.now)
    article = news(1)
    clock.now += 1
    crashed.store.record(article, announce=True)
    index.add(article)
    clock.now += 2 * 86400
    [digest] = crashed.channels.digests()
    _, end = due_digest(digest.schedule, instant(digest.last_sent), instant(clock.now))
    assert crashed.channels.claim_digest(digest, end.timestamp(), "crashed", clock.now, lease_seconds=60)
    payload = {"period_end": end.timestamp()}
    crashed.client.chat_postMessage(
        channel=CHANNEL,
        text="Your daily digest",
        metadata={"event_type": DIGEST_EVENT, "event_payload": payload},
    )
    # ...the process dies before recording it; the survivor takes the claim over once the lease ran out.
    clock.now += 61
    survivor = worker(db_path, clock, index, slack, opened, "survivor")
    survivor.clock = clock
    assert survivor.send_due_digests()
    assert len(slack.calls_to("chat.postMessage")) == 1
    assert survivor.channels.digests()[0].last_sent == end.timestamp()
    assert not survivor.send_due_digests()


def instant(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC)


class FakeSlackWithThreads(FakeSlackWithHistory):
    """Also answers conversations.replies with the replies posted in each thread."""

    def _answer(self, method, params):
        answer = super()._answer(method, params)
        if method == "conversations.replies":
            replies = [m for m in self.history if m.get("thread_ts") == params.get("ts")]
            return {"ok": True, "messages": replies, "has_more": False}
        return answer


def test_a_reply_posted_before_a_crash_is_found_in_its_thread_and_not_posted_again(db_path, clock, opened):
    with FakeSlackWithThreads() as slack:
        index = SearchIndex()
        news_worker = worker(db_path, clock, index, slack, opened, "w1")
        news_worker.match_new()
        news_worker.channels.add_watch(CHANNEL, "mistral", "U1")
        clock.now += 1
        first, later = news(1), news(2)
        news_worker.store.record(first, announce=True)
        index.add(first)
        news_worker.store.record(later, announce=False, story=first.id)  # a copy: same story
        index.add(later)
        assert news_worker.run_once()  # queued both (the copy as a reply), posted the first
        thread_ts = news_worker.channels.story_post(CHANNEL, first.id)
        clock.now += 1
        claim = news_worker.channels.claim_post("crashed", 60, pace_seconds=1)
        assert claim.reply and claim.thread_ts == thread_ts
        message = story_reply_message(later, "summary")
        news_worker.client.chat_postMessage(channel=CHANNEL, thread_ts=thread_ts, **message)
        clock.now += 61  # the crashed worker's lease runs out
        assert news_worker.run_once()
        assert news_worker.channels.post_state(CHANNEL, later.id) == "posted"
        assert [c.get("thread_ts") for c in slack.calls_to("chat.postMessage")] == [None, thread_ts]
        assert len(slack.calls_to("conversations.replies")) == 1


def test_a_cursor_behind_the_pruned_change_log_says_so_and_reads_on(db_path, clock, slack, opened, caplog):
    index = SearchIndex()
    news_worker = worker(db_path, clock, index, slack, opened, "w1")
    news_worker.match_new()
    news_worker.channels.add_watch(CHANNEL, "mistral", "U1")
    clock.now += 1
    missed, kept = news(1), news(2)
    for article in (missed, kept):  # every replica is down: nobody matches them now
        news_worker.store.record(article, announce=True)
        index.add(article)
        clock.now += 8 * 24 * 3600
    assert news_worker.store.prune_changes(keep_seconds=7 * 24 * 3600, keep_rows=1) == 1
    while news_worker.run_once():
        clock.now += 1
    assert posted_ids(slack) == [kept.id]
    assert "skip the articles of pruned changes" in caplog.text


def update_calls(slack) -> list[dict]:
    return [c for c in slack.calls if c["method"] == "chat.update"]


def outlets_counted(call: dict) -> str:
    """The "N outlets reported it" line of an edit."""
    texts = [e["text"] for b in call["params"]["blocks"] if b["type"] == "context" for e in b["elements"]]
    return next((t.split(".")[0] for t in texts if "outlets reported it" in t), "")


def story_with_reply(news_worker, index, clock):
    """A watched story posted, and a later article of it queued as a reply; its first article."""
    news_worker.match_new()
    news_worker.channels.add_watch(CHANNEL, "mistral", "U1")
    clock.now += 1
    first, later = news(1), news(2)
    news_worker.store.record(first, announce=True)
    index.add(first)
    news_worker.store.record(later, announce=False, story=first.id)
    index.add(later)
    assert news_worker.run_once()  # queued both (the later one as a reply), posted the first
    clock.now += 1
    return first


def test_an_edit_refused_with_a_429_is_made_once_its_retry_after_has_passed(db_path, clock, slack, opened):
    index = SearchIndex()
    news_worker = worker(db_path, clock, index, slack, opened, "w1")
    first = story_with_reply(news_worker, index, clock)
    slack.fail_next("chat.update", status=429, retry_after=5)
    assert news_worker.run_once()  # posts the reply; the edit of the first post is refused
    assert [c["status"] for c in update_calls(slack)] == [429]
    refused_at = clock.now
    while not [c for c in update_calls(slack) if c["status"] == 200]:
        assert clock.now < refused_at + 60, "the edit was never made again"
        news_worker.run_once()
        clock.now += 1
    [*_, edit] = update_calls(slack)
    assert clock.now - 1 >= refused_at + 5
    assert edit["params"]["ts"] == news_worker.channels.story_post(CHANNEL, first.id)
    assert outlets_counted(edit) == "2 outlets reported it"
    for _ in range(10):  # and it is made once
        news_worker.run_once()
        clock.now += 1
    assert len(update_calls(slack)) == 2


def test_an_edit_cut_off_is_made_again_with_the_count_of_that_time(db_path, clock, slack, opened):
    index = SearchIndex()
    news_worker = worker(db_path, clock, index, slack, opened, "w1")
    first = story_with_reply(news_worker, index, clock)
    for _ in range(2):  # the call and the client's own retry of a connection error
        slack.drop_next("chat.update")
    assert news_worker.run_once()
    assert len(update_calls(slack)) == 2 and not [c for c in update_calls(slack) if "response" in c]
    third = news(3)  # meanwhile the story gains a third outlet, posted before the edit is retried
    news_worker.store.record(third, announce=False, story=first.id)
    index.add(third)
    for _ in range(60):
        news_worker.run_once()
        clock.now += 1
    assert news_worker.channels.post_state(CHANNEL, third.id) == "posted"
    made = [c for c in update_calls(slack) if "response" in c]
    assert [outlets_counted(c) for c in made] == ["3 outlets reported it"]  # never a stale count


def test_an_edit_left_undone_by_a_worker_that_stopped_is_made_by_another(db_path, clock, slack, opened):
    index = SearchIndex()
    crashed = worker(db_path, clock, index, slack, opened, "crashed")
    first = story_with_reply(crashed, index, clock)
    claim = crashed.channels.claim_post("crashed", 60, pace_seconds=1)
    message = story_reply_message(index.get(claim.article_id), "summary")
    ts = crashed.client.chat_postMessage(channel=CHANNEL, thread_ts=claim.thread_ts, **message)["ts"]
    assert crashed.channels.finish_post(CHANNEL, claim.article_id, "crashed", ts)
    # ...and the process stops before editing the story's first post.
    survivor = worker(db_path, clock, index, slack, opened, "survivor")
    assert survivor.run_once()
    [edit] = update_calls(slack)
    assert edit["params"]["ts"] == survivor.channels.story_post(CHANNEL, first.id)
    assert outlets_counted(edit) == "2 outlets reported it"


def test_a_digest_due_during_a_burst_takes_the_channels_slot_like_a_post(db_path, clock, slack, opened):
    index = SearchIndex()
    workers = [worker(db_path, clock, index, slack, opened, name) for name in ("w1", "w2")]
    for news_worker in workers:
        news_worker.clock = clock
    workers[0].match_new()
    clock.now = 30600 - 10  # ten seconds before 08:30 UTC, when the digest is due
    workers[0].channels.add_watch(CHANNEL, "mistral", "U1")
    workers[0].channels.set_digest(CHANNEL, parse_schedule("daily 08:30"), "U1", clock.now)
    clock.now += 1
    articles = [news(n) for n in range(30)]
    for article in articles:
        workers[0].store.record(article, announce=True)
        index.add(article)
    times: list[float] = []
    for _ in range(400):
        if clock.now == 30600:  # the digest is due, and tried first: Slack answers it with a 429
            slack.fail_next("chat.postMessage", status=429, retry_after=3)
        before = len(post_calls(slack))
        busy = workers[0].run_once() | workers[1].run_once()
        times += [clock.now] * (len(post_calls(slack)) - before)
        if not busy:
            clock.now += 0.25
        if len([c for c in post_calls(slack) if c["status"] == 200]) == len(articles) + 1:
            break
    delivered = [c["params"] for c in post_calls(slack) if c["status"] == 200]
    digests = [c for c in delivered if c["metadata"]["event_type"] == DIGEST_EVENT]
    assert len(digests) == 1 and len(delivered) == len(articles) + 1
    assert all(later - earlier >= 1 for earlier, later in itertools.pairwise(times))
    statuses = [c["status"] for c in post_calls(slack)]
    refused = statuses.index(429)
    assert post_calls(slack)[refused]["params"]["metadata"]["event_type"] == DIGEST_EVENT
    assert times[refused + 1] - times[refused] >= 3  # the digest's 429 held the whole channel back


def test_announcements_in_a_watched_notify_channel_share_its_slots(db_path, clock, slack, opened):
    index = SearchIndex()
    news_worker = worker(db_path, clock, index, slack, opened, "w1")
    store = news_worker.store
    notifier = Notifier(
        store, index, news_worker.client, CHANNEL, news_worker.summarizer, channels=news_worker.channels
    )
    news_worker.match_new()
    news_worker.channels.add_watch(CHANNEL, "mistral", "U1")
    clock.now += 1
    articles = [news(n) for n in range(12)]
    for article in articles:
        store.record(article, announce=True)
        index.add(article)
    times: list[float] = []
    for _ in range(400):
        before = len(post_calls(slack))
        busy = notifier.run_once() | news_worker.run_once()
        times += [clock.now] * (len(post_calls(slack)) - before)
        if not busy:
            clock.now += 0.25
        if len(post_calls(slack)) == 2 * len(articles):
            break
    assert sorted(posted_ids(slack)) == sorted([a.id for a in articles] * 2)  # each one, once each way
    assert all(later - earlier >= 1 for earlier, later in itertools.pairwise(times))
    assert {store.announcement_state(a.id) for a in articles} == {"posted"}  # waiting is no failed attempt
