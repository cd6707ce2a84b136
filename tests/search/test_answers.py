"""The judged set: questions as people ask them, in English and French, scored on the dev and test parts."""

import pytest

from tests.search.conftest import REPORT
from tests.search.judged import evaluate, judged_articles, judged_index
from tests.search.judged_set import DEV, QUESTIONS, TEST


@pytest.fixture(scope="module")
def articles():
    return judged_articles()


@pytest.fixture(scope="module")
def index(articles):
    return judged_index(articles)


def test_the_set_is_large_balanced_and_split():
    english = [q for q in QUESTIONS if q.language == "en"]
    french = [q for q in QUESTIONS if q.language == "fr"]
    assert len(QUESTIONS) >= 150
    assert abs(len(english) - len(french)) <= 2
    assert sum(not q.answers for q in QUESTIONS) >= 15
    assert len({q.query for q in QUESTIONS}) == len(QUESTIONS)
    assert DEV and TEST and len(DEV) + len(TEST) == len(QUESTIONS)


def test_every_judgement_names_a_real_passage(articles):
    for question in QUESTIONS:
        for prefix, phrase in question.answers:
            assert any(
                article.source.startswith(prefix) and phrase in passage.text
                for article in articles
                for passage in article.passages
            ), (question.query, prefix, phrase)


SUCCESS_AT_3_FLOOR = 0.9  # the goal: the right passage in the top three for nine questions in ten


@pytest.mark.parametrize("part", ["dev", "test"])
def test_judged_set(part, index, articles):
    questions = DEV if part == "dev" else TEST
    scores = evaluate(index, articles, questions)
    REPORT[f"judged-{part}"] = "judged set, BM25 + lexicon + gate " + scores.line(part)
    assert scores.wrongly_empty == [], "a question with an answer got nothing found"
    assert scores.success_at_3 >= SUCCESS_AT_3_FLOOR, scores.missed
    assert scores.none_recall >= 0.4, scores.wrongly_answered


@pytest.mark.parametrize("part", ["dev", "test"])
def test_judged_set_without_lexicon_and_gate(part, articles):
    """The same index as before this work: the figures the lexicon and the gate are measured against."""
    plain = judged_index(articles, expand=False, min_coverage=0)
    scores = evaluate(plain, articles, DEV if part == "dev" else TEST)
    REPORT[f"judged-plain-{part}"] = "judged set, plain BM25             " + scores.line(part)
    assert scores.success_at_3 < SUCCESS_AT_3_FLOOR
