"""What the Slack commands may do with channels (handlers/context.py's ChannelWatches), over the store.

It reads digest schedules (bot/news/digests.py) so that the handlers stay free of bot code, and gives
them the clock the digests run on.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from bot.news.digests import parse_schedule
from bot.stores.types import Channels, Watch


class ChannelDesk:
    def __init__(self, channels: Channels, clock: Callable[[], float] = time.time) -> None:
        self.channels = channels
        self.clock = clock

    def add_watch(self, channel: str, words: str, user: str) -> bool:
        return self.channels.add_watch(channel, words, user)

    def remove_watch(self, channel: str, words: str) -> bool:
        return self.channels.remove_watch(channel, words)

    def watches(self, channel: str) -> list[Watch]:
        return self.channels.watches(channel)

    def paused_reason(self, channel: str) -> str | None:
        return self.channels.paused_reason(channel)

    def set_digest(self, channel: str, words: str, user: str, timezone: str) -> str:
        """Set the channel's digest; what it is and when the next one comes. ScheduleError (a
        ValueError) when `words` cannot be read."""
        schedule = parse_schedule(words, timezone)
        now = self.clock()
        self.channels.set_digest(channel, schedule, user, now)
        upcoming = schedule.next_due(dt.datetime.fromtimestamp(now, dt.UTC)).astimezone(schedule.zone)
        return f"{schedule.describe()}, the next one on {upcoming:%A %d %B at %H:%M}"

    def remove_digest(self, channel: str) -> bool:
        return self.channels.remove_digest(channel)

    def digest_of(self, channel: str) -> str | None:
        for digest in self.channels.digests():
            if digest.channel == channel:
                return digest.schedule.describe()
        return None
