"""Relevance on the seeds: success@3 and MRR over typed queries, for each BM25 variant."""

import pytest

from search import SearchIndex
from search.scoring import VARIANTS
from tests.search.conftest import REPORT
from tests.search.relevance_cases import CASES

SUCCESS_AT_3_FLOOR = 0.95


def first_relevant_rank(index, query, relevant, depth=10):
    for rank, hit in enumerate(index.search(query, depth), start=1):
        if any(hit.citation.source.startswith(p) and phrase in hit.passage.text for p, phrase in relevant):
            return rank
    return None


def evaluate(index):
    ranks = [first_relevant_rank(index, query, relevant) for query, relevant in CASES]
    success = sum(1 for r in ranks if r and r <= 3) / len(ranks)
    mrr = sum(1 / r for r in ranks if r) / len(ranks)
    return success, mrr, ranks


def test_there_are_enough_cases():
    assert len(CASES) >= 25


def test_default_index_meets_the_floor(seed_index):
    success, mrr, ranks = evaluate(seed_index)
    REPORT["default"] = (
        f"SearchIndex (BM25Plus): success@3 = {success:.3f}, MRR = {mrr:.3f} over {len(CASES)} queries"
    )
    missed = [query for (query, _), rank in zip(CASES, ranks, strict=True) if not rank or rank > 3]
    assert success >= SUCCESS_AT_3_FLOOR, f"missed: {missed}"
    assert mrr >= 0.85


@pytest.mark.parametrize("name", list(VARIANTS))
def test_variants_compared(name, seed_articles):
    """The default variant is the one that ranks best on the seeds; the others are reported beside it."""
    index = SearchIndex(scorer=VARIANTS[name])
    for article in seed_articles:
        index.add(article)
    success, mrr, _ = evaluate(index)
    REPORT[name] = f"{name:>9}: success@3 = {success:.3f}, MRR = {mrr:.3f}"
    if name != "BM25Plus":
        best_success, best_mrr = evaluate_default(seed_articles)
        assert (best_success, best_mrr) >= (success, mrr)


def evaluate_default(articles):
    index = SearchIndex()
    for article in articles:
        index.add(article)
    return evaluate(index)[:2]
