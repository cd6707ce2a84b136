"""What channels follow: their watches, whether the bot may still post there, and their outbox.

The outbox has one row per (channel, article). The first article of a story in a channel is its
top-level post (`reply` 0, at most one per story and channel: a unique index); a later article of
the same story is a reply in that post's thread, claimable once the top-level post is recorded.
Claims follow the announcements' rules (bot/posting/announcements.py): an atomic UPDATE with a lease, `unsure`
after a post that may have gone out, a history check before posting a recovered one. A claim also
books the channel's next posting slot (`channels.next_post_at`), so that every process together
posts at most one message per `pace_seconds` in a channel, Slack's limit. Whatever else posts in a
channel (its digest, the NOTIFY_CHANNEL announcements) takes a slot there first (`take_slot`), and
a rate limit (429) on it holds the channel's slots back as long (`hold_slots`).

After a reply is recorded, the story's top-level post is due a recount: an edit naming the outlets
that reported the story. `recount_wanted` counts the replies recorded, `recount_done` the ones the
last finished edit answered for; the edit is claimed with a lease like a post, given back with a
delay when Slack refuses it for a while, and built when claimed (the count read then): a reply
recorded meanwhile leaves it due, so the last edit made has the newest count. An edit finished after
its lease ran out may have overwritten a newer one: the recount is wanted once more.

A channel the bot was removed from is paused (`paused_reason`): its watches match nothing and its
posts wait, until someone adds a watch there again.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from bot.news.digests import Schedule

if TYPE_CHECKING:  # the store makes its channel store (`SqliteStore.channels`)
    from bot.stores.articles import SqliteStore

PostState = Literal["pending", "posting", "unsure", "posted", "failed"]
PostKind = Literal["top", "reply"]
CURSOR_KEY = "watch_cursor"


@dataclass(frozen=True)
class Watch:
    channel: str
    words: str
    user: str
    created_at: float


@dataclass(frozen=True)
class PostClaim:
    """A post taken by one worker until `lease_until`; `thread_ts` is the story's post for a reply."""

    channel: str
    article_id: str
    story: str
    reply: bool
    attempts: int
    lease_until: float
    recovered: bool = False
    thread_ts: str | None = None


@dataclass(frozen=True)
class RecountClaim:
    """The recount of `story`'s top-level post (at `message_ts`) in `channel`, taken by one worker;
    `wanted` is the number of replies it answers for."""

    channel: str
    story: str
    message_ts: str
    wanted: int


@dataclass(frozen=True)
class Digest:
    """A channel's digest: its schedule, who set it, the end of the last period sent."""

    channel: str
    schedule: Schedule
    user: str
    last_sent: float
    paused: bool = False


@dataclass(frozen=True)
class DigestClaim:
    """The digest of the period up to `period_end`, taken by one worker; `recovered` when an earlier
    claim of it never finished (it may have been posted)."""

    channel: str
    period_start: float
    period_end: float
    recovered: bool


class ChannelStore(Protocol):
    def add_watch(self, channel: str, words: str, user: str) -> bool: ...
    def remove_watch(self, channel: str, words: str) -> bool: ...
    def watches(self, channel: str) -> list[Watch]: ...
    def active_watches(self) -> list[Watch]: ...
    def pause(self, channel: str, reason: str) -> None: ...
    def paused_reason(self, channel: str) -> str | None: ...
    def cursor(self) -> int | None: ...
    def set_cursor(self, seq: int) -> None: ...
    def queue_post(self, channel: str, article_id: str, story: str) -> PostKind | None: ...
    def story_channels(self, story: str) -> list[str]: ...
    def story_post(self, channel: str, story: str) -> str | None: ...
    def claim_post(self, worker: str, lease_seconds: float, pace_seconds: float) -> PostClaim | None: ...
    def take_slot(self, channel: str, pace_seconds: float) -> bool: ...
    def hold_slots(self, channel: str, seconds: float) -> None: ...
    def finish_post(self, channel: str, article_id: str, worker: str, message_ts: str) -> bool: ...
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
    ) -> bool: ...
    def fail_post(self, channel: str, article_id: str, worker: str, error: str) -> bool: ...
    def post_state(self, channel: str, article_id: str) -> PostState | None: ...
    def claim_recount(self, worker: str, lease_seconds: float) -> RecountClaim | None: ...
    def finish_recount(self, channel: str, story: str, worker: str, wanted: int) -> bool: ...
    def retry_recount(self, channel: str, story: str, worker: str, delay: float) -> bool: ...
    def set_digest(self, channel: str, schedule: Schedule, user: str, now: float) -> None: ...
    def remove_digest(self, channel: str) -> bool: ...
    def digests(self) -> list[Digest]: ...
    def claim_digest(
        self, digest: Digest, period_end: float, worker: str, now: float, lease_seconds: float
    ) -> DigestClaim | None: ...
    def finish_digest(self, channel: str, worker: str, period_end: float) -> bool: ...
    def release_digest(self, channel: str, worker: str, not_before: float, *, unsure: bool) -> bool: ...


class SqlChannelStore:
    """What both SQL channel stores do alike: statements written once with SQLite's `?`
    placeholders. A subclass gives `_reading()` and `_writing()` (a connection or cursor in a
    transaction), `_now(db)` (the database's time, for slots, leases and retry delays) and what its
    dialect does its own way: queueing, claiming posts, locking claimed rows, taking the greater of
    two values."""

    def _reading(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _writing(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _now(self, db: Any) -> float:
        raise NotImplementedError

    def _clock(self) -> float:
        """The process's time: when a watch was added or a channel paused."""
        raise NotImplementedError

    def _greatest(self, first: str, second: str) -> str:
        """SQL for the greater of two values (the dialects name the function differently)."""
        raise NotImplementedError

    def _skip_locked(self, table: str | None = None) -> str:
        """The end of a claim's SELECT that locks the rows it takes (of `table`), skipping those
        another process is taking: nothing where a transaction locks the whole database."""
        raise NotImplementedError

    def _count(self, sql: str, params: tuple) -> int:
        """The number of rows a write changed."""
        with self._writing() as db:
            return db.execute(sql, params).rowcount

    def _rows(self, sql: str, params: tuple = ()) -> list[Any]:
        with self._reading() as db:
            return db.execute(sql, params).fetchall()

    # -- watches --------------------------------------------------------------------------------------

    def add_watch(self, channel: str, words: str, user: str) -> bool:
        """Watch `words` in `channel` from now on (and post there again); False when already watched."""
        with self._writing() as db:
            db.execute(
                "UPDATE channels SET paused_reason = NULL, paused_at = NULL WHERE channel = ?", (channel,)
            )
            return bool(
                db.execute(
                    "INSERT INTO watches (channel, words, user_id, created_at) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT DO NOTHING",
                    (channel, words, user, self._clock()),
                ).rowcount
            )

    def remove_watch(self, channel: str, words: str) -> bool:
        return bool(self._count("DELETE FROM watches WHERE channel = ? AND words = ?", (channel, words)))

    def watches(self, channel: str) -> list[Watch]:
        rows = self._rows("SELECT * FROM watches WHERE channel = ? ORDER BY created_at, words", (channel,))
        return [_watch(row) for row in rows]

    def active_watches(self) -> list[Watch]:
        """Every watch of a channel the bot may post in."""
        rows = self._rows(
            "SELECT w.* FROM watches w LEFT JOIN channels c ON c.channel = w.channel"
            " WHERE c.paused_reason IS NULL ORDER BY w.channel, w.created_at, w.words"
        )
        return [_watch(row) for row in rows]

    # -- channels -------------------------------------------------------------------------------------

    def pause(self, channel: str, reason: str) -> None:
        self._count(
            "INSERT INTO channels (channel, paused_reason, paused_at) VALUES (?, ?, ?)"
            " ON CONFLICT (channel) DO UPDATE SET paused_reason = excluded.paused_reason,"
            " paused_at = excluded.paused_at",
            (channel, reason, self._clock()),
        )

    def paused_reason(self, channel: str) -> str | None:
        rows = self._rows("SELECT paused_reason FROM channels WHERE channel = ?", (channel,))
        return rows[0]["paused_reason"] if rows else None

    def cursor(self) -> int | None:
        """The last article (by store row) matched against the watches; None before the first time."""
        rows = self._rows("SELECT value FROM meta WHERE key = ?", (CURSOR_KEY,))
        return int(rows[0]["value"]) if rows else None

    def set_cursor(self, seq: int) -> None:
        self._count(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (CURSOR_KEY, str(seq)),
        )

    # -- the outbox -----------------------------------------------------------------------------------

    def story_channels(self, story: str) -> list[str]:
        """The channels where `story` has (or will have) its top-level post."""
        rows = self._rows(
            "SELECT channel FROM channel_posts WHERE story = ? AND reply = 0 ORDER BY channel", (story,)
        )
        return [row["channel"] for row in rows]

    def story_post(self, channel: str, story: str) -> str | None:
        """The ts of `story`'s top-level post in `channel`, once posted."""
        rows = self._rows(
            "SELECT message_ts FROM channel_posts WHERE channel = ? AND story = ? AND reply = 0"
            " AND state = 'posted'",
            (channel, story),
        )
        return rows[0]["message_ts"] if rows else None

    def take_slot(self, channel: str, pace_seconds: float) -> bool:
        """Take the channel's posting slot now and book the next one `pace_seconds` on; False when
        another post took it (try again once it is free)."""
        with self._writing() as db:
            now = self._now(db)
            return bool(
                db.execute(
                    "INSERT INTO channels (channel, next_post_at) VALUES (?, ?) ON CONFLICT (channel)"
                    " DO UPDATE SET next_post_at = excluded.next_post_at WHERE channels.next_post_at <= ?",
                    (channel, now + pace_seconds, now),
                ).rowcount
            )

    def hold_slots(self, channel: str, seconds: float) -> None:
        """No post in `channel` for `seconds` (Slack's Retry-After), whoever posts."""
        with self._writing() as db:
            db.execute(
                "INSERT INTO channels (channel, next_post_at) VALUES (?, ?) ON CONFLICT (channel)"
                f" DO UPDATE SET next_post_at = {self._greatest('channels.next_post_at', 'excluded.next_post_at')}",
                (channel, self._now(db) + seconds),
            )

    def finish_post(self, channel: str, article_id: str, worker: str, message_ts: str) -> bool:
        """Record the post; a reply makes its story's top-level post due a recount, in the same transaction."""
        with self._writing() as db:
            finished = db.execute(
                "UPDATE channel_posts SET state = 'posted', message_ts = ?, posted_at = ?, lease_until = NULL"
                " WHERE channel = ? AND article_id = ? AND state = 'posting' AND claimed_by = ?",
                (message_ts, self._now(db), channel, article_id, worker),
            ).rowcount
            if finished:
                db.execute(
                    "UPDATE channel_posts SET recount_wanted = recount_wanted + 1"
                    " WHERE channel = ? AND reply = 0 AND story = (SELECT story FROM channel_posts"
                    " WHERE channel = ? AND article_id = ? AND reply = 1)",
                    (channel, channel, article_id),
                )
            return bool(finished)

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
        """Give the claim back for `delay` seconds; `throttled` (Slack's rate limit) is no failed attempt,
        and holds the whole channel back as long."""
        with self._writing() as db:
            until = self._now(db) + delay
            if throttled:
                db.execute("UPDATE channels SET next_post_at = ? WHERE channel = ?", (until, channel))
            return bool(
                db.execute(
                    "UPDATE channel_posts SET state = ?, not_before = ?, last_error = ?, claimed_by = NULL,"
                    " lease_until = NULL, attempts = attempts - ?"
                    " WHERE channel = ? AND article_id = ? AND state = 'posting' AND claimed_by = ?",
                    (retry_state(unsure), until, error, int(throttled), channel, article_id, worker),
                ).rowcount
            )

    def fail_post(self, channel: str, article_id: str, worker: str, error: str) -> bool:
        return bool(
            self._count(
                "UPDATE channel_posts SET state = 'failed', last_error = ?, lease_until = NULL"
                " WHERE channel = ? AND article_id = ? AND state = 'posting' AND claimed_by = ?",
                (error, channel, article_id, worker),
            )
        )

    def post_state(self, channel: str, article_id: str) -> PostState | None:
        rows = self._rows(
            "SELECT state FROM channel_posts WHERE channel = ? AND article_id = ?", (channel, article_id)
        )
        return rows[0]["state"] if rows else None

    # -- recounts -------------------------------------------------------------------------------------

    def finish_recount(self, channel: str, story: str, worker: str, wanted: int) -> bool:
        """The edit answering for `wanted` replies was made; False (and the recount wanted once more)
        when another worker had taken it over."""
        with self._writing() as db:
            held = db.execute(
                f"UPDATE channel_posts SET recount_done = {self._greatest('recount_done', '?')},"
                " recount_claimed_by = NULL, recount_lease_until = NULL"
                " WHERE channel = ? AND story = ? AND reply = 0 AND recount_claimed_by = ?",
                (wanted, channel, story, worker),
            ).rowcount
            if not held:
                db.execute(
                    "UPDATE channel_posts SET recount_wanted = recount_wanted + 1"
                    " WHERE channel = ? AND story = ? AND reply = 0",
                    (channel, story),
                )
            return bool(held)

    def claim_recount(self, worker: str, lease_seconds: float) -> RecountClaim | None:
        """Take a due recount of a story's top-level post (in a channel not paused)."""
        with self._writing() as db:
            now = self._now(db)
            row = db.execute(
                "SELECT p.channel, p.story, p.message_ts, p.recount_wanted FROM channel_posts p"
                " LEFT JOIN channels c ON c.channel = p.channel"
                " WHERE p.reply = 0 AND p.state = 'posted' AND p.recount_wanted > p.recount_done"
                " AND p.recount_not_before <= ? AND c.paused_reason IS NULL"
                " AND (p.recount_claimed_by IS NULL OR p.recount_lease_until < ?)"
                f" ORDER BY p.recount_not_before, p.channel, p.story LIMIT 1{self._skip_locked('p')}",
                (now, now),
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE channel_posts SET recount_claimed_by = ?, recount_lease_until = ?"
                " WHERE channel = ? AND story = ? AND reply = 0",
                (worker, now + lease_seconds, row["channel"], row["story"]),
            )
            return RecountClaim(row["channel"], row["story"], row["message_ts"], row["recount_wanted"])

    def retry_recount(self, channel: str, story: str, worker: str, delay: float) -> bool:
        """Give the recount back, to try again in `delay` seconds."""
        with self._writing() as db:
            return bool(
                db.execute(
                    "UPDATE channel_posts SET recount_claimed_by = NULL, recount_lease_until = NULL,"
                    " recount_not_before = ? WHERE channel = ? AND story = ? AND reply = 0"
                    " AND recount_claimed_by = ?",
                    (self._now(db) + delay, channel, story, worker),
                ).rowcount
            )

    # -- digests --------------------------------------------------------------------------------------

    def set_digest(self, channel: str, schedule: Schedule, user: str, now: float) -> None:
        """Send `channel` a digest on `schedule` from now on (its first period starts `now`)."""
        with self._writing() as db:
            db.execute("DELETE FROM digests WHERE channel = ?", (channel,))
            db.execute(
                "INSERT INTO digests (channel, frequency, hour, minute, timezone, weekday, user_id, last_sent)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    channel,
                    schedule.frequency,
                    schedule.hour,
                    schedule.minute,
                    schedule.timezone,
                    schedule.weekday,
                    user,
                    now,
                ),
            )
            db.execute(
                "UPDATE channels SET paused_reason = NULL, paused_at = NULL WHERE channel = ?", (channel,)
            )

    def remove_digest(self, channel: str) -> bool:
        return bool(self._count("DELETE FROM digests WHERE channel = ?", (channel,)))

    def digests(self) -> list[Digest]:
        rows = self._rows(
            "SELECT d.*, c.paused_reason FROM digests d LEFT JOIN channels c ON c.channel = d.channel"
            " ORDER BY d.channel"
        )
        return [_digest(row) for row in rows]

    def claim_digest(
        self, digest: Digest, period_end: float, worker: str, now: float, lease_seconds: float
    ) -> DigestClaim | None:
        """Take the digest of (`digest.last_sent`, `period_end`] unless another worker holds it or
        sent it (then `last_sent` moved on), or it waits for a retry."""
        with self._writing() as db:
            row = db.execute(
                "SELECT claimed_end FROM digests WHERE channel = ? AND last_sent = ?"
                f" AND (claimed_by IS NULL OR lease_until < ?) AND not_before <= ?{self._skip_locked()}",
                (digest.channel, digest.last_sent, now, now),
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE digests SET claimed_by = ?, lease_until = ?, claimed_end = ? WHERE channel = ?",
                (worker, now + lease_seconds, period_end, digest.channel),
            )
            return DigestClaim(digest.channel, digest.last_sent, period_end, row["claimed_end"] is not None)

    def finish_digest(self, channel: str, worker: str, period_end: float) -> bool:
        """The digest up to `period_end` went out (or had nothing to say): the next period starts there."""
        return bool(
            self._count(
                "UPDATE digests SET last_sent = ?, claimed_by = NULL, lease_until = NULL, claimed_end = NULL,"
                " not_before = 0 WHERE channel = ? AND claimed_by = ?",
                (period_end, channel, worker),
            )
        )

    def release_digest(self, channel: str, worker: str, not_before: float, *, unsure: bool) -> bool:
        """Give the claim back, to try again from `not_before`; `unsure` when it may have been posted."""
        return bool(
            self._count(
                "UPDATE digests SET claimed_by = NULL, lease_until = NULL, not_before = ?,"
                " claimed_end = CASE WHEN ? THEN claimed_end ELSE NULL END"
                " WHERE channel = ? AND claimed_by = ?",
                (not_before, unsure, channel, worker),
            )
        )


_DUE = (
    "((p.state IN ('pending', 'unsure') AND p.not_before <= :now)"
    " OR (p.state = 'posting' AND p.lease_until < :now))"
)


class SqliteChannelStore(SqlChannelStore):
    """The channel tables of the article store's SQLite file (its migrations made them;
    `SqliteStore.channels`). Claims are serialized by the store's `BEGIN IMMEDIATE` transactions."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        yield self.store._connection()

    def _writing(self) -> AbstractContextManager[sqlite3.Connection]:
        return self.store._transaction()

    def _now(self, db: sqlite3.Connection) -> float:
        """The one host's clock: the file is on it."""
        return self.store._clock()

    def _clock(self) -> float:
        return self.store._clock()

    def _greatest(self, first: str, second: str) -> str:
        return f"MAX({first}, {second})"

    def _skip_locked(self, table: str | None = None) -> str:
        return ""

    def queue_post(self, channel: str, article_id: str, story: str) -> PostKind | None:
        """Queue `article_id` for `channel`: the story's top-level post, a reply in its thread, or None
        when it is queued there already."""
        now = self._clock()
        with self.store._transaction() as db:
            for reply in (0, 1):
                added = db.execute(
                    "INSERT OR IGNORE INTO channel_posts (channel, article_id, story, reply, state, created_at)"
                    " VALUES (?, ?, ?, ?, 'pending', ?)",
                    (channel, article_id, story, reply, now),
                ).rowcount
                if added:
                    return "reply" if reply else "top"
                known = db.execute(
                    "SELECT 1 FROM channel_posts WHERE channel = ? AND article_id = ?", (channel, article_id)
                ).fetchone()
                if known:
                    return None
        return None

    def claim_post(self, worker: str, lease_seconds: float, pace_seconds: float) -> PostClaim | None:
        """Take the oldest due post of a channel whose posting slot is free, and book the next slot."""
        now = self._clock()
        with self.store._transaction() as db:
            row = db.execute(
                "SELECT p.*, t.message_ts AS thread_ts FROM channel_posts p"
                " LEFT JOIN channels c ON c.channel = p.channel"
                " LEFT JOIN channel_posts t ON t.channel = p.channel AND t.story = p.story AND t.reply = 0"
                f" WHERE {_DUE} AND c.paused_reason IS NULL AND COALESCE(c.next_post_at, 0) <= :now"
                " AND (p.reply = 0 OR t.state = 'posted')"
                " ORDER BY p.created_at, p.reply, p.article_id LIMIT 1",
                {"now": now},
            ).fetchone()
            if row is None:
                return None
            lease_until = now + lease_seconds
            claimed = db.execute(
                "UPDATE channel_posts AS p SET state = 'posting', claimed_by = :worker, lease_until = :lease,"
                f" attempts = attempts + 1 WHERE channel = :channel AND article_id = :article AND {_DUE}",
                {
                    "worker": worker,
                    "lease": lease_until,
                    "channel": row["channel"],
                    "article": row["article_id"],
                    "now": now,
                },
            ).rowcount
            if not claimed:
                return None
            db.execute(
                "INSERT INTO channels (channel, next_post_at) VALUES (?, ?)"
                " ON CONFLICT (channel) DO UPDATE SET next_post_at = excluded.next_post_at",
                (row["channel"], now + pace_seconds),
            )
            return post_claim(row, lease_until)


def retry_state(unsure: bool) -> str:
    """The state of a claim given back: an unsure one is looked for in the channel before it is retried."""
    return "unsure" if unsure else "pending"


def post_claim(row: Any, lease_until: float) -> PostClaim:
    """The claim of a channel post taken from its row (with `thread_ts`, its story's post)."""
    return PostClaim(
        row["channel"],
        row["article_id"],
        row["story"],
        bool(row["reply"]),
        row["attempts"],
        lease_until,
        recovered=row["state"] in ("posting", "unsure"),
        thread_ts=row["thread_ts"] if row["reply"] else None,
    )


def _digest(row: Any) -> Digest:
    schedule = Schedule(row["frequency"], row["hour"], row["minute"], row["timezone"], row["weekday"])
    return Digest(
        row["channel"], schedule, row["user_id"], row["last_sent"], row["paused_reason"] is not None
    )


def _watch(row: Any) -> Watch:
    return Watch(row["channel"], row["words"], row["user_id"], row["created_at"])
