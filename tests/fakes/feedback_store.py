"""An in-memory `Feedback` with the SQLite one's rules (tests/stores/test_feedback_contract.py)."""

from __future__ import annotations

import time

from bot.stores.types import normal_question


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
