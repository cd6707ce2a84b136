"""The channel tables on PostgreSQL (bot/channel_store.py says what they hold and the rules).

Replicas claim concurrently: a claim locks the channel's row (every queued post has one) with
FOR UPDATE SKIP LOCKED, so two replicas never take two posts of one channel in the same slot.
"""

from __future__ import annotations

from bot.channel_store import (
    CURSOR_KEY,
    Digest,
    DigestClaim,
    PostClaim,
    PostKind,
    PostState,
    RecountClaim,
    Watch,
)
from bot.digests import Schedule
from bot.postgres_store import PostgresStore

_DUE = (
    "((p.state IN ('pending', 'unsure') AND p.not_before <= %(now)s)"
    " OR (p.state = 'posting' AND p.lease_until < %(now)s))"
)


class PostgresChannelStore:
    def __init__(self, store: PostgresStore) -> None:
        self.store = store

    def _now(self) -> float:
        return self.store._clock()

    def _rows(self, sql: str, params: dict | tuple = ()) -> list[dict]:
        with self.store._cursor() as db:
            return db.execute(sql, params).fetchall()

    def _count(self, sql: str, params: dict | tuple = ()) -> int:
        with self.store._cursor() as db:
            return db.execute(sql, params).rowcount

    # -- watches --------------------------------------------------------------------------------------

    def add_watch(self, channel: str, words: str, user: str) -> bool:
        with self.store._cursor() as db:
            db.execute(
                "UPDATE channels SET paused_reason = NULL, paused_at = NULL WHERE channel = %s", (channel,)
            )
            return bool(
                db.execute(
                    "INSERT INTO watches (channel, words, user_id, created_at) VALUES (%s, %s, %s, %s)"
                    " ON CONFLICT DO NOTHING",
                    (channel, words, user, self._now()),
                ).rowcount
            )

    def remove_watch(self, channel: str, words: str) -> bool:
        return bool(self._count("DELETE FROM watches WHERE channel = %s AND words = %s", (channel, words)))

    def watches(self, channel: str) -> list[Watch]:
        rows = self._rows("SELECT * FROM watches WHERE channel = %s ORDER BY created_at, words", (channel,))
        return [_watch(row) for row in rows]

    def active_watches(self) -> list[Watch]:
        rows = self._rows(
            "SELECT w.* FROM watches w LEFT JOIN channels c ON c.channel = w.channel"
            " WHERE c.paused_reason IS NULL ORDER BY w.channel, w.created_at, w.words"
        )
        return [_watch(row) for row in rows]

    # -- channels -------------------------------------------------------------------------------------

    def pause(self, channel: str, reason: str) -> None:
        self._count(
            "INSERT INTO channels (channel, paused_reason, paused_at) VALUES (%s, %s, %s)"
            " ON CONFLICT (channel) DO UPDATE SET paused_reason = EXCLUDED.paused_reason,"
            " paused_at = EXCLUDED.paused_at",
            (channel, reason, self._now()),
        )

    def paused_reason(self, channel: str) -> str | None:
        rows = self._rows("SELECT paused_reason FROM channels WHERE channel = %s", (channel,))
        return rows[0]["paused_reason"] if rows else None

    def cursor(self) -> int | None:
        rows = self._rows("SELECT value FROM meta WHERE key = %s", (CURSOR_KEY,))
        return int(rows[0]["value"]) if rows else None

    def set_cursor(self, seq: int) -> None:
        self._count(
            "INSERT INTO meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            (CURSOR_KEY, str(seq)),
        )

    # -- the outbox -----------------------------------------------------------------------------------

    def queue_post(self, channel: str, article_id: str, story: str) -> PostKind | None:
        now = self._now()
        with self.store._cursor() as db:
            db.execute("INSERT INTO channels (channel) VALUES (%s) ON CONFLICT DO NOTHING", (channel,))
            # The channel's row, locked: queueing in one channel is serial, so "top or reply" is exact.
            db.execute("SELECT 1 FROM channels WHERE channel = %s FOR UPDATE", (channel,))
            if db.execute(
                "SELECT 1 FROM channel_posts WHERE channel = %s AND article_id = %s", (channel, article_id)
            ).fetchone():
                return None
            top = db.execute(
                "SELECT 1 FROM channel_posts WHERE channel = %s AND story = %s AND reply = 0",
                (channel, story),
            ).fetchone()
            db.execute(
                "INSERT INTO channel_posts (channel, article_id, story, reply, state, created_at)"
                " VALUES (%s, %s, %s, %s, 'pending', %s)",
                (channel, article_id, story, int(top is not None), now),
            )
            return "reply" if top is not None else "top"

    def story_channels(self, story: str) -> list[str]:
        rows = self._rows(
            "SELECT channel FROM channel_posts WHERE story = %s AND reply = 0 ORDER BY channel", (story,)
        )
        return [row["channel"] for row in rows]

    def story_post(self, channel: str, story: str) -> str | None:
        rows = self._rows(
            "SELECT message_ts FROM channel_posts WHERE channel = %s AND story = %s AND reply = 0"
            " AND state = 'posted'",
            (channel, story),
        )
        return rows[0]["message_ts"] if rows else None

    def claim_post(self, worker: str, lease_seconds: float, pace_seconds: float) -> PostClaim | None:
        now = self._now()
        params = {"now": now, "worker": worker, "lease": now + lease_seconds, "next": now + pace_seconds}
        with self.store._cursor() as db:
            row = db.execute(
                "SELECT p.*, t.message_ts AS thread_ts FROM channel_posts p"
                " JOIN channels c ON c.channel = p.channel"
                " LEFT JOIN channel_posts t ON t.channel = p.channel AND t.story = p.story AND t.reply = 0"
                f" WHERE {_DUE} AND c.paused_reason IS NULL AND c.next_post_at <= %(now)s"
                " AND (p.reply = 0 OR t.state = 'posted')"
                " ORDER BY p.created_at, p.reply, p.article_id LIMIT 1 FOR UPDATE OF c, p SKIP LOCKED",
                params,
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE channel_posts SET state = 'posting', claimed_by = %(worker)s, lease_until = %(lease)s,"
                " attempts = attempts + 1 WHERE channel = %(channel)s AND article_id = %(article)s",
                {**params, "channel": row["channel"], "article": row["article_id"]},
            )
            db.execute(
                "UPDATE channels SET next_post_at = %(next)s WHERE channel = %(channel)s",
                {**params, "channel": row["channel"]},
            )
        return PostClaim(
            row["channel"],
            row["article_id"],
            row["story"],
            bool(row["reply"]),
            row["attempts"],
            now + lease_seconds,
            recovered=row["state"] in ("posting", "unsure"),
            thread_ts=row["thread_ts"] if row["reply"] else None,
        )

    def take_slot(self, channel: str, pace_seconds: float) -> bool:
        now = self._now()
        return bool(
            self._count(
                "INSERT INTO channels (channel, next_post_at) VALUES (%(channel)s, %(next)s)"
                " ON CONFLICT (channel) DO UPDATE SET next_post_at = EXCLUDED.next_post_at"
                " WHERE channels.next_post_at <= %(now)s",
                {"channel": channel, "next": now + pace_seconds, "now": now},
            )
        )

    def hold_slots(self, channel: str, seconds: float) -> None:
        self._count(
            "INSERT INTO channels (channel, next_post_at) VALUES (%s, %s) ON CONFLICT (channel)"
            " DO UPDATE SET next_post_at = GREATEST(channels.next_post_at, EXCLUDED.next_post_at)",
            (channel, self._now() + seconds),
        )

    def _held(self, assignments: str, channel: str, article_id: str, worker: str, **params) -> bool:
        return bool(
            self._count(
                f"UPDATE channel_posts SET {assignments} WHERE channel = %(channel)s AND article_id = %(article)s"
                " AND state = 'posting' AND claimed_by = %(worker)s",
                {"channel": channel, "article": article_id, "worker": worker, **params},
            )
        )

    def finish_post(self, channel: str, article_id: str, worker: str, message_ts: str) -> bool:
        params = {"channel": channel, "article": article_id, "worker": worker}
        with self.store._cursor() as db:
            finished = db.execute(
                "UPDATE channel_posts SET state = 'posted', message_ts = %(ts)s, posted_at = %(now)s,"
                " lease_until = NULL WHERE channel = %(channel)s AND article_id = %(article)s"
                " AND state = 'posting' AND claimed_by = %(worker)s",
                {**params, "ts": message_ts, "now": self._now()},
            ).rowcount
            if finished:
                db.execute(
                    "UPDATE channel_posts SET recount_wanted = recount_wanted + 1"
                    " WHERE channel = %(channel)s AND reply = 0 AND story = (SELECT story FROM channel_posts"
                    " WHERE channel = %(channel)s AND article_id = %(article)s AND reply = 1)",
                    params,
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
        now = self._now()
        if throttled:
            self._count("UPDATE channels SET next_post_at = %s WHERE channel = %s", (now + delay, channel))
        return self._held(
            "state = %(state)s, not_before = %(at)s, last_error = %(error)s, claimed_by = NULL,"
            " lease_until = NULL, attempts = attempts - %(throttled)s",
            channel,
            article_id,
            worker,
            state="unsure" if unsure else "pending",
            at=now + delay,
            error=error,
            throttled=int(throttled),
        )

    def fail_post(self, channel: str, article_id: str, worker: str, error: str) -> bool:
        return self._held(
            "state = 'failed', last_error = %(error)s, lease_until = NULL",
            channel,
            article_id,
            worker,
            error=error,
        )

    def post_state(self, channel: str, article_id: str) -> PostState | None:
        rows = self._rows(
            "SELECT state FROM channel_posts WHERE channel = %s AND article_id = %s", (channel, article_id)
        )
        return rows[0]["state"] if rows else None

    # -- recounts -------------------------------------------------------------------------------------

    def claim_recount(self, worker: str, lease_seconds: float) -> RecountClaim | None:
        now = self._now()
        with self.store._cursor() as db:
            row = db.execute(
                "SELECT p.channel, p.story, p.message_ts, p.recount_wanted FROM channel_posts p"
                " LEFT JOIN channels c ON c.channel = p.channel"
                " WHERE p.reply = 0 AND p.state = 'posted' AND p.recount_wanted > p.recount_done"
                " AND p.recount_not_before <= %(now)s AND c.paused_reason IS NULL"
                " AND (p.recount_claimed_by IS NULL OR p.recount_lease_until < %(now)s)"
                " ORDER BY p.recount_not_before, p.channel, p.story LIMIT 1 FOR UPDATE OF p SKIP LOCKED",
                {"now": now},
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE channel_posts SET recount_claimed_by = %s, recount_lease_until = %s"
                " WHERE channel = %s AND story = %s AND reply = 0",
                (worker, now + lease_seconds, row["channel"], row["story"]),
            )
        return RecountClaim(row["channel"], row["story"], row["message_ts"], row["recount_wanted"])

    def finish_recount(self, channel: str, story: str, worker: str, wanted: int) -> bool:
        with self.store._cursor() as db:
            held = db.execute(
                "UPDATE channel_posts SET recount_done = GREATEST(recount_done, %s), recount_claimed_by = NULL,"
                " recount_lease_until = NULL WHERE channel = %s AND story = %s AND reply = 0"
                " AND recount_claimed_by = %s",
                (wanted, channel, story, worker),
            ).rowcount
            if not held:
                db.execute(
                    "UPDATE channel_posts SET recount_wanted = recount_wanted + 1"
                    " WHERE channel = %s AND story = %s AND reply = 0",
                    (channel, story),
                )
        return bool(held)

    def retry_recount(self, channel: str, story: str, worker: str, delay: float) -> bool:
        return bool(
            self._count(
                "UPDATE channel_posts SET recount_claimed_by = NULL, recount_lease_until = NULL,"
                " recount_not_before = %s WHERE channel = %s AND story = %s AND reply = 0"
                " AND recount_claimed_by = %s",
                (self._now() + delay, channel, story, worker),
            )
        )

    # -- digests --------------------------------------------------------------------------------------

    def set_digest(self, channel: str, schedule: Schedule, user: str, now: float) -> None:
        with self.store._cursor() as db:
            db.execute("DELETE FROM digests WHERE channel = %s", (channel,))
            db.execute(
                "INSERT INTO digests (channel, frequency, hour, minute, timezone, weekday, user_id, last_sent)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
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
                "UPDATE channels SET paused_reason = NULL, paused_at = NULL WHERE channel = %s", (channel,)
            )

    def remove_digest(self, channel: str) -> bool:
        return bool(self._count("DELETE FROM digests WHERE channel = %s", (channel,)))

    def digests(self) -> list[Digest]:
        rows = self._rows(
            "SELECT d.*, c.paused_reason FROM digests d LEFT JOIN channels c ON c.channel = d.channel"
            " ORDER BY d.channel"
        )
        return [_digest(row) for row in rows]

    def claim_digest(
        self, digest: Digest, period_end: float, worker: str, now: float, lease_seconds: float
    ) -> DigestClaim | None:
        with self.store._cursor() as db:
            row = db.execute(
                "SELECT claimed_end FROM digests WHERE channel = %(channel)s AND last_sent = %(last)s"
                " AND (claimed_by IS NULL OR lease_until < %(now)s) AND not_before <= %(now)s"
                " FOR UPDATE SKIP LOCKED",
                {"channel": digest.channel, "last": digest.last_sent, "now": now},
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE digests SET claimed_by = %s, lease_until = %s, claimed_end = %s WHERE channel = %s",
                (worker, now + lease_seconds, period_end, digest.channel),
            )
        return DigestClaim(digest.channel, digest.last_sent, period_end, row["claimed_end"] is not None)

    def finish_digest(self, channel: str, worker: str, period_end: float) -> bool:
        return bool(
            self._count(
                "UPDATE digests SET last_sent = %s, claimed_by = NULL, lease_until = NULL, claimed_end = NULL,"
                " not_before = 0 WHERE channel = %s AND claimed_by = %s",
                (period_end, channel, worker),
            )
        )

    def release_digest(self, channel: str, worker: str, not_before: float, *, unsure: bool) -> bool:
        return bool(
            self._count(
                "UPDATE digests SET claimed_by = NULL, lease_until = NULL, not_before = %s,"
                " claimed_end = CASE WHEN %s THEN claimed_end ELSE NULL END"
                " WHERE channel = %s AND claimed_by = %s",
                (not_before, unsure, channel, worker),
            )
        )


def _digest(row: dict) -> Digest:
    schedule = Schedule(row["frequency"], row["hour"], row["minute"], row["timezone"], row["weekday"])
    return Digest(
        row["channel"], schedule, row["user_id"], row["last_sent"], row["paused_reason"] is not None
    )


def _watch(row: dict) -> Watch:
    return Watch(row["channel"], row["words"], row["user_id"], row["created_at"])
