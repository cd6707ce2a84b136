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


@pytest.mark.parametrize("part", ["dev", "test"])
def test_judged_set(part, index, articles):
    questions = DEV if part == "dev" else TEST
    scores = evaluate(index, articles, questions)
    REPORT[f"judged-{part}"] = "judged set " + scores.line(part)
    assert scores.wrongly_empty == [], "a question with an answer got nothing found"
