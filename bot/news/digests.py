"""When digests are due: `daily HH:MM` or `weekly DAY HH:MM`, in the timezone of who set it up.

Pure functions of a schedule and instants (aware datetimes), so a digest can be tested at a frozen
clock. A digest covers the period since the previous due time; when the app was down over several due
times, only the latest one is sent (once), covering everything since the last digest that went out.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Frequency = Literal["daily", "weekly"]
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_FRENCH_WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_TIME_RE = re.compile(r"^([01]?\d|2[0-3])[:h]([0-5]\d)$")
DIGEST_HELP = (
    "Use `digest daily HH:MM`, `digest weekly DAY HH:MM` (e.g. `digest weekly monday 09:00`) or `digest off`."
)


class ScheduleError(ValueError):
    """A digest schedule that cannot be read; the message says what is accepted."""


@dataclass(frozen=True)
class Schedule:
    frequency: Frequency
    hour: int
    minute: int
    timezone: str = "UTC"
    weekday: int | None = None  # 0 = Monday, for weekly digests

    def describe(self) -> str:
        day = f" on {WEEKDAYS[self.weekday].capitalize()}s" if self.weekday is not None else ""
        return f"{self.frequency}{day} at {self.hour:02d}:{self.minute:02d} ({self.timezone})"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def due_at_or_before(self, instant: dt.datetime) -> dt.datetime:
        """The latest due time at or before `instant`."""
        instant = instant.astimezone(dt.UTC)
        day = instant.astimezone(self.zone).date()
        for _ in range(9):
            candidate = self._on(day)
            if candidate <= instant and (self.weekday is None or day.weekday() == self.weekday):
                return candidate
            day -= dt.timedelta(days=1)
        raise AssertionError("a due time is at most a week and a day back")

    def next_due(self, instant: dt.datetime) -> dt.datetime:
        """The first due time strictly after `instant`."""
        instant = instant.astimezone(dt.UTC)
        day = instant.astimezone(self.zone).date()
        for _ in range(9):
            candidate = self._on(day)
            if candidate > instant and (self.weekday is None or day.weekday() == self.weekday):
                return candidate
            day += dt.timedelta(days=1)
        raise AssertionError("a due time is at most a week and a day ahead")

    def _on(self, day: dt.date) -> dt.datetime:
        """The due time on a local `day`, in UTC (aware datetimes sharing a zone compare by wall
        clock, which a clock change makes wrong); a time skipped by a clock change falls an hour later."""
        naive = dt.datetime.combine(day, dt.time(self.hour, self.minute))
        return naive.replace(tzinfo=self.zone).astimezone(dt.UTC)


def due_digest(
    schedule: Schedule, last_sent: dt.datetime, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime] | None:
    """The (start, end) period of the digest to send now, or None when none is due.

    `last_sent` is the end of the last period sent (or when the schedule was set up): one digest
    covers everything since then, however many due times passed while the app was down.
    """
    due = schedule.due_at_or_before(now)
    return (last_sent, due) if due > last_sent else None


def parse_schedule(words: str, timezone: str = "UTC") -> Schedule:
    """`daily 08:30` or `weekly monday 9:00` (English or French day names); ScheduleError otherwise."""
    parts = words.lower().split()
    try:
        zone_name = ZoneInfo(timezone).key
    except (ZoneInfoNotFoundError, ValueError):
        zone_name = "UTC"
    if len(parts) == 2 and parts[0] in ("daily", "quotidien"):
        hour, minute = _time(parts[1])
        return Schedule("daily", hour, minute, zone_name)
    if len(parts) == 3 and parts[0] in ("weekly", "hebdo", "hebdomadaire"):
        hour, minute = _time(parts[2])
        return Schedule("weekly", hour, minute, zone_name, _weekday(parts[1]))
    raise ScheduleError(f"I cannot read `{words}` as a digest schedule. {DIGEST_HELP}")


def _time(text: str) -> tuple[int, int]:
    match = _TIME_RE.match(text)
    if not match:
        raise ScheduleError(f"`{text}` is not a time of day: write it as HH:MM, e.g. 08:30. {DIGEST_HELP}")
    return int(match.group(1)), int(match.group(2))


def _weekday(text: str) -> int:
    for names in (WEEKDAYS, _FRENCH_WEEKDAYS):
        for number, name in enumerate(names):
            if len(text) >= 3 and name.startswith(text):
                return number
    raise ScheduleError(f"`{text}` is not a day of the week, e.g. monday. {DIGEST_HELP}")
