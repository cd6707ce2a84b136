"""The answer queue: one row per question acknowledged, kept until it is answered (or dropped).

A row's life (handlers/questions.py and bot/posting/answerer.py say who does what):
- 'answering': recorded by the replica that acknowledges the question, claimed by it for a lease.
  When the lease runs out (that replica died, or is stuck), any replica's worker may claim it: the
  claim is one atomic UPDATE (PostgreSQL: FOR UPDATE SKIP LOCKED), so one worker gets it.
- 'posting': the claimant is sending the answer. Only the claimant moves it on, and no one claims
  it: a post that never finished may have gone out, and is not sent again.
- 'done': Slack accepted the answer. 'dropped': it was not sent and will not be (Slack refused it,
  the post may have gone out, or a command's response_url expired first); `reason` says why.
Rows past 'answering' are pruned a while after they were recorded (`prune`).

Leases and pruning use the store's clock: PostgreSQL's server clock for replicas (one clock for all).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

QuestionKind = Literal["command", "mention"]


@dataclass(frozen=True)
class Question:
    """What answering later needs. `asked_at` is when Slack sent it (a command's response_url is
    valid for 30 minutes from then); a mention is answered in `thread_ts`."""

    id: str
    kind: QuestionKind
    text: str
    user: str
    channel: str
    asked_at: float
    thread_ts: str | None = None
    response_url: str | None = None


AnswerState = Literal["answering", "posting", "done", "dropped"]
_COLUMNS = "id, kind, text, user_id, channel, thread_ts, response_url, asked_at"


class AnswerStore(Protocol):
    def record(self, question: Question, worker: str, lease_seconds: float) -> bool: ...
    def claim(self, worker: str, lease_seconds: float) -> Question | None: ...
    def start_posting(self, question_id: str, worker: str) -> bool: ...
    def finish(self, question_id: str, worker: str) -> bool: ...
    def drop(self, question_id: str, worker: str, reason: str) -> bool: ...
    def state(self, question_id: str) -> AnswerState | None: ...
    def prune(self, keep_seconds: float) -> int: ...


class AnswerMoves:
    """A row's moves after its claim, once for every store (each gives `_move`: the row leaves one of
    the states `was` for `state` only while `worker` holds it)."""

    def _move(self, question_id: str, worker: str, was: tuple[str, ...], state: str, reason=None) -> bool:
        raise NotImplementedError

    def start_posting(self, question_id: str, worker: str) -> bool:
        """True when `worker` still holds the question (no one else can answer it from now on)."""
        return self._move(question_id, worker, ("answering",), "posting")

    def finish(self, question_id: str, worker: str) -> bool:
        return self._move(question_id, worker, ("posting",), "done")

    def drop(self, question_id: str, worker: str, reason: str) -> bool:
        return self._move(question_id, worker, ("answering", "posting"), "dropped", reason)


class SqliteAnswerStore(AnswerMoves):
    def __init__(self, store) -> None:
        self.store = store

    def record(self, question: Question, worker: str, lease_seconds: float) -> bool:
        """Record `question`, claimed by `worker`; False when it was recorded already."""
        now = self.store._clock()
        with self.store._transaction() as db:
            return bool(
                db.execute(
                    f"INSERT OR IGNORE INTO answers ({_COLUMNS}, state, claimed_by, lease_until, recorded_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'answering', ?, ?, ?)",
                    (*_values(question), worker, now + lease_seconds, now),
                ).rowcount
            )

    def claim(self, worker: str, lease_seconds: float) -> Question | None:
        """Take the question whose lease ran out first, if any."""
        now = self.store._clock()
        with self.store._transaction() as db:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM answers WHERE state = 'answering' AND lease_until < ?"
                " ORDER BY lease_until LIMIT 1",
                (now,),
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE answers SET claimed_by = ?, lease_until = ?, attempts = attempts + 1 WHERE id = ?",
                (worker, now + lease_seconds, row["id"]),
            )
            return _question(row)

    def _move(self, question_id: str, worker: str, was: tuple[str, ...], state: str, reason=None) -> bool:
        with self.store._transaction() as db:
            return bool(
                db.execute(
                    f"UPDATE answers SET state = ?, reason = COALESCE(?, reason), lease_until = NULL"
                    f" WHERE id = ? AND claimed_by = ? AND state IN ({', '.join('?' * len(was))})",
                    (state, reason, question_id, worker, *was),
                ).rowcount
            )

    def state(self, question_id: str) -> AnswerState | None:
        row = (
            self.store._connection()
            .execute("SELECT state FROM answers WHERE id = ?", (question_id,))
            .fetchone()
        )
        return row["state"] if row else None

    def prune(self, keep_seconds: float) -> int:
        """Delete the rows past 'answering' recorded more than `keep_seconds` ago; how many."""
        with self.store._transaction() as db:
            return db.execute(
                "DELETE FROM answers WHERE state <> 'answering' AND recorded_at < ?",
                (self.store._clock() - keep_seconds,),
            ).rowcount


class PostgresAnswerStore(AnswerMoves):
    """The same table on PostgreSQL (`store` is a bot.stores.postgres.PostgresStore).

    Each call is one statement: the time is the server's (`clock_timestamp()`) in the statement
    itself, unless a test moves the store's clock, so recording costs one round trip.
    """

    def __init__(self, store) -> None:
        self.store = store

    def _now(self) -> float | None:
        return None if self.store._db_clock else self.store._clock()

    def _run(self, sql: str, params: dict) -> tuple[int, dict | None]:
        """The statement's row count and first row returned."""
        with self.store._cursor() as db:
            db.execute(sql.replace("%(now)s", _NOW), {**params, "now": self._now()})
            return db.rowcount, db.fetchone() if db.description else None

    def record(self, question: Question, worker: str, lease_seconds: float) -> bool:
        names = ("id", "kind", "text", "user_id", "channel", "thread_ts", "response_url", "asked_at")
        return bool(
            self._run(
                f"INSERT INTO answers ({_COLUMNS}, state, claimed_by, lease_until, recorded_at)"
                f" VALUES ({', '.join(f'%({name})s' for name in names)}, 'answering', %(worker)s,"
                " %(now)s + %(lease)s, %(now)s) ON CONFLICT (id) DO NOTHING",
                {
                    **dict(zip(names, _values(question), strict=True)),
                    "worker": worker,
                    "lease": lease_seconds,
                },
            )[0]
        )

    def claim(self, worker: str, lease_seconds: float) -> Question | None:
        _, row = self._run(
            "WITH due AS (SELECT id FROM answers WHERE state = 'answering' AND lease_until < %(now)s"
            " ORDER BY lease_until LIMIT 1 FOR UPDATE SKIP LOCKED)"
            " UPDATE answers AS a SET claimed_by = %(worker)s, lease_until = %(now)s + %(lease)s,"
            f" attempts = a.attempts + 1 FROM due WHERE a.id = due.id RETURNING {_qualified('a')}",
            {"worker": worker, "lease": lease_seconds},
        )
        return _question(row) if row else None

    def _move(self, question_id: str, worker: str, was: tuple[str, ...], state: str, reason=None) -> bool:
        return bool(
            self._run(
                "UPDATE answers SET state = %(state)s, reason = COALESCE(%(reason)s, reason), lease_until = NULL"
                " WHERE id = %(id)s AND claimed_by = %(worker)s AND state = ANY(%(was)s)",
                {"state": state, "reason": reason, "id": question_id, "worker": worker, "was": list(was)},
            )[0]
        )

    def state(self, question_id: str) -> AnswerState | None:
        row = self.store._one("SELECT state FROM answers WHERE id = %s", (question_id,))
        return row["state"] if row else None

    def prune(self, keep_seconds: float) -> int:
        return self._run(
            "DELETE FROM answers WHERE state <> 'answering' AND recorded_at < %(now)s - %(keep)s",
            {"keep": keep_seconds},
        )[0]


# The server's time, unless the store's clock is a test's (then given as `now`).
_NOW = "COALESCE(%(now)s::float8, extract(epoch FROM clock_timestamp())::float8)"


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


def _qualified(table: str) -> str:
    return ", ".join(f"{table}.{column.strip()}" for column in _COLUMNS.split(","))


def _question(row) -> Question:
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
