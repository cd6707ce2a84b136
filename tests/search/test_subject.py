"""The subject judge: its figures on the judged set beside the plain rules, and bad input."""

from __future__ import annotations

import pytest

from search import parse_article
from search.judgement.subject import SubjectJudge
from tests.search.subject_eval import cases, rules, score, table


@pytest.fixture(scope="module")
def judge():
    return SubjectJudge()


def test_on_the_test_part_the_judge_beats_the_plain_rules_and_takes_no_homonym(capsys):
    judged = cases("test")
    ours, *plain = [score(decide, judged) for decide in rules().values()]
    with capsys.disabled():
        print("\n" + table("test"))
    assert ours.homonyms_accepted == 0
    assert all(ours.precision > rule.precision + 0.2 for rule in plain)
    assert ours.recall >= max(rule.recall for rule in plain) - 0.02


def article(text: str):
    return parse_article(text, "x.txt")


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("", "empty"),
        ("Mistral", "empty"),
        ("date 2025-01-01\nMistral AI\n\nMistral AI.", "empty"),
        (
            "Le mistral souffle fort\n\nLe mistral souffle à 100 km/h sur la vallée du Rhône ce matin, les ferries pour la Corse sont annulés.",
            "homonym",
        ),
        (
            "Mistral AI\n\nMistral AI said on Tuesday that it had opened an office in Singapore with forty engineers.",
            "about",
        ),
    ],
)
def test_short_and_odd_articles_get_a_decision_and_a_reason(judge, text, verdict):
    judged = judge.judge(article(text)) if text else judge.judge(article("x"))
    assert judged.verdict == verdict and judged.reason


def test_an_article_naming_the_subject_200_times_is_judged_once_linearly(judge):
    text = "Mistral AI news\n\n" + "Mistral AI released a model. " * 200
    judged = judge.judge(article(text))
    assert judged.about and judged.mentions >= 200


def test_a_page_in_another_language_is_judged_on_its_names(judge):
    german = (
        "Mistral AI stellt neues Modell vor\n\nDas französische Unternehmen Mistral AI hat am Dienstag ein neues "
        "Sprachmodell vorgestellt, das schneller und günstiger sein soll als seine Vorgänger."
    )
    judged = judge.judge(article(german))
    assert judged.about and "Mistral AI" in judged.reason
