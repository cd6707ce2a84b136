import json
import logging
import threading

import pytest
from slack_sdk import WebClient

from bot.app import start_news_desk
from bot.news.pipeline import Pipeline, RawArticle
from bot.posting.announcements import Notifier
from bot.posting.refusals import Backoff
from bot.posting.web_client import build_web_client
from bot.settings import load_settings
from bot.stores.articles import SqliteStore
from handlers.blocks.common import announcement_block_id
from handlers.blocks.news import METADATA_EVENT
from search import Analyzer, SearchIndex, Summarizer, parse_article
from tests.fakes.slack_api import FakeSlack
from tests.polling import wait_until

CHANNEL = "C0NEWS0001"
NEWS = (
    "date 2024-06-11\nMistral AI raises 600 million euros\n\n"
    "Mistral AI raised 600 million euros on Tuesday from investors led by General Catalyst. "
    "The round values the Paris start-up at about $6 billion. "
    "The company will spend the money on computing power and on hiring engineers in Europe."
)


class FakeSlackWithHistory(FakeSlack):
    """FakeSlack that also answers conversations.history with the messages posted so far."""

    def __init__(self) -> None:
        super().__init__()
        self.history: list[dict] = []

    def _answer(self, method, params):
        answer = super()._answer(method, params)
        if method == "chat.postMessage":
            self.history.insert(0, {**answer["message"], "metadata": params.get("metadata")})
        if method == "conversations.history":
            return {"ok": True, "messages": list(self.history), "has_more": False}
        return answer


@pytest.fixture
def slack():
    with FakeSlackWithHistory() as fake:
        yield fake


@pytest.fixture
def store(tmp_path):
    store = SqliteStore(tmp_path / "bot.db")
    yield store
    store.close()


def record_news(store, index, text=NEWS, source="news.txt"):
    article = parse_article(text, source)
    store.record(article, announce=True)
    index.add(article)
    return article


def notifier_for(store, index, slack, **options):
    options.setdefault("poll_seconds", 0.05)
    client = WebClient(token="xoxb-test", base_url=slack.url)
    return Notifier(store, index, client, CHANNEL, Summarizer(index.analyzer), **options)


def test_the_news_desk_summarises_with_the_analyzer_of_its_index(tmp_path, slack):
    (tmp_path / "articles").mkdir()
    settings = load_settings(
        require_slack=False,
        slack_bot_token="xoxb-test",
        slack_api_url=slack.url,
        articles_dir=str(tmp_path / "articles"),
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
    )
    index = SearchIndex(analyzer=Analyzer(stem=False))
    desk = start_news_desk(settings, WebClient(token="xoxb-test", base_url=slack.url), index=index)
    try:
        assert desk.notifier.summarizer.analyzer is index.analyzer
        assert desk.channel_news.summarizer.analyzer is index.analyzer
    finally:
        desk.stop()


def test_posts_one_message_with_the_summary_and_records_it(store, slack):
    index = SearchIndex()
    article = record_news(store, index)
    notifier = notifier_for(store, index, slack)
    assert notifier.run_once()
    assert not notifier.run_once()
    [call] = slack.calls_to("chat.postMessage")
    assert call["channel"] == CHANNEL
    assert call["blocks"][0]["block_id"] == announcement_block_id(article.id)
    assert "600 million euros" in call["blocks"][2]["text"]["text"]
    assert call["metadata"] == {"event_type": METADATA_EVENT, "event_payload": {"article_id": article.id}}
    assert store.announcement_state(article.id) == "posted"


def test_related_articles_already_indexed_are_listed(store, slack):
    index = SearchIndex()
    older = parse_article(
        "Mistral AI raised 105 million euros in June 2023 from Lightspeed investors.", "old.txt"
    )
    unrelated = parse_article(
        "The weather in Brittany stayed rainy all week, with storms on the coast.", "rain.txt"
    )
    for article in (older, unrelated):
        store.record(article, announce=False)
        index.add(article)
    record_news(store, index)
    notifier_for(store, index, slack).run_once()
    [call] = slack.calls_to("chat.postMessage")
    related = call["blocks"][3]["text"]["text"]
    assert f"{older.title} (undated)" in related
    assert unrelated.title not in related


def test_a_rate_limit_then_success_gives_one_message_after_retry_after(store, slack):
    index = SearchIndex()
    article = record_news(store, index)
    slack.fail_next("chat.postMessage", status=429, retry_after=1)
    notifier = notifier_for(store, index, slack).start()
    try:
        slack.wait_for("chat.postMessage", count=2, timeout=10)
        wait_until(lambda: store.announcement_state(article.id) == "posted")
    finally:
        notifier.stop()
    assert len(slack.calls_to("chat.postMessage")) == 2


def test_a_permanent_error_is_given_up_with_one_log_line(store, slack, caplog):
    index = SearchIndex()
    article = record_news(store, index)
    slack.fail_next("chat.postMessage", status=200, error="channel_not_found")
    notifier = notifier_for(store, index, slack)
    with caplog.at_level(logging.ERROR, logger="bot.posting.announcements"):
        assert notifier.run_once()
        assert not notifier.run_once()
    assert store.announcement_state(article.id) == "failed"
    assert len(slack.calls_to("chat.postMessage")) == 1
    assert ["channel_not_found" in r.getMessage() for r in caplog.records] == [True]


def test_repeated_server_errors_back_off_then_give_up(store, slack):
    index = SearchIndex()
    article = record_news(store, index)
    slack.fail_next("chat.postMessage", status=500, error="internal_error", times=3)
    notifier = notifier_for(store, index, slack, backoff=Backoff(base_seconds=0.01, max_attempts=3))
    notifier.start()
    try:
        wait_until(lambda: store.announcement_state(article.id) == "failed")
    finally:
        notifier.stop()
    assert len(slack.calls_to("chat.postMessage")) == 3


def test_without_a_channel_it_warns_once_and_posts_nothing(store, slack, caplog):
    index = SearchIndex()
    article = record_news(store, index)
    notifier = Notifier(
        store, index, WebClient(token="xoxb-test", base_url=slack.url), None, Summarizer(index.analyzer)
    )
    with caplog.at_level(logging.WARNING, logger="bot.posting.announcements"):
        notifier.start()
        notifier.wake()
        assert not notifier.run_once()
        notifier.stop()
    assert ["NOTIFY_CHANNEL" in r.getMessage() for r in caplog.records] == [True]
    assert slack.calls == []
    assert store.announcement_state(article.id) == "pending"


def test_crash_after_posting_is_not_posted_again(store, slack):
    index = SearchIndex()
    article = record_news(store, index)
    crashed = notifier_for(store, index, slack, lease_seconds=0.2)
    claim = store.claim_announcement(crashed.worker_id, lease_seconds=0.2)
    crashed.client.chat_postMessage(channel=CHANNEL, **crashed.message_for(article))
    # ...and the process dies before recording the post.
    survivor = notifier_for(store, index, slack).start()
    try:
        wait_until(lambda: store.announcement_state(claim.article_id) == "posted")
    finally:
        survivor.stop()
    assert len(slack.calls_to("chat.postMessage")) == 1
    assert len(slack.calls_to("conversations.history")) == 1


def test_crash_before_posting_is_posted_by_the_next_worker(store, slack):
    index = SearchIndex()
    article = record_news(store, index)
    store.claim_announcement("crashed-worker", lease_seconds=0.2)
    survivor = notifier_for(store, index, slack).start()
    try:
        wait_until(lambda: store.announcement_state(article.id) == "posted")
    finally:
        survivor.stop()
    assert len(slack.calls_to("chat.postMessage")) == 1


def test_two_notifiers_on_one_store_post_each_article_once(tmp_path, slack):
    index = SearchIndex()
    setup = SqliteStore(tmp_path / "shared.db")
    ids = [record_news(setup, index, NEWS.replace("600", str(n)), f"{n}.txt").id for n in range(12)]
    stores = [SqliteStore(tmp_path / "shared.db") for _ in range(2)]
    notifiers = [notifier_for(s, index, slack).start() for s in stores]
    try:
        wait_until(lambda: setup.counts() == {"posted": 12}, timeout=15)
    finally:
        for notifier in notifiers:
            notifier.stop()
    posted = [c["metadata"]["event_payload"]["article_id"] for c in slack.calls_to("chat.postMessage")]
    assert sorted(posted) == sorted(ids)


def test_the_background_thread_does_not_hold_up_the_caller(store, slack):
    index = SearchIndex()
    record_news(store, index)
    slack.fail_next("chat.postMessage", status=429, retry_after=2)
    notifier = notifier_for(store, index, slack)
    started = threading.Event()
    thread = threading.Thread(target=lambda: (notifier.start(), started.set()))
    thread.start()
    assert started.wait(1.0)
    notifier.stop()


def slow_slack_notifier(store, index, slack, **options):
    """A notifier on the app's own client (build_web_client), which gives up on a call after 0.5 s."""
    client = build_web_client("xoxb-test", slack.url, timeout=0.5)
    options.setdefault("backoff", Backoff(base_seconds=0.05))
    return Notifier(store, index, client, CHANNEL, Summarizer(index.analyzer), poll_seconds=0.05, **options)


def test_a_slow_slack_that_posts_gets_the_announcement_once(store, slack):
    index = SearchIndex()
    article = record_news(store, index)
    slack.delay_next("chat.postMessage", 30)
    notifier = slow_slack_notifier(store, index, slack).start()
    try:
        wait_until(lambda: store.announcement_state(article.id) == "posted")
    finally:
        notifier.stop()
    assert len(slack.calls_to("chat.postMessage")) == 1
    assert len(slack.history) == 1
    assert len(slack.calls_to("conversations.history")) == 1


def test_a_post_cut_off_before_slack_took_it_is_posted_again_once(store, slack):
    index = SearchIndex()
    article = record_news(store, index)
    slack.drop_next("chat.postMessage")
    notifier = slow_slack_notifier(store, index, slack).start()
    try:
        wait_until(lambda: store.announcement_state(article.id) == "posted")
    finally:
        notifier.stop()
    assert len(slack.calls_to("chat.postMessage")) == 2
    assert len(slack.history) == 1
    assert len(slack.calls_to("conversations.history")) == 1


def test_when_the_history_does_not_answer_either_it_looks_again_rather_than_post(store, slack, caplog):
    index = SearchIndex()
    article = record_news(store, index)
    slack.delay_next("chat.postMessage", 30)
    slack.delay_next("conversations.history", 30, times=2)
    notifier = slow_slack_notifier(store, index, slack).start()
    with caplog.at_level(logging.WARNING):
        try:
            wait_until(lambda: store.announcement_state(article.id) == "posted")
        finally:
            notifier.stop()
    assert len(slack.calls_to("chat.postMessage")) == 1
    assert len(slack.calls_to("conversations.history")) == 3
    retries = [r for r in caplog.records if r.name == "bot.posting.announcements"]
    assert len(retries) == 3 and all(r.levelno == logging.WARNING and not r.exc_info for r in retries)


def test_a_history_slack_refuses_to_show_means_posting_again(store, slack):
    index = SearchIndex()
    article = record_news(store, index)
    slack.drop_next("chat.postMessage")
    slack.fail_next("conversations.history", status=200, error="missing_scope")
    notifier = slow_slack_notifier(store, index, slack).start()
    try:
        wait_until(lambda: store.announcement_state(article.id) == "posted")
    finally:
        notifier.stop()
    assert len(slack.calls_to("chat.postMessage")) == 2


def test_a_syndicated_copy_is_named_on_the_posted_announcement_after_a_rate_limit(store, slack):
    index = SearchIndex()
    pipeline = Pipeline(store, index)
    body = (
        NEWS.split("\n\n", 1)[1]
        + "\n\nAnalysts expect the company to double its staff within two years in Paris."
    )
    pipeline.ingest(
        RawArticle(
            body,
            "https://wire.example/a",
            "link",
            url="https://wire.example/a",
            title="Raise",
            outlet="EuroWire",
        ),
        announce=True,
    )
    notifier = notifier_for(store, index, slack, backoff=Backoff(base_seconds=0.05))
    assert notifier.run_once()
    copy = pipeline.ingest(
        RawArticle(
            body + " Shares were unchanged.",
            "https://daily.example/b",
            "link",
            url="https://daily.example/b",
            title="Other headline",
            outlet="The <Daily> Byte",
        ),
        announce=True,
    )
    assert copy.outcome == "copy"
    slack.fail_next("chat.update", status=429, retry_after=0)
    notifier.start()
    try:
        slack.wait_for("chat.update", count=2, timeout=10)
    finally:
        notifier.stop()
    [posted] = slack.calls_to("chat.postMessage")
    update = slack.calls_to("chat.update")[-1]
    assert (
        update["ts"]
        == slack.calls[[c["method"] for c in slack.calls].index("chat.postMessage")]["response"]["ts"]
    )
    assert any(
        b["type"] == "context" and "Also reported by The &lt;Daily&gt; Byte" in json.dumps(b)
        for b in update["blocks"]
    )
    assert "Also reported" not in json.dumps(posted["blocks"])
    assert len(slack.calls_to("chat.postMessage")) == 1
