"""The story rule measured on the judged pairs (tests/fixtures/judged/stories), beside the plain MinHash rule.
`python -m tests.search.stories_eval [dev|test] [--errors]` prints the figures."""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from search import load_article
from search.dedupe import THRESHOLD, similarity
from search.judgement.stories import StoryReader, StoryRule, boilerplate_of, rarity_of

JUDGED = Path(__file__).resolve().parents[1] / "fixtures" / "judged" / "stories"
SUBJECT_NAMES = ("Mistral AI", "Mistral", "Le Chat", "Arthur Mensch", "Mensch")


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    same: bool
    kind: str
    across: bool


def pairs(split: str) -> list[Pair]:
    found = []
    for path in sorted(JUDGED.glob("*pairs.tsv")):
        with path.open(encoding="utf-8", newline="") as file:
            for row in csv.DictReader(file, delimiter="\t"):
                if row["split"] == split:
                    found.append(
                        Pair(
                            row["a"],
                            row["b"],
                            row["same"] == "1",
                            row["kind"],
                            row["kind"].startswith("cross"),
                        )
                    )
    return found


@cache
def articles():
    return {path.name: load_article(path) for path in sorted((JUDGED / "articles").glob("*.txt"))}


@cache
def story_rule():
    everything = articles()
    boilerplate = boilerplate_of(everything.values())
    reader = StoryReader(common=SUBJECT_NAMES)
    features = {name: reader.read(article, boilerplate) for name, article in everything.items()}
    return StoryRule(rarity_of(features.values())), features


def ours(pair: Pair) -> bool:
    rule, features = story_rule()
    return rule.same(features[pair.a], features[pair.b]).same


def minhash(pair: Pair) -> bool:
    texts = articles()
    return similarity(texts[pair.a].text, texts[pair.b].text) >= THRESHOLD


def scores(decide, judged: list[Pair]) -> tuple[float, float]:
    said = [(p, decide(p)) for p in judged]
    yes = [p for p, same in said if same]
    true = sum(p.same for p in yes)
    relevant = sum(p.same for p in judged)
    return (true / len(yes) if yes else 1.0, true / relevant if relevant else 1.0)


def table(split: str) -> str:
    judged = pairs(split)
    lines = [f"Same story, {split} part: precision / recall"]
    for label, across in (("within a language", False), ("across languages", True)):
        part = [p for p in judged if p.across == across]
        lines.append(f"  {label} ({len(part)} pairs, {sum(p.same for p in part)} the same story):")
        for name, decide in (("the story rule", ours), ("MinHash, Jaccard >= 0.4", minhash)):
            precision, recall = scores(decide, part)
            lines.append(f"    {name:<26} {precision:.3f} / {recall:.3f}")
    return "\n".join(lines)


if __name__ == "__main__":
    split = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else "dev"
    print(table(split))
    if "--errors" in sys.argv:
        rule, features = story_rule()
        for pair in pairs(split):
            decision = rule.same(features[pair.a], features[pair.b])
            if decision.same != pair.same:
                print(f"  {pair.a} {pair.b} [{pair.kind}] said {decision.same}: {decision.reason}")
