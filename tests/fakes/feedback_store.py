"""An in-memory `Feedback` with the SQLite one's rules (tests/stores/test_feedback_contract.py)."""

from __future__ import annotations

import dataclasses
import time

from bot.stores.types import Judged, normal_question


class MemoryFeedbackStore:
    def __init__(self, *, clock=time.time) -> None:
        self._clock = clock
        self._questions: list[tuple[str, bool, float]] = []
        self._votes: list[tuple[str, str, str | None, float]] = []

    def record_question(self, question: str, answered: bool) -> None:
        self._questions.append((normal_question(question), answered, self._clock()))

    def record_feedback(self, question: str, vote: str, reason: str | None, user: str) -> None:
        self._votes.append((normal_question(question), vote, reason, self._clock()))

    def questions(self, since: float, until: float) -> list[tuple[str, bool]]:
        return [(q, a) for q, a, at in self._questions if since <= at < until]

    def votes(self, since: float, until: float) -> list[tuple[str, str, str | None]]:
        return [(q, v, r) for q, v, r, at in self._votes if since <= at < until]


class MemoryJudgements:
    """An in-memory `Judgements` (tests/stores/test_judgement_contract.py)."""

    def __init__(self, rows: dict[str, Judged], *, clock=time.time) -> None:
        self._rows = rows
        self._clock = clock

    def record(self, judged: Judged) -> None:
        self._rows[judged.key] = dataclasses.replace(judged, judged_at=self._clock())

    def left_out(self, key: str) -> Judged | None:
        judged = self._rows.get(key)
        return judged if judged is not None and not judged.kept else None

    def between(self, since: float, until: float) -> list[Judged]:
        found = [j for j in self._rows.values() if since <= j.judged_at < until]
        return sorted(found, key=lambda j: (j.judged_at, j.key))
