"""The learned weighing: it learns what the words near a mention say, keeps what it learned through its
file, and the judge says which words weighed."""

from __future__ import annotations

from dataclasses import replace

from search import parse_article
from search.judgement.subject import SubjectJudge, load_subject
from search.judgement.weighing import Reading, Weighing, features, fit, load_weighing


def reading(contexts: set[str], ruled: bool = True) -> Reading:
    return Reading(
        in_headline=True,
        opens=False,
        lead=True,
        paragraphs=6,
        named=3,
        mentioned=3,
        mentions=3,
        first=0.0,
        rivals=0,
        headline_rivals=0,
        other_senses=0,
        ruled=ruled,
        contexts=frozenset(contexts),
        words=frozenset({"raises", "round"}),
    )


def examples() -> list[tuple[Reading, bool]]:
    """Alike in every figure; "former" before the name makes the article someone else's."""
    about = [(reading({"<by", f">w{i}"}), True) for i in range(12)]
    passing = [(reading({"<former", f">w{i}"}), False) for i in range(12)]
    return about + passing


def test_the_words_before_a_mention_are_learned_and_survive_the_file(tmp_path):
    weighing = fit(examples())
    assert weighing.about(reading({"<by"}))[0]
    decided, probability, telling = weighing.about(reading({"<former"}))
    assert not decided and probability < 0.5 and telling == ["<former"]
    weighing.save(tmp_path / "w.json")
    loaded = load_weighing(tmp_path / "w.json")
    found = features(reading({"<former"}))
    assert abs(loaded.probability(found) - weighing.probability(found)) < 1e-3


def test_words_seen_in_too_few_articles_are_not_weighed():
    weighing = fit(examples())
    assert "<former" in weighing.weights and ">w3" not in weighing.weights


def test_the_judge_weighs_with_the_weighing_and_names_the_words_that_decided():
    text = (
        "Tactile raises $9m for robot hands\n\n"
        "Tactile, a Paris robotics data start-up backed by Mistral AI, has raised $9m "
        "in a seed round led by a London fund.\n\nThe company records how people handle objects with gloves "
        "full of sensors and sells the data to robot makers in Europe and Asia.\n\nThe round will pay for "
        "twenty hires and a second lab in Munich, the company said on Tuesday."
    )
    article = parse_article(text, "x.txt")
    alone = SubjectJudge(replace(load_subject(), weighing=None)).judge(article)
    assert alone.about  # the rules: named in the lead, and "the company" after it
    weighing = Weighing(bias=0.0, weights={"lead": 2.0, "<backed": -5.0}, threshold=0.5)
    judged = SubjectJudge(replace(load_subject(), weighing=None), weighing).judge(article)
    assert judged.verdict == "passing" and judged.reason.endswith("the words near it: backed"), judged.reason
