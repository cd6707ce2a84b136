"""The story rule on the judged pairs: its figures beside the plain MinHash rule, and what decides."""

from __future__ import annotations

from search import parse_article
from search.judgement.stories import StoryReader, StoryRule
from tests.search.stories_eval import minhash, ours, pairs, scores, story_rule, table


def test_on_the_test_part_the_story_rule_meets_its_targets(capsys):
    judged = pairs("test")
    within = [p for p in judged if not p.across]
    across = [p for p in judged if p.across]
    with capsys.disabled():
        print("\n" + table("test"))
    precision, recall = scores(ours, within)
    assert precision >= 0.98 and recall >= 0.95
    precision, recall = scores(ours, across)
    assert precision >= 0.95 and recall >= 0.85
    assert scores(minhash, across)[1] < 0.1, "word shingles never match across languages"


def test_amounts_carry_over_between_languages():
    reader = StoryReader(common=["Mistral AI"])
    english = reader.read(
        parse_article(
            "date 2025-09-09\nMistral AI raises €1.7bn\n\nMistral AI raised €1.7bn in a round led by ASML.",
            "en.txt",
        )
    )
    french = reader.read(
        parse_article(
            "date 2025-09-10\nMistral AI lève 1,7 milliard d'euros\n\nMistral AI a levé 1,7 milliard d'euros auprès d'ASML.",
            "fr.txt",
        )
    )
    assert english.anchors & french.anchors == {"1.7 billion euro", "asml"}
    assert StoryRule().same(english, french).same


def test_the_same_words_weeks_apart_are_two_stories():
    reader = StoryReader(common=["Mistral AI"])
    text = "Mistral AI and Kaskade announce a partnership\n\nMistral AI and Kaskade Energy announced a partnership in Oslo."
    first = reader.read(parse_article("date 2024-03-01\n" + text, "a.txt"))
    later = reader.read(parse_article("date 2024-05-01\n" + text, "b.txt"))
    decision = StoryRule().same(first, later)
    assert not decision.same and "61 days apart" in decision.reason


def test_the_story_index_offers_every_pair_the_rule_would_join():
    from search.judgement.stories import StoryIndex

    rule, features = story_rule()
    index = StoryIndex(rule)
    for found in features.values():
        index.add(found)
    judged = pairs("dev") + pairs("test")
    joined = [p for p in judged if rule.same(features[p.a], features[p.b]).same]
    missed = [p for p in joined if features[p.b].article_id not in index.candidates(features[p.a])]
    assert joined and len(missed) <= len(joined) * 0.02, missed
    for pair in [p for p in joined if p.same][:20]:
        found = index.find(features[pair.a])
        assert found is not None and found[1].same
