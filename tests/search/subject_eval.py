"""The subject judge measured on the judged set (tests/fixtures/judged/subject), beside the plain rules a
user would try first. `python -m tests.search.subject_eval [dev|test] [--errors]` prints the figures."""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from search import Article, load_article
from search.judgement.subject import SubjectJudge, load_subject, words

JUDGED = Path(__file__).resolve().parents[1] / "fixtures" / "judged" / "subject"


@dataclass(frozen=True)
class Case:
    article: Article
    about: bool
    kind: str
    split: str
    file: str
    written_as: str


def cases(split: str) -> list[Case]:
    with (JUDGED / "labels.tsv").open(encoding="utf-8", newline="") as file:
        rows = [r for r in csv.DictReader(file, delimiter="\t") if r["split"] == split]
    return [
        Case(
            load_article(JUDGED / "articles" / r["file"]),
            r["label"] == "about",
            r["kind"],
            split,
            r["file"],
            r["written_as"],
        )
        for r in rows
    ]


def name_anywhere(article: Article) -> bool:
    return "mistral" in words(article.text)


def name_in_headline_or_lead(article: Article) -> bool:
    body = [p.text for p in article.passages if p.kind != "caption"]
    return "mistral" in words(" ".join([article.title, *body[:1]]))


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    homonyms_accepted: int
    errors: list[Case]


def score(decide: Callable[[Article], bool], judged: list[Case]) -> Scores:
    decided = [(case, decide(case.article)) for case in judged]
    accepted = [c for c, yes in decided if yes]
    true = sum(c.about for c in accepted)
    relevant = sum(c.about for c in judged)
    return Scores(
        precision=true / len(accepted) if accepted else 1.0,
        recall=true / relevant if relevant else 1.0,
        homonyms_accepted=sum(c.kind.startswith("homonym") for c in accepted),
        errors=[c for c, yes in decided if yes != c.about],
    )


def rules() -> dict[str, Callable[[Article], bool]]:
    judge = SubjectJudge()
    alone = SubjectJudge(replace(load_subject(), weighing=None))
    return {
        "the judge": lambda article: judge.judge(article).about,
        "its rules alone, without the learned weighing": lambda article: alone.judge(article).about,
        "the name anywhere": name_anywhere,
        "the name in the headline or first paragraph": name_in_headline_or_lead,
    }


def table(split: str) -> str:
    judged = cases(split)
    lines = [
        f"Subject judge, {split} part ({len(judged)} articles, {sum(c.about for c in judged)} about the subject):"
    ]
    lines.append(f"{'rule':<48} {'precision':>9} {'recall':>7} {'homonyms accepted':>18}")
    for name, decide in rules().items():
        s = score(decide, judged)
        lines.append(f"{name:<48} {s.precision:>9.3f} {s.recall:>7.3f} {s.homonyms_accepted:>18d}")
    return "\n".join(lines)


if __name__ == "__main__":
    split = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else "dev"
    print(table(split))
    if "--errors" in sys.argv:
        judge = SubjectJudge()
        for case in score(lambda a: judge.judge(a).about, cases(split)).errors:
            verdict = judge.judge(case.article)
            print(
                f"  {case.file} [{case.kind}] judged {verdict.verdict}: {verdict.reason} | {case.article.title[:70]}"
            )
