"""Logs for operators: one line per event, with time, level and logger; no noise from Bolt."""

import io
import logging

import pytest

from bot.app import create_app
from bot.logs import configure_logging
from bot.posting.announcements import Notifier
from bot.posting.web_client import build_web_client
from bot.settings import Settings
from bot.stores.store import open_sqlite
from handlers.context import Dependencies
from search import SearchIndex, Summarizer, parse_article


@pytest.fixture
def log_stream():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    stream = io.StringIO()
    configure_logging("INFO", stream)
    yield stream
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_an_exception_is_one_line_saying_what_and_where(log_stream):
    try:
        {}["missing"]
    except KeyError:
        logging.getLogger("bot.test").exception("Lookup failed")
    [line] = log_stream.getvalue().splitlines()
    assert " ERROR bot.test: Lookup failed [KeyError: 'missing' at " in line
    assert "test_logs.py:" in line


def test_text_from_outside_cannot_forge_a_second_line(log_stream):
    logging.getLogger("bot.test").warning("Skipped %s", "evil.txt\n2024-01-01 INFO bot: all good")
    [line] = log_stream.getvalue().splitlines()
    assert line.endswith("Skipped evil.txt\\n2024-01-01 INFO bot: all good")


def test_a_huge_message_is_cut(log_stream):
    logging.getLogger("bot.test").info("%s", "x" * 100_000)
    [line] = log_stream.getvalue().splitlines()
    assert len(line) <= 2000 and line.endswith("…")


def test_debug_keeps_the_whole_traceback():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    stream = io.StringIO()
    try:
        configure_logging("DEBUG", stream)
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            logging.getLogger("bot.test").exception("It broke")
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
    assert "Traceback (most recent call last)" in stream.getvalue()


def test_bolt_does_not_warn_that_the_token_is_unused(log_stream, monkeypatch, fake_slack):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-the-environment")
    settings = Settings(
        _env_file=None,
        slack_bot_token="xoxb-from-the-environment",
        slack_signing_secret="s",
        slack_api_url=fake_slack.url,
    )
    create_app(settings, lambda: Dependencies(SearchIndex(), settings.slash_command))
    assert "unused" not in log_stream.getvalue()


def test_a_failed_announcement_that_will_be_retried_is_one_warning(log_stream, tmp_path, fake_slack):
    store = open_sqlite(tmp_path / "bot.db")
    index = SearchIndex()
    article = parse_article("Mistral AI opens an office in Munich, its third in Europe.", "munich.txt")
    store.articles.record(article, announce=True)
    index.add(article)
    fake_slack.fail_next("chat.postMessage", status=503, error="service_unavailable", times=3)
    client = build_web_client("xoxb-test", fake_slack.url)
    Notifier(store, index, client, "C0NEWS0001", Summarizer(index.analyzer)).run_once()
    store.close()
    assert len(fake_slack.calls_to("chat.postMessage")) == 3
    [line] = log_stream.getvalue().splitlines()
    assert " WARNING bot.posting.announcements: Announcing " in line and "retrying in" in line
