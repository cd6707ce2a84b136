"""End to end through the served app: digests at a frozen clock, in the user's timezone, missed ones sent
once at start, never twice, nothing for an empty period."""

from __future__ import annotations

import datetime as dt
import json
import time
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.test_serving_watches import ROBOTICS, SINGAPORE, SINGAPORE_COPY, TEAM, ask, posts
from tests.handlers.block_checks import assert_no_broadcast, assert_valid_message
from tests.polling import wait_until
from tests.served import served_app
from tests.stores.test_contract import Clock

HOUR = 3600.0


@pytest.fixture
def clock():
    return Clock(time.time())  # frozen: only the test moves it


@pytest.fixture
def database(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


def in_two_hours(clock: Clock, zone: str = "Europe/Paris") -> str:
    """HH:MM two hours after now, in `zone`: the next due time is then ~2 h away. The clock is set to
    now first, after the seeds of the first start (they are no news of the digest's period)."""
    clock.now = time.time()
    moment = dt.datetime.fromtimestamp(clock.now + 2 * HOUR, ZoneInfo(zone))
    return f"{moment:%H:%M}"


def add_news(app, articles_dir) -> None:
    desk = app.app.news
    before = len(desk.store.active_articles())
    for name, text in (
        ("singapore.txt", SINGAPORE),
        ("robotics.txt", ROBOTICS),
        ("copy.txt", SINGAPORE_COPY),
    ):
        (articles_dir / name).write_text(text, encoding="utf-8")
    wait_until(lambda: len(desk.store.active_articles()) == before + 3, timeout=20)


def digests(slack) -> list[dict]:
    return [p for p in posts(slack, TEAM) if "digest" in p.get("text", "")]


def test_a_daily_digest_at_a_frozen_clock_lists_the_stories_most_reported_first(
    fake_slack, articles_dir, database, clock
):
    with served_app(fake_slack, articles_dir, database, clock=clock) as app:
        when = in_two_hours(clock)
        answer = ask(app, f"digest daily {when}")
        assert f"Digest set: daily at {when} (Europe/Paris)" in answer["text"]
        assert fake_slack.calls_to("users.info")[-1]["user"] == "U0PERSON01"
        add_news(app, articles_dir)
        assert digests(fake_slack) == []  # not due yet
        clock.now += 3 * HOUR
        wait_until(lambda: digests(fake_slack), timeout=20)
        [digest] = digests(fake_slack)
        assert_valid_message(digest)
        assert_no_broadcast(digest)
        assert digest["text"].startswith("Your daily digest: 2 stories")
        sections = [b["text"]["text"] for b in digest["blocks"] if b["type"] == "section"]
        assert "Singapore" in sections[0] and "robotics" in sections[1]  # two outlets before one
        outlets = [b for b in digest["blocks"] if b["type"] == "context"]
        assert "2 outlets" in json.dumps(outlets[0]) and "1 outlet" in json.dumps(outlets[1])
        # The next day brings no news: nothing is sent, and the period still moves on.
        news = app.app.news.channel_news
        [before] = news.channels.digests()
        clock.now += 24 * HOUR
        wait_until(lambda: news.channels.digests()[0].last_sent > before.last_sent, timeout=20)
        assert len(digests(fake_slack)) == 1


def test_a_digest_missed_while_stopped_is_sent_once_at_start_and_never_twice(
    fake_slack, articles_dir, database, clock
):
    with served_app(fake_slack, articles_dir, database, clock=clock) as app:
        ask(app, f"digest daily {in_two_hours(clock)}")
        add_news(app, articles_dir)
    clock.now += 3 * 24 * HOUR  # three due times pass while the app is stopped
    with served_app(fake_slack, articles_dir, database, clock=clock) as app:
        wait_until(lambda: digests(fake_slack), timeout=20)
        assert not app.app.news.channel_news.send_due_digests()
    with served_app(fake_slack, articles_dir, database, clock=clock) as app:
        assert not app.app.news.channel_news.send_due_digests()
    [digest] = digests(fake_slack)
    assert "2 stories" in digest["text"]


def test_digest_commands_say_what_is_set_and_refuse_what_they_cannot_read(
    fake_slack, articles_dir, database, clock
):
    fake_slack.timezones["U0PERSON01"] = "America/New_York"
    with served_app(fake_slack, articles_dir, database, clock=clock) as app:
        assert "gets no digest" in ask(app, "digest")["text"]
        assert "is not a time of day" in ask(app, "digest daily 25:00")["text"]
        assert "not a day of the week" in ask(app, "digest weekly someday 09:00")["text"]
        assert (
            "weekly on Mondays at 09:00 (America/New_York)" in ask(app, "digest weekly monday 09:00")["text"]
        )
        assert "weekly on Mondays" in ask(app, "digest")["text"]
        assert "No more digests here" in ask(app, "digest off")["text"]
        assert "gets no digest" in ask(app, "digest")["text"]
