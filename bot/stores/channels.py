"""What channels follow: their watches, whether the bot may still post there, and their outbox.

The outbox has one row per (channel, article). The first article of a story in a channel is its
top-level post (`reply` 0, at most one per story and channel: a unique index); a later article of
the same story is a reply in that post's thread, claimable once the top-level post is recorded.
Claims are leased as the announcements' are (bot/stores/claims.py), with `unsure`
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

from dataclasses import dataclass
from typing import Any

from bot.news.digests import Schedule
from bot.stores.claims import Lease, database_now, with_now
from bot.stores.types import (
    Database,
    Digest,
    DigestClaim,
    PostClaim,
    PostKind,
    PostState,
    RecountClaim,
    Watch,
    retry_state,
)

CURSOR_KEY = "watch_cursor"
# The oldest due post of a channel whose posting slot is free: the channel's row is locked with it, so
# two processes never take two posts of one channel in the same slot.
POST = Lease(
    "channel_posts",
    ("channel", "article_id"),
    due="((p.state IN ('pending', 'unsure') AND p.not_before <= {now})"
    " OR (p.state = 'posting' AND p.lease_until < {now}))"
    " AND c.paused_reason IS NULL AND c.next_post_at <= {now} AND (p.reply = 0 OR t.state = 'posted')",
    order="p.created_at, p.reply, p.article_id",
    held="state = 'posting'",
    take="state = 'posting', attempts = attempts + 1",
    select="p.*, t.message_ts AS thread_ts",
    alias="p",
    joins="JOIN channels c ON c.channel = p.channel"
    " LEFT JOIN channel_posts t ON t.channel = p.channel AND t.story = p.story AND t.reply = 0",
    lock="c, p",
)
RECOUNT = Lease(
    "channel_posts",
    ("channel", "story"),
    due="p.reply = 0 AND p.state = 'posted' AND p.recount_wanted > p.recount_done"
    " AND p.recount_not_before <= {now} AND c.paused_reason IS NULL"
    " AND (p.recount_claimed_by IS NULL OR p.recount_lease_until < {now})",
    order="p.recount_not_before, p.channel, p.story",
    holder="recount_claimed_by",
    until="recount_lease_until",
    scope="reply = 0",
    select="p.channel, p.story, p.message_ts, p.recount_wanted",
    alias="p",
    joins="LEFT JOIN channels c ON c.channel = p.channel",
)
DIGEST = Lease(
    "digests",
    ("channel",),
    due="channel = ? AND last_sent = ? AND (claimed_by IS NULL OR lease_until < {now}) AND not_before <= {now}",
    order="channel",
    take="claimed_end = ?",
    select="channel, claimed_end",
)


@dataclass(frozen=True)
class SqlChannels:
    """The channels' tables on either database (bot/stores/types.py: `Channels`)."""

    database: Database

    def queue_post(self, channel: str, article_id: str, story: str) -> PostKind | None:
        """Queue `article_id` for `channel`: the story's top-level post, a reply in its thread, or None
        when it is queued there already."""
        now = self.database.clock()
        with self.database.transaction() as db:
            db.execute("INSERT INTO channels (channel) VALUES (?) ON CONFLICT DO NOTHING", (channel,))
            # The channel's row, locked: queueing in one channel is serial, so "top or reply" is exact.
            db.execute(f"SELECT 1 FROM channels WHERE channel = ?{self.database.for_update()}", (channel,))
            if db.execute(
                "SELECT 1 FROM channel_posts WHERE channel = ? AND article_id = ?", (channel, article_id)
            ).fetchone():
                return None
            top = db.execute(
                "SELECT 1 FROM channel_posts WHERE channel = ? AND story = ? AND reply = 0", (channel, story)
            ).fetchone()
            db.execute(
                "INSERT INTO channel_posts (channel, article_id, story, reply, state, created_at)"
                " VALUES (?, ?, ?, ?, 'pending', ?)",
                (channel, article_id, story, int(top is not None), now),
            )
            return "reply" if top is not None else "top"

    def claim_post(self, worker: str, lease_seconds: float, pace_seconds: float) -> PostClaim | None:
        """Take the oldest due post of a channel whose posting slot is free, and book the next slot.
        The channel's row is locked with the post: two processes never take two posts of one channel
        in the same slot."""
        with self.database.transaction() as db:
            taken = POST.claim(self.database, db, worker, lease_seconds)
            if not taken:
                return None
            row, lease_until = taken[0]
            db.execute(
                *with_now(
                    "UPDATE channels SET next_post_at = {now} + ? WHERE channel = ?",
                    (pace_seconds, row["channel"]),
                    database_now(self.database, db),
                )
            )
        return post_claim(row, lease_until)

    def claim_recount(self, worker: str, lease_seconds: float) -> RecountClaim | None:
        """Take a due recount of a story's top-level post (in a channel not paused)."""
        with self.database.transaction() as db:
            taken = RECOUNT.claim(self.database, db, worker, lease_seconds)
        if not taken:
            return None
        row = taken[0][0]
        return RecountClaim(row["channel"], row["story"], row["message_ts"], row["recount_wanted"])

    def claim_digest(
        self, digest: Digest, period_end: float, worker: str, now: float, lease_seconds: float
    ) -> DigestClaim | None:
        """Take the digest of (`digest.last_sent`, `period_end`] unless another worker holds it or
        sent it (then `last_sent` moved on), or it waits for a retry."""
        with self.database.transaction() as db:
            taken = DIGEST.claim(
                self.database,
                db,
                worker,
                lease_seconds,
                params=(digest.channel, digest.last_sent),
                take_params=(period_end,),
                now=now,
            )
        if not taken:
            return None
        return DigestClaim(
            digest.channel, digest.last_sent, period_end, taken[0][0]["claimed_end"] is not None
        )

    def _count(self, sql: str, params: tuple) -> int:
        """The number of rows a write changed."""
        with self.database.transaction() as db:
            return db.execute(sql, params).rowcount

    def _rows(self, sql: str, params: tuple = ()) -> list[Any]:
        with self.database.reading() as db:
            return db.execute(sql, params).fetchall()

    # -- watches --------------------------------------------------------------------------------------

    def add_watch(self, channel: str, words: str, user: str) -> bool:
        """Watch `words` in `channel` from now on (and post there again); False when already watched."""
        with self.database.transaction() as db:
            db.execute(
                "UPDATE channels SET paused_reason = NULL, paused_at = NULL WHERE channel = ?", (channel,)
            )
            return bool(
                db.execute(
                    "INSERT INTO watches (channel, words, user_id, created_at) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT DO NOTHING",
                    (channel, words, user, self.database.clock()),
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
            (channel, reason, self.database.clock()),
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
        with self.database.transaction() as db:
            now = self.database.now(db)
            return bool(
                db.execute(
                    "INSERT INTO channels (channel, next_post_at) VALUES (?, ?) ON CONFLICT (channel)"
                    " DO UPDATE SET next_post_at = excluded.next_post_at WHERE channels.next_post_at <= ?",
                    (channel, now + pace_seconds, now),
                ).rowcount
            )

    def hold_slots(self, channel: str, seconds: float) -> None:
        """No post in `channel` for `seconds` (Slack's Retry-After), whoever posts."""
        with self.database.transaction() as db:
            db.execute(
                "INSERT INTO channels (channel, next_post_at) VALUES (?, ?) ON CONFLICT (channel)"
                f" DO UPDATE SET next_post_at = {self.database.greatest('channels.next_post_at', 'excluded.next_post_at')}",
                (channel, self.database.now(db) + seconds),
            )

    def finish_post(self, channel: str, article_id: str, worker: str, message_ts: str) -> bool:
        """Record the post; a reply makes its story's top-level post due a recount, in the same transaction."""
        with self.database.transaction() as db:
            finished = POST.update_held(
                db,
                (channel, article_id),
                worker,
                "state = 'posted', message_ts = ?, posted_at = ?, lease_until = NULL",
                (message_ts, self.database.now(db)),
            )
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
        with self.database.transaction() as db:
            until = self.database.now(db) + delay
            if throttled:
                db.execute("UPDATE channels SET next_post_at = ? WHERE channel = ?", (until, channel))
            return POST.update_held(
                db,
                (channel, article_id),
                worker,
                "state = ?, not_before = ?, last_error = ?, claimed_by = NULL, lease_until = NULL,"
                " attempts = attempts - ?",
                (retry_state(unsure), until, error, int(throttled)),
            )

    def fail_post(self, channel: str, article_id: str, worker: str, error: str) -> bool:
        assignments = "state = 'failed', last_error = ?, lease_until = NULL"
        return POST.move(self.database, (channel, article_id), worker, assignments, (error,))

    def post_state(self, channel: str, article_id: str) -> PostState | None:
        rows = self._rows(
            "SELECT state FROM channel_posts WHERE channel = ? AND article_id = ?", (channel, article_id)
        )
        return rows[0]["state"] if rows else None

    # -- recounts -------------------------------------------------------------------------------------

    def finish_recount(self, channel: str, story: str, worker: str, wanted: int) -> bool:
        """The edit answering for `wanted` replies was made; False (and the recount wanted once more)
        when another worker had taken it over."""
        with self.database.transaction() as db:
            held = RECOUNT.update_held(
                db,
                (channel, story),
                worker,
                f"recount_done = {self.database.greatest('recount_done', '?')},"
                " recount_claimed_by = NULL, recount_lease_until = NULL",
                (wanted,),
            )
            if not held:
                db.execute(
                    "UPDATE channel_posts SET recount_wanted = recount_wanted + 1"
                    " WHERE channel = ? AND story = ? AND reply = 0",
                    (channel, story),
                )
            return bool(held)

    def retry_recount(self, channel: str, story: str, worker: str, delay: float) -> bool:
        """Give the recount back, to try again in `delay` seconds."""
        with self.database.transaction() as db:
            return RECOUNT.update_held(
                db,
                (channel, story),
                worker,
                "recount_claimed_by = NULL, recount_lease_until = NULL, recount_not_before = ?",
                (self.database.now(db) + delay,),
            )

    # -- digests --------------------------------------------------------------------------------------

    def set_digest(self, channel: str, schedule: Schedule, user: str, now: float) -> None:
        """Send `channel` a digest on `schedule` from now on (its first period starts `now`)."""
        with self.database.transaction() as db:
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

    def finish_digest(self, channel: str, worker: str, period_end: float) -> bool:
        """The digest up to `period_end` went out (or had nothing to say): the next period starts there."""
        assignments = (
            "last_sent = ?, claimed_by = NULL, lease_until = NULL, claimed_end = NULL, not_before = 0"
        )
        return DIGEST.move(self.database, (channel,), worker, assignments, (period_end,))

    def release_digest(self, channel: str, worker: str, not_before: float, *, unsure: bool) -> bool:
        """Give the claim back, to try again from `not_before`; `unsure` when it may have been posted."""
        assignments = (
            "claimed_by = NULL, lease_until = NULL, not_before = ?,"
            " claimed_end = CASE WHEN ? THEN claimed_end ELSE NULL END"
        )
        return DIGEST.move(self.database, (channel,), worker, assignments, (not_before, unsure))


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
