"""An in-memory `Channels` with the real stores' rules (tests/stores/test_channel_contract.py).

Several `MemoryChannelStore`s on one `MemoryChannels` share it, as processes share a database.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from bot.news.digests import Schedule
from bot.stores.types import Digest, DigestClaim, PostClaim, PostKind, PostState, RecountClaim, Watch
from tests.fakes.claims import MemoryLease

POST = MemoryLease()
RECOUNT = MemoryLease("recount_claimed_by", "recount_lease_until")
DIGEST = MemoryLease()


@dataclass
class _Post:
    channel: str
    article_id: str
    story: str
    reply: bool
    created_at: float
    state: PostState = "pending"
    claimed_by: str | None = None
    lease_until: float | None = None
    attempts: int = 0
    not_before: float = 0.0
    message_ts: str | None = None
    last_error: str | None = None
    recount_wanted: int = 0
    recount_done: int = 0
    recount_claimed_by: str | None = None
    recount_lease_until: float | None = None
    recount_not_before: float = 0.0


@dataclass
class _Digest:
    schedule: Schedule
    user: str
    last_sent: float
    claimed_by: str | None = None
    lease_until: float | None = None
    claimed_end: float | None = None
    not_before: float = 0.0


@dataclass
class MemoryChannels:
    watches: dict[tuple[str, str], Watch] = field(default_factory=dict)
    paused: dict[str, str] = field(default_factory=dict)
    next_post_at: dict[str, float] = field(default_factory=dict)
    posts: dict[tuple[str, str], _Post] = field(default_factory=dict)
    digests: dict[str, _Digest] = field(default_factory=dict)
    cursor: int | None = None
    lock: threading.RLock = field(default_factory=threading.RLock)


class MemoryChannelStore:
    def __init__(self, database: MemoryChannels | None = None, *, clock=time.time) -> None:
        self.db = database if database is not None else MemoryChannels()
        self._clock = clock

    def add_watch(self, channel: str, words: str, user: str) -> bool:
        with self.db.lock:
            self.db.paused.pop(channel, None)
            if (channel, words) in self.db.watches:
                return False
            self.db.watches[channel, words] = Watch(channel, words, user, self._clock())
            return True

    def remove_watch(self, channel: str, words: str) -> bool:
        with self.db.lock:
            return self.db.watches.pop((channel, words), None) is not None

    def watches(self, channel: str) -> list[Watch]:
        with self.db.lock:
            found = [w for w in self.db.watches.values() if w.channel == channel]
        return sorted(found, key=lambda w: (w.created_at, w.words))

    def active_watches(self) -> list[Watch]:
        with self.db.lock:
            found = [w for w in self.db.watches.values() if w.channel not in self.db.paused]
        return sorted(found, key=lambda w: (w.channel, w.created_at, w.words))

    def pause(self, channel: str, reason: str) -> None:
        with self.db.lock:
            self.db.paused[channel] = reason

    def paused_reason(self, channel: str) -> str | None:
        return self.db.paused.get(channel)

    def cursor(self) -> int | None:
        return self.db.cursor

    def set_cursor(self, seq: int) -> None:
        self.db.cursor = seq

    def queue_post(self, channel: str, article_id: str, story: str) -> PostKind | None:
        with self.db.lock:
            if (channel, article_id) in self.db.posts:
                return None
            reply = self._top(channel, story) is not None
            self.db.posts[channel, article_id] = _Post(channel, article_id, story, reply, self._clock())
            return "reply" if reply else "top"

    def _top(self, channel: str, story: str) -> _Post | None:
        for post in self.db.posts.values():
            if post.channel == channel and post.story == story and not post.reply:
                return post
        return None

    def story_channels(self, story: str) -> list[str]:
        with self.db.lock:
            return sorted(p.channel for p in self.db.posts.values() if p.story == story and not p.reply)

    def story_post(self, channel: str, story: str) -> str | None:
        with self.db.lock:
            top = self._top(channel, story)
            return top.message_ts if top is not None and top.state == "posted" else None

    def _due(self, post: _Post, now: float) -> bool:
        if post.state in ("pending", "unsure"):
            return post.not_before <= now
        return post.state == "posting" and post.lease_until is not None and post.lease_until < now

    def claim_post(self, worker: str, lease_seconds: float, pace_seconds: float) -> PostClaim | None:
        now = self._clock()
        with self.db.lock:
            taken = POST.claim(
                self.db.posts.values(),
                worker=worker,
                lease_until=now + lease_seconds,
                due=lambda post: (
                    self._due(post, now)
                    and post.channel not in self.db.paused
                    and self.db.next_post_at.get(post.channel, 0) <= now
                    and (not post.reply or self.story_post(post.channel, post.story) is not None)
                ),
                order=lambda post: (post.created_at, post.reply, post.article_id),
            )
            if not taken:
                return None
            before, post = taken[0]
            post.state = "posting"
            post.attempts += 1
            self.db.next_post_at[post.channel] = now + pace_seconds
            return PostClaim(
                post.channel,
                post.article_id,
                post.story,
                post.reply,
                before.attempts,
                post.lease_until,
                recovered=before.state in ("posting", "unsure"),
                thread_ts=self.story_post(post.channel, post.story) if post.reply else None,
            )

    def take_slot(self, channel: str, pace_seconds: float) -> bool:
        now = self._clock()
        with self.db.lock:
            if self.db.next_post_at.get(channel, 0) > now:
                return False
            self.db.next_post_at[channel] = now + pace_seconds
            return True

    def hold_slots(self, channel: str, seconds: float) -> None:
        with self.db.lock:
            until = self._clock() + seconds
            self.db.next_post_at[channel] = max(self.db.next_post_at.get(channel, 0), until)

    def _held(self, channel: str, article_id: str, worker: str) -> _Post | None:
        post = self.db.posts.get((channel, article_id))
        if not POST.holds(post, worker) or post.state != "posting":
            return None
        return post

    def finish_post(self, channel: str, article_id: str, worker: str, message_ts: str) -> bool:
        with self.db.lock:
            post = self._held(channel, article_id, worker)
            if post is None:
                return False
            post.state, post.message_ts, post.lease_until = "posted", message_ts, None
            top = self._top(channel, post.story) if post.reply else None
            if top is not None:
                top.recount_wanted += 1
            return True

    def retry_post(
        self,
        channel: str,
        article_id: str,
        worker: str,
        error: str,
        delay: float,
        *,
        unsure: bool = False,
        throttled: bool = False,
    ) -> bool:
        now = self._clock()
        with self.db.lock:
            if throttled and channel in self.db.next_post_at:
                self.db.next_post_at[channel] = now + delay
            post = self._held(channel, article_id, worker)
            if post is None:
                return False
            post.state = "unsure" if unsure else "pending"
            post.not_before, post.last_error = now + delay, error
            post.claimed_by = post.lease_until = None
            post.attempts -= int(throttled)
            return True

    def fail_post(self, channel: str, article_id: str, worker: str, error: str) -> bool:
        with self.db.lock:
            post = self._held(channel, article_id, worker)
            if post is None:
                return False
            post.state, post.last_error, post.lease_until = "failed", error, None
            return True

    def post_state(self, channel: str, article_id: str) -> PostState | None:
        post = self.db.posts.get((channel, article_id))
        return post.state if post else None

    def claim_recount(self, worker: str, lease_seconds: float) -> RecountClaim | None:
        now = self._clock()
        with self.db.lock:
            taken = RECOUNT.claim(
                self.db.posts.values(),
                worker=worker,
                lease_until=now + lease_seconds,
                due=lambda post: (
                    not post.reply
                    and post.state == "posted"
                    and post.recount_wanted > post.recount_done
                    and post.recount_not_before <= now
                    and post.channel not in self.db.paused
                    and (post.recount_claimed_by is None or post.recount_lease_until < now)
                ),
                order=lambda p: (p.recount_not_before, p.channel, p.story),
            )
            if not taken:
                return None
            post = taken[0][1]
            return RecountClaim(post.channel, post.story, post.message_ts, post.recount_wanted)

    def finish_recount(self, channel: str, story: str, worker: str, wanted: int) -> bool:
        with self.db.lock:
            top = self._top(channel, story)
            if top is None:
                return False
            if not RECOUNT.holds(top, worker):
                top.recount_wanted += 1
                return False
            top.recount_done = max(top.recount_done, wanted)
            top.recount_claimed_by = top.recount_lease_until = None
            return True

    def retry_recount(self, channel: str, story: str, worker: str, delay: float) -> bool:
        with self.db.lock:
            top = self._top(channel, story)
            if not RECOUNT.holds(top, worker):
                return False
            top.recount_claimed_by = top.recount_lease_until = None
            top.recount_not_before = self._clock() + delay
            return True

    def set_digest(self, channel: str, schedule: Schedule, user: str, now: float) -> None:
        with self.db.lock:
            self.db.digests[channel] = _Digest(schedule, user, now)
            self.db.paused.pop(channel, None)

    def remove_digest(self, channel: str) -> bool:
        with self.db.lock:
            return self.db.digests.pop(channel, None) is not None

    def digests(self) -> list[Digest]:
        with self.db.lock:
            return [
                Digest(channel, d.schedule, d.user, d.last_sent, channel in self.db.paused)
                for channel, d in sorted(self.db.digests.items())
            ]

    def claim_digest(
        self, digest: Digest, period_end: float, worker: str, now: float, lease_seconds: float
    ) -> DigestClaim | None:
        with self.db.lock:
            held = self.db.digests.get(digest.channel)
            if held is None or held.last_sent != digest.last_sent or held.not_before > now:
                return None
            if held.claimed_by is not None and held.lease_until is not None and held.lease_until >= now:
                return None
            recovered = held.claimed_end is not None
            held.claimed_by, held.lease_until, held.claimed_end = worker, now + lease_seconds, period_end
            return DigestClaim(digest.channel, digest.last_sent, period_end, recovered)

    def finish_digest(self, channel: str, worker: str, period_end: float) -> bool:
        with self.db.lock:
            held = self.db.digests.get(channel)
            if not DIGEST.holds(held, worker):
                return False
            held.last_sent, held.not_before = period_end, 0.0
            held.claimed_by = held.lease_until = held.claimed_end = None
            return True

    def release_digest(self, channel: str, worker: str, not_before: float, *, unsure: bool) -> bool:
        with self.db.lock:
            held = self.db.digests.get(channel)
            if not DIGEST.holds(held, worker):
                return False
            held.claimed_by = held.lease_until = None
            held.not_before = not_before
            if not unsure:
                held.claimed_end = None
            return True
