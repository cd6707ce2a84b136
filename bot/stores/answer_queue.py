"""The answer queue: one row per question acknowledged, kept until it is answered (or dropped).

A row's life (handlers/questions.py and bot/posting/answerer.py say who does what):
- 'answering': recorded by the replica that acknowledges the question, claimed by it for a lease.
  When the lease runs out (that replica died, or is stuck), any replica's worker may claim it, with
  the leased claim of bot/stores/claims.py, so one worker gets it.
- 'posting': the claimant is sending the answer. Only the claimant moves it on, and no one claims
  it: a post that never finished may have gone out, and is not sent again.
- 'done': Slack accepted the answer. 'dropped': it was not sent and will not be (Slack refused it,
  the post may have gone out, or a command's response_url expired first); `reason` says why.
Rows past 'answering' are pruned a while after they were recorded (`prune`).

Leases and pruning use the store's clock: PostgreSQL's server clock for replicas (one clock for all).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from bot.stores.claims import Lease, database_now, with_now
from bot.stores.types import AnswerState, Database, Question

_COLUMNS = "id, kind, text, user_id, channel, thread_ts, response_url, asked_at"
# A question held by a worker, as it is answered and then posted (bot/posting/answerer.py).
ANSWERING = Lease(
    "answers",
    ("id",),
    due="state = 'answering' AND lease_until < {now}",
    order="lease_until",
    held="state = 'answering'",
    take="attempts = attempts + 1",
    select=_COLUMNS,
)
POSTING = replace(ANSWERING, held="state = 'posting'")
UNANSWERED = replace(ANSWERING, held="state IN ('answering', 'posting')")


@dataclass(frozen=True)
class SqlAnswers:
    """The answers table on either database (bot/stores/types.py: `Answers`). The database's time is
    written into the statements (`with_now`), so recording costs one round trip."""

    database: Database

    def record(self, question: Question, worker: str, lease_seconds: float) -> bool:
        """Record `question`, claimed by `worker`; False when it was recorded already."""
        with self.database.transaction() as db:
            return bool(
                db.execute(
                    *with_now(
                        f"INSERT INTO answers ({_COLUMNS}, state, claimed_by, lease_until, recorded_at)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'answering', ?, {now} + ?, {now})"
                        " ON CONFLICT (id) DO NOTHING",
                        (*_values(question), worker, lease_seconds),
                        database_now(self.database, db),
                    )
                ).rowcount
            )

    def claim(self, worker: str, lease_seconds: float) -> Question | None:
        """Take the question whose lease ran out first, if any."""
        with self.database.transaction() as db:
            taken = ANSWERING.claim(self.database, db, worker, lease_seconds)
        return _question(taken[0][0]) if taken else None

    def _move(self, lease: Lease, question_id: str, worker: str, state: str, reason=None) -> bool:
        """The row moves on to `state` only while `worker` holds it, in a state `lease` holds."""
        assignments = "state = ?, reason = COALESCE(?, reason), lease_until = NULL"
        return lease.move(self.database, (question_id,), worker, assignments, (state, reason))

    def start_posting(self, question_id: str, worker: str) -> bool:
        """True when `worker` still holds the question (no one else can answer it from now on)."""
        return self._move(ANSWERING, question_id, worker, "posting")

    def finish(self, question_id: str, worker: str) -> bool:
        return self._move(POSTING, question_id, worker, "done")

    def drop(self, question_id: str, worker: str, reason: str) -> bool:
        return self._move(UNANSWERED, question_id, worker, "dropped", reason)

    def state(self, question_id: str) -> AnswerState | None:
        with self.database.reading() as db:
            row = db.execute("SELECT state FROM answers WHERE id = ?", (question_id,)).fetchone()
        return row["state"] if row else None

    def prune(self, keep_seconds: float) -> int:
        """Delete the rows past 'answering' recorded more than `keep_seconds` ago; how many."""
        with self.database.transaction() as db:
            return db.execute(
                *with_now(
                    "DELETE FROM answers WHERE state <> 'answering' AND recorded_at < {now} - ?",
                    (keep_seconds,),
                    database_now(self.database, db),
                )
            ).rowcount


def _values(question: Question) -> tuple:
    return (
        question.id,
        question.kind,
        question.text,
        question.user,
        question.channel,
        question.thread_ts,
        question.response_url,
        question.asked_at,
    )


def _question(row: Any) -> Question:
    return Question(
        id=row["id"],
        kind=row["kind"],
        text=row["text"],
        user=row["user_id"],
        channel=row["channel"],
        asked_at=row["asked_at"],
        thread_ts=row["thread_ts"],
        response_url=row["response_url"],
    )
