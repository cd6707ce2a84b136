"""The announcements to post in NOTIFY_CHANNEL: one row per article (its decision is made when it is
recorded, bot/stores/articles.py), claimed with a lease (bot/stores/claims.py) by one worker at a
time, and the story edits: a posted announcement whose story gained an outlet is edited once more."""

from __future__ import annotations

from dataclasses import dataclass

from bot.stores.claims import Lease
from bot.stores.types import AnnouncementState, Claim, Database, retry_state

ANNOUNCEMENT = Lease(
    "announcements",
    ("article_id",),
    due="((state IN ('pending', 'unsure') AND not_before <= {now})"
    " OR (state = 'posting' AND lease_until < {now}))",
    order="created_at, article_id",
    held="state = 'posting'",
    take="state = 'posting', attempts = attempts + 1",
    select="article_id, attempts, state",
)
STORY_EDIT = Lease(
    "announcements",
    ("article_id",),
    due="story_changed = 1 AND state = 'posted' AND not_before <= {now}",
    order="article_id",
    holder=None,
    until=None,
    take="story_changed = 0",
    select="article_id, message_ts",
)


@dataclass(frozen=True)
class SqlAnnouncements:
    """The announcements table on either database (bot/stores/types.py: `Announcements`)."""

    database: Database

    def claim(self, worker: str, lease_seconds: float) -> Claim | None:
        """Take the oldest due announcement (pending or unsure, or posting with an expired lease)."""
        with self.database.transaction() as db:
            taken = ANNOUNCEMENT.claim(self.database, db, worker, lease_seconds)
        if not taken:
            return None
        row, lease_until = taken[0]
        recovered = row["state"] in ("posting", "unsure")
        return Claim(row["article_id"], row["attempts"], lease_until, recovered=recovered)

    def finish(self, article_id: str, worker: str, message_ts: str) -> bool:
        """Record the post; False when `worker` no longer holds the claim (it expired and moved on)."""
        with self.database.transaction() as db:
            return ANNOUNCEMENT.update_held(
                db,
                (article_id,),
                worker,
                "state = 'posted', message_ts = ?, posted_at = ?, lease_until = NULL",
                (message_ts, self.database.now(db)),
            )

    def retry(
        self,
        article_id: str,
        worker: str,
        error: str,
        delay: float,
        *,
        unsure: bool = False,
        throttled: bool = False,
    ) -> bool:
        """Give the claim back, to be tried again after `delay` seconds (by any worker); `unsure`
        when the failed try may have posted it; `throttled` (it waited for the channel's posting slot
        or Slack's rate limit) is no failed attempt."""
        with self.database.transaction() as db:
            return ANNOUNCEMENT.update_held(
                db,
                (article_id,),
                worker,
                "state = ?, not_before = ?, last_error = ?, claimed_by = NULL, lease_until = NULL,"
                " attempts = attempts - ?",
                (retry_state(unsure), self.database.now(db) + delay, error, int(throttled)),
            )

    def fail(self, article_id: str, worker: str, error: str) -> bool:
        """Give up on an announcement Slack will never accept (e.g. channel_not_found)."""
        return ANNOUNCEMENT.move(
            self.database,
            (article_id,),
            worker,
            "state = 'failed', last_error = ?, lease_until = NULL",
            (error,),
        )

    def state(self, article_id: str) -> AnnouncementState | None:
        with self.database.reading() as db:
            row = db.execute("SELECT state FROM announcements WHERE article_id = ?", (article_id,)).fetchone()
        return row["state"] if row else None

    def counts(self) -> dict[str, int]:
        """Announcements by state, for logs and tests."""
        with self.database.reading() as db:
            rows = db.execute("SELECT state, COUNT(*) AS n FROM announcements GROUP BY state").fetchall()
        return {row["state"]: row["n"] for row in rows}

    # -- story edits ----------------------------------------------------------------------------------

    def claim_story_change(self) -> tuple[str, str] | None:
        """A posted announcement whose story gained an outlet: (article id, message ts); taken once."""
        with self.database.transaction() as db:
            taken = STORY_EDIT.claim(self.database, db, None, 0)
        return (taken[0][0]["article_id"], taken[0][0]["message_ts"]) if taken else None

    def retry_story_change(self, article_id: str, delay: float) -> None:
        """Editing the announcement failed for a while: try again after `delay` seconds."""
        with self.database.transaction() as db:
            db.execute(
                "UPDATE announcements SET story_changed = 1, not_before = ? WHERE article_id = ?",
                (self.database.now(db) + delay, article_id),
            )
