"""Digest schedules at a frozen clock: due times in the user's timezone, clock changes, missed digests."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.news.digests import Schedule, ScheduleError, due_digest, parse_schedule

PARIS = ZoneInfo("Europe/Paris")


def at(text: str, zone=PARIS) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=zone)


def test_a_daily_digest_is_due_at_its_local_time():
    schedule = parse_schedule("daily 08:30", "Europe/Paris")
    assert schedule == Schedule("daily", 8, 30, "Europe/Paris")
    assert schedule.next_due(at("2024-06-10 08:29")) == at("2024-06-10 08:30")
    assert schedule.next_due(at("2024-06-10 08:30")) == at("2024-06-11 08:30")
    assert schedule.due_at_or_before(at("2024-06-10 08:29")) == at("2024-06-09 08:30")


def test_a_weekly_digest_in_french_or_english_day_names():
    for words in ("weekly monday 9:00", "hebdo lundi 09h00", "weekly mon 09:00"):
        schedule = parse_schedule(words, "Europe/Paris")
        assert schedule.weekday == 0 and (schedule.hour, schedule.minute) == (9, 0)
    schedule = parse_schedule("weekly friday 17:00", "America/New_York")
    start = dt.datetime(2024, 6, 10, 12, tzinfo=dt.UTC)  # a Monday
    assert schedule.next_due(start) == dt.datetime(2024, 6, 14, 17, tzinfo=ZoneInfo("America/New_York"))


def test_clock_changes_keep_the_local_time():
    schedule = parse_schedule("daily 08:30", "Europe/Paris")
    before, after = schedule.next_due(at("2024-03-30 08:00")), schedule.next_due(at("2024-03-30 09:00"))
    assert before == at("2024-03-30 08:30") and after == at("2024-03-31 08:30")
    assert after - before == dt.timedelta(hours=23)
    skipped = parse_schedule("daily 02:30", "Europe/Paris").next_due(at("2024-03-31 00:00"))
    assert skipped.astimezone(dt.UTC) == dt.datetime(2024, 3, 31, 1, 30, tzinfo=dt.UTC)


def test_nothing_is_due_until_the_time_comes_and_then_once():
    schedule = parse_schedule("daily 08:30", "Europe/Paris")
    set_up = at("2024-06-10 10:00")
    assert due_digest(schedule, set_up, at("2024-06-11 08:29")) is None
    period = due_digest(schedule, set_up, at("2024-06-11 08:31"))
    assert period == (set_up, at("2024-06-11 08:30"))
    assert due_digest(schedule, period[1], at("2024-06-11 09:00")) is None


def test_digests_missed_while_down_are_one_digest_covering_the_whole_time():
    schedule = parse_schedule("daily 08:30", "Europe/Paris")
    last = at("2024-06-10 08:30")
    assert due_digest(schedule, last, at("2024-06-13 12:00")) == (last, at("2024-06-13 08:30"))


def test_an_unknown_timezone_falls_back_to_utc():
    assert parse_schedule("daily 08:30", "Mars/Olympus").timezone == "UTC"


@pytest.mark.parametrize(
    "words", ["daily", "daily 25:00", "daily 8", "weekly 09:00", "weekly someday 09:00", "hourly 5"]
)
def test_a_bad_schedule_says_what_is_accepted(words):
    with pytest.raises(ScheduleError, match="digest daily HH:MM"):
        parse_schedule(words)
