"""The channel tables on PostgreSQL (bot/stores/channels.py says what they hold and the rules).

Replicas claim concurrently: a claim locks the channel's row (every queued post has one) with
FOR UPDATE SKIP LOCKED, so two replicas never take two posts of one channel in the same slot.
Slots, leases and retry delays are measured on the database's clock, as the announcements' are
(`PostgresStore._now`): replicas with skewed clocks agree on when a slot is free.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from bot.stores.channels import (
    PostClaim,
    PostKind,
    SqlChannelStore,
    post_claim,
)

if TYPE_CHECKING:  # the store makes its channel store (`PostgresStore.channels`)
    from bot.stores.postgres import PostgresStore, QmarkCursor

_DUE = (
    "((p.state IN ('pending', 'unsure') AND p.not_before <= %(now)s)"
    " OR (p.state = 'posting' AND p.lease_until < %(now)s))"
)


class PostgresChannelStore(SqlChannelStore):
    def __init__(self, store: PostgresStore) -> None:
        self.store = store

    def _reading(self) -> AbstractContextManager[QmarkCursor]:
        return self.store._shared()

    def _writing(self) -> AbstractContextManager[QmarkCursor]:
        return self.store._shared()

    def _now(self, db: QmarkCursor) -> float:
        return self.store._now(db)

    def _clock(self) -> float:
        return self.store._clock()

    def _greatest(self, first: str, second: str) -> str:
        return f"GREATEST({first}, {second})"

    def _skip_locked(self, table: str | None = None) -> str:
        return f" FOR UPDATE{f' OF {table}' if table else ''} SKIP LOCKED"

    def queue_post(self, channel: str, article_id: str, story: str) -> PostKind | None:
        now = self._clock()
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

    def claim_post(self, worker: str, lease_seconds: float, pace_seconds: float) -> PostClaim | None:
        with self.store._cursor() as db:
            now = self.store._now(db)
            params = {"now": now, "worker": worker, "lease": now + lease_seconds, "next": now + pace_seconds}
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
        return post_claim(row, now + lease_seconds)
