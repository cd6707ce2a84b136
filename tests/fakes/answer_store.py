"""An in-memory `Answers` with the real ones' rules (tests/stores/test_answer_contract.py).

Several `MemoryAnswerStore`s on one `MemoryAnswers` share it, as replicas share one database.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass, field

from bot.stores.types import AnswerState, Question
from tests.fakes.claims import MemoryLease

ANSWER = MemoryLease()


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


class MemoryAnswerStore:
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
            taken = ANSWER.claim(
                self.database.rows.values(),
                worker=worker,
                lease_until=now + lease_seconds,
                due=lambda r: r.state == "answering" and r.lease_until < now,
                order=lambda r: r.lease_until,
            )
            return dataclasses.replace(taken[0][1].question) if taken else None

    def _move(
        self, question_id: str, worker: str, was: tuple[str, ...], state: AnswerState, reason=None
    ) -> bool:
        with self.database.lock:
            row = self.database.rows.get(question_id)
            if not ANSWER.holds(row, worker) or row.state not in was:
                return False
            row.state, row.lease_until, row.reason = state, None, reason or row.reason
            return True

    def start_posting(self, question_id: str, worker: str) -> bool:
        return self._move(question_id, worker, ("answering",), "posting")

    def finish(self, question_id: str, worker: str) -> bool:
        return self._move(question_id, worker, ("posting",), "done")

    def drop(self, question_id: str, worker: str, reason: str) -> bool:
        return self._move(question_id, worker, ("answering", "posting"), "dropped", reason)

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
