"""Questions asked and the 👍/👎 they got (the report, bot/stores/report.py, reads them).

Every first page of an answer records its question and whether anything was found; every feedback
button records its vote (and a 👎's reason) with the question.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.stores.types import Database, normal_question


@dataclass(frozen=True)
class SqlFeedback:
    """The questions and feedback tables on either database (bot/stores/types.py: `Feedback`)."""

    database: Database

    def record_question(self, question: str, answered: bool) -> None:
        with self.database.transaction() as db:
            db.execute(
                "INSERT INTO questions (question, answered, asked_at) VALUES (?, ?, ?)",
                (normal_question(question), int(answered), self.database.clock()),
            )

    def record_feedback(self, question: str, vote: str, reason: str | None, user: str) -> None:
        with self.database.transaction() as db:
            db.execute(
                "INSERT INTO feedback (question, vote, reason, user_id, at) VALUES (?, ?, ?, ?, ?)",
                (normal_question(question), vote, reason, user, self.database.clock()),
            )

    def questions(self, since: float, until: float) -> list[tuple[str, bool]]:
        with self.database.reading() as db:
            rows = db.execute(
                "SELECT question, answered FROM questions WHERE asked_at >= ? AND asked_at < ? ORDER BY asked_at",
                (since, until),
            ).fetchall()
        return [(row["question"], bool(row["answered"])) for row in rows]

    def votes(self, since: float, until: float) -> list[tuple[str, str, str | None]]:
        with self.database.reading() as db:
            rows = db.execute(
                "SELECT question, vote, reason FROM feedback WHERE at >= ? AND at < ? ORDER BY at",
                (since, until),
            ).fetchall()
        return [(row["question"], row["vote"], row["reason"]) for row in rows]
