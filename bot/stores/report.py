"""What to check and improve, for a period: `python -m bot report`.

- The questions: every first page of an answer records its question and whether anything was found;
  every feedback button records its vote (and a 👎's reason). Listed: the questions that found nothing
  or got a 👎, the most frequent first.
- The subject judge: the articles left out as off-subject, by feed and reason, and the off-subject
  ones taken all the same (folder files, links added anyway), so an operator can check the judge.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from bot.stores.types import Feedback, Judged, Judgements

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


MAX_LISTED_PER_GROUP = 20
VERDICTS = {
    "homonym": "a homonym (another thing of the same name)",
    "passing": "a passing mention",
    "absent": "does not name the subject",
    "empty": "too short to judge",
}


def judged_text(judgements: Judgements, since: float, until: float, days: float) -> str:
    """The off-subject articles of [since, until): those left out by feed and reason, then those kept."""
    judged = judgements.between(since, until)
    left = [j for j in judged if not j.kept]
    kept = [j for j in judged if j.kept]
    if not judged:
        return f"No article was judged off-subject in the last {days:g} days."
    lines = [f"Left out as off-subject in the last {days:g} days: {len(left)}"]
    groups: dict[tuple[str, str], list[Judged]] = {}
    for item in left:
        groups.setdefault((_via(item), VERDICTS.get(item.verdict, item.verdict)), []).append(item)
    for (via, verdict), items in sorted(groups.items(), key=lambda kv: (kv[0][0], -len(kv[1]), kv[0][1])):
        lines.append(f"  {via} — {verdict} ×{len(items)}")
        lines.extend(f"      {_line(item)}" for item in items[:MAX_LISTED_PER_GROUP])
        if len(items) > MAX_LISTED_PER_GROUP:
            lines.append(f"      … and {len(items) - MAX_LISTED_PER_GROUP} more")
    if kept:
        lines.append(f"Taken though judged off-subject (folder files, links added anyway): {len(kept)}")
        lines.extend(f"  {_line(item)} [{item.origin}]" for item in kept[:MAX_LISTED_PER_GROUP])
        if len(kept) > MAX_LISTED_PER_GROUP:
            lines.append(f"  … and {len(kept) - MAX_LISTED_PER_GROUP} more")
    return "\n".join(lines)


def _via(judged: Judged) -> str:
    if judged.feed:
        return f"feed {judged.feed}"
    return {"link": "links given in Slack or to ingest", "folder": "the articles folder"}.get(
        judged.origin, "files given to ingest"
    )


def _line(judged: Judged) -> str:
    return f"“{judged.title}” {judged.key}: {judged.reason}"
