"""Scoring a search index on the judged set: success@3, MRR@5, recall@5 and "nothing found" precision/recall."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from search import SearchIndex, load_articles
from tests.search.judged_set import Question

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "answers"
SEEDS = ROOT / "seeds"
DEPTH = 5


def judged_articles():
    """The seeds and the fixtures written for the judged set."""
    return load_articles(SEEDS) + load_articles(FIXTURES)


def judged_index(articles=None, **options) -> SearchIndex:
    index = SearchIndex(**options)
    for article in articles if articles is not None else judged_articles():
        index.add(article)
    return index


def answering_passages(articles, question: Question) -> set[str]:
    """The ids of every passage that a judgement of `question` names."""
    return {
        passage.id
        for article in articles
        for passage in article.passages
        if any(
            article.source.startswith(prefix) and phrase in passage.text
            for prefix, phrase in question.answers
        )
    }


@dataclass
class Scores:
    questions: int
    success_at_3: float
    mrr_at_5: float
    recall_at_5: float
    none_precision: float
    none_recall: float
    missed: list[str]
    wrongly_empty: list[str]
    wrongly_answered: list[str]

    def line(self, name: str) -> str:
        return (
            f"{name:>5}: {self.questions} questions, success@3 = {self.success_at_3:.3f}, "
            f"MRR@5 = {self.mrr_at_5:.3f}, recall@5 = {self.recall_at_5:.3f}, "
            f"nothing-found precision = {self.none_precision:.3f}, recall = {self.none_recall:.3f}"
        )


def evaluate(index: SearchIndex, articles, questions: list[Question], search=None) -> Scores:
    """`search(query, limit)` defaults to the index's own; the benchmark passes other rankers."""
    search = search or index.search
    answerable = [q for q in questions if q.answers]
    unanswerable = [q for q in questions if not q.answers]
    success = mrr = recall = 0.0
    missed, wrongly_empty, wrongly_answered = [], [], []
    true_none = false_none = 0
    for question in questions:
        hits = search(question.query, DEPTH)
        if not question.answers:
            if hits:
                wrongly_answered.append(question.query)
            else:
                true_none += 1
            continue
        if not hits:
            false_none += 1
            wrongly_empty.append(question.query)
        wanted = answering_passages(articles, question)
        ranks = [rank for rank, hit in enumerate(hits, start=1) if hit.passage.id in wanted]
        if ranks and ranks[0] <= 3:
            success += 1
        else:
            missed.append(question.query)
        mrr += 1 / ranks[0] if ranks else 0.0
        recall += len(ranks) / min(len(wanted), DEPTH)
    n = max(len(answerable), 1)
    return Scores(
        questions=len(questions),
        success_at_3=success / n,
        mrr_at_5=mrr / n,
        recall_at_5=recall / n,
        none_precision=true_none / (true_none + false_none) if true_none + false_none else 1.0,
        none_recall=true_none / len(unanswerable) if unanswerable else 1.0,
        missed=missed,
        wrongly_empty=wrongly_empty,
        wrongly_answered=wrongly_answered,
    )
