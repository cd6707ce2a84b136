"""Questions asked and the 👍/👎 they got, to see what to improve: `python -m bot report`.

Every first page of an answer records its question and whether anything was found; every feedback
button records its vote (and a 👎's reason) with the question. The report lists, for a period, the
questions that found nothing or got a 👎, the most frequent first.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from bot.stores.types import Feedback

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


def report(feedback: Feedback, since: float, until: float) -> list[ReportRow]:
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
