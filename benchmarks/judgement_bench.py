"""Judging an article and finding its story, with 1,000, 10,000 and 100,000 articles stored.

`python benchmarks/judgement_bench.py` prints, for each size, the time to judge an article (the subject
judge) and to find its story (read its features, then look it up in the story index), mean and p95 over the
judged articles, with the growth from one size to the next. The stored articles are the judged sets' own,
cloned with their dates spread over three years and their names renamed, so that each size holds as many
distinct names and days as a real desk would.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from search import load_article  # noqa: E402
from search.judgement.stories import StoryIndex, StoryReader  # noqa: E402
from search.judgement.subject import SubjectJudge  # noqa: E402

JUDGED = ROOT / "tests" / "fixtures" / "judged"
SIZES = (1_000, 10_000, 100_000)
FIRST_DAY = 738_000  # 2021-07-22
DAYS = 3 * 365


def judged_articles() -> list:
    paths = sorted((JUDGED / "subject" / "articles").glob("*.txt")) + sorted(
        (JUDGED / "stories" / "articles").glob("*.txt")
    )
    return [load_article(path) for path in paths]


def clones(features: list, count: int, rng: random.Random) -> list:
    """`count` stored articles: the judged ones' features on other days, their names renamed per clone."""
    made = []
    for n in range(count):
        source = features[n % len(features)]
        suffix = f"-{n // len(features)}" if n >= len(features) else ""
        anchors = frozenset(a if rng.random() < 0.3 else a + suffix for a in source.anchors)
        made.append(
            replace(
                source,
                article_id=f"{source.article_id}{suffix}",
                date_ordinal=FIRST_DAY + rng.randrange(DAYS),
                anchors=anchors,
            )
        )
    return made


def timed(action, items) -> list[float]:
    times = []
    for item in items:
        start = time.perf_counter()
        action(item)
        times.append((time.perf_counter() - start) * 1000)
    return times


def p95(values: list[float]) -> float:
    return sorted(values)[int(len(values) * 0.95)]


def main() -> None:
    articles = judged_articles()
    reader = StoryReader(common=("Mistral AI", "Mistral", "Le Chat", "Arthur Mensch", "Mensch"))
    judge = SubjectJudge()
    features = [reader.read(article) for article in articles]
    rng = random.Random(7)
    print(f"{len(articles)} judged articles as queries; milliseconds per article")
    print(
        f"{'stored':>8} {'judge mean':>11} {'judge p95':>10} {'story mean':>11} {'story p95':>10} {'growth':>7}"
    )
    previous = None
    for size in SIZES:
        index = StoryIndex()
        for stored in clones(features, size, rng):
            index.add(stored)
        judging = timed(judge.judge, articles)
        finding = timed(lambda article, index=index: index.find(reader.read(article)), articles)
        mean = statistics.mean(finding)
        growth = f"{mean / previous:.2f}x" if previous else ""
        print(
            f"{size:>8,} {statistics.mean(judging):>11.2f} {p95(judging):>10.2f} {mean:>11.2f} {p95(finding):>10.2f} {growth:>7}"
        )
        previous = mean


if __name__ == "__main__":
    main()
