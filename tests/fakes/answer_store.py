"""An in-memory `AnswerStore` with the real ones' rules (tests/stores/test_answer_contract.py).

Several `MemoryAnswerStore`s on one `MemoryAnswers` share it, as replicas share one database.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass, field

from bot.stores.answer_queue import AnswerMoves, AnswerState, Question


@dataclass
class _Row:
    question: Question
    state: AnswerState
    claimed_by: str
    lease_until: float | None
    recorded_at: float
    reason: str | None = None


@dataclass
class MemoryAnswers:
    rows: dict[str, _Row] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class MemoryAnswerStore(AnswerMoves):
    def __init__(self, database: MemoryAnswers | None = None, *, clock=time.time) -> None:
        self.database = database or MemoryAnswers()
        self._clock = clock

    def record(self, question: Question, worker: str, lease_seconds: float) -> bool:
        now = self._clock()
        with self.database.lock:
            if question.id in self.database.rows:
                return False
            self.database.rows[question.id] = _Row(question, "answering", worker, now + lease_seconds, now)
            return True

    def claim(self, worker: str, lease_seconds: float) -> Question | None:
        now = self._clock()
        with self.database.lock:
            due = [r for r in self.database.rows.values() if r.state == "answering" and r.lease_until < now]
            if not due:
                return None
            row = min(due, key=lambda r: r.lease_until)
            row.claimed_by, row.lease_until = worker, now + lease_seconds
            return dataclasses.replace(row.question)

    def _move(
        self, question_id: str, worker: str, was: tuple[str, ...], state: AnswerState, reason=None
    ) -> bool:
        with self.database.lock:
            row = self.database.rows.get(question_id)
            if row is None or row.claimed_by != worker or row.state not in was:
                return False
            row.state, row.lease_until, row.reason = state, None, reason or row.reason
            return True

    def state(self, question_id: str) -> AnswerState | None:
        row = self.database.rows.get(question_id)
        return row.state if row else None

    def prune(self, keep_seconds: float) -> int:
        bound = self._clock() - keep_seconds
        with self.database.lock:
            old = [
                k for k, r in self.database.rows.items() if r.state != "answering" and r.recorded_at < bound
            ]
            for key in old:
                del self.database.rows[key]
            return len(old)
