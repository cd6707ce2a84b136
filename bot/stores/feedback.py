"""Questions asked and the 👍/👎 they got, to see what to improve: `python -m bot report`.

Every first page of an answer records its question and whether anything was found; every feedback
button records its vote (and a 👎's reason) with the question. The report lists, for a period, the
questions that found nothing or got a 👎, the most frequent first.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # each store makes its feedback store (`SqliteStore.feedback`)
    from bot.stores.articles import SqliteStore
    from bot.stores.postgres import PostgresStore

REASONS = {"wrong_article": "wrong article", "wrong_language": "wrong language", "outdated": "outdated"}


@dataclass
class ReportRow:
    question: str
    unanswered: int = 0
    downvotes: int = 0
    reasons: Counter = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return self.unanswered + self.downvotes


class FeedbackStore(Protocol):
    def record_question(self, question: str, answered: bool) -> None: ...
    def record_feedback(self, question: str, vote: str, reason: str | None, user: str) -> None: ...
    def questions(self, since: float, until: float) -> list[tuple[str, bool]]: ...
    def votes(self, since: float, until: float) -> list[tuple[str, str, str | None]]: ...


def normal_question(question: str) -> str:
    """How questions are grouped: lower case, single spaces."""
    return " ".join(question.lower().split())


class SqliteFeedbackStore:
    def __init__(self, store: SqliteStore) -> None:
        self.store = store

    def record_question(self, question: str, answered: bool) -> None:
        with self.store._transaction() as db:
            db.execute(
                "INSERT INTO questions (question, answered, asked_at) VALUES (?, ?, ?)",
                (normal_question(question), int(answered), self.store._clock()),
            )

    def record_feedback(self, question: str, vote: str, reason: str | None, user: str) -> None:
        with self.store._transaction() as db:
            db.execute(
                "INSERT INTO feedback (question, vote, reason, user_id, at) VALUES (?, ?, ?, ?, ?)",
                (normal_question(question), vote, reason, user, self.store._clock()),
            )

    def questions(self, since: float, until: float) -> list[tuple[str, bool]]:
        rows = self.store._connection().execute(
            "SELECT question, answered FROM questions WHERE asked_at >= ? AND asked_at < ? ORDER BY asked_at",
            (since, until),
        )
        return [(row["question"], bool(row["answered"])) for row in rows]

    def votes(self, since: float, until: float) -> list[tuple[str, str, str | None]]:
        rows = self.store._connection().execute(
            "SELECT question, vote, reason FROM feedback WHERE at >= ? AND at < ? ORDER BY at", (since, until)
        )
        return [(row["question"], row["vote"], row["reason"]) for row in rows]


class PostgresFeedbackStore:
    """The same tables on PostgreSQL."""

    def __init__(self, store: PostgresStore) -> None:
        self.store = store

    def record_question(self, question: str, answered: bool) -> None:
        with self.store._cursor() as db:
            db.execute(
                "INSERT INTO questions (question, answered, asked_at) VALUES (%s, %s, %s)",
                (normal_question(question), int(answered), self.store._clock()),
            )

    def record_feedback(self, question: str, vote: str, reason: str | None, user: str) -> None:
        with self.store._cursor() as db:
            db.execute(
                "INSERT INTO feedback (question, vote, reason, user_id, at) VALUES (%s, %s, %s, %s, %s)",
                (normal_question(question), vote, reason, user, self.store._clock()),
            )

    def questions(self, since: float, until: float) -> list[tuple[str, bool]]:
        with self.store._cursor() as db:
            rows = db.execute(
                "SELECT question, answered FROM questions WHERE asked_at >= %s AND asked_at < %s ORDER BY asked_at",
                (since, until),
            ).fetchall()
        return [(row["question"], bool(row["answered"])) for row in rows]

    def votes(self, since: float, until: float) -> list[tuple[str, str, str | None]]:
        with self.store._cursor() as db:
            rows = db.execute(
                "SELECT question, vote, reason FROM feedback WHERE at >= %s AND at < %s ORDER BY at",
                (since, until),
            ).fetchall()
        return [(row["question"], row["vote"], row["reason"]) for row in rows]


def report(feedback: FeedbackStore, since: float, until: float) -> list[ReportRow]:
    """The questions that found nothing or got a 👎 in [since, until), the most frequent first."""
    rows: dict[str, ReportRow] = {}
    for question, answered in feedback.questions(since, until):
        if not answered:
            rows.setdefault(question, ReportRow(question)).unanswered += 1
    for question, vote, reason in feedback.votes(since, until):
        if vote == "down":
            row = rows.setdefault(question, ReportRow(question))
            row.downvotes += 1
            row.reasons[REASONS.get(reason or "", "no reason given")] += 1
    return sorted(rows.values(), key=lambda row: (-row.total, row.question))


def report_text(rows: list[ReportRow], days: float) -> str:
    if not rows:
        return f"No question went unanswered or got a 👎 in the last {days:g} days."
    lines = [f"Questions with no answer or a 👎 in the last {days:g} days, most frequent first:"]
    for row in rows:
        parts = []
        if row.unanswered:
            parts.append(f"no answer ×{row.unanswered}")
        if row.downvotes:
            why = ", ".join(f"{reason} ×{n}" for reason, n in row.reasons.most_common())
            parts.append(f"👎 ×{row.downvotes} ({why})")
        lines.append(f"{row.total:>4}  {row.question}  — {'; '.join(parts)}")
    return "\n".join(lines)


def run_report(settings, days: float, *, now: float | None = None) -> int:
    from bot.stores.articles import open_store

    store = open_store(settings.database_url)
    try:
        until = time.time() if now is None else now
        print(report_text(report(store.feedback, until - days * 86400, until + 1), days))
    finally:
        store.close()
    return 0
