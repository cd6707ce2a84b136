"""Judging an article and finding its story, with 1,000, 10,000 and 100,000 articles stored.

`python benchmarks/judgement_bench.py` prints two tables.
- The rule: for each size, the time to judge an article (the subject judge) and to find its story (read its
  features, then look it up in the story index), mean and p95 over the judged articles, with the growth from one
  size to the next. The stored articles are the judged sets' own, cloned with their dates spread over three
  years and their names renamed, so that each size holds as many distinct names and days as a real desk would.
- The pipeline's path (`--pipeline`, or by default too): a real `SearchIndex` holding the stored articles
  (the judged texts cloned over the three years before the first arrival), and the pipeline's `Stories`
  over it, as a server has them after a start: the window around the first day read (`start`, in
  seconds: in a server, a background thread's work once started). The judged articles then arrive over
  30 days in date order, and each is looked up (`Stories.find`: the new days of the window read when its
  date is first seen, boilerplate, features, the index) and added. Mean, p95 and the slowest, then one
  old article (dated a year back, which reads its own window), and the articles read from the index.
"""

from __future__ import annotations

import datetime as dt
import gc
import random
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.news.stories import Stories, dated_in_index  # noqa: E402
from search import SearchIndex, load_article  # noqa: E402
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


def redated(article, article_id: str, day: int):
    passages = tuple(p.model_copy(update={"article_id": article_id}) for p in article.passages)
    return article.model_copy(
        update={"id": article_id, "date": dt.date.fromordinal(day), "passages": passages}
    )


def pipeline_path(articles: list) -> None:
    """The pipeline's story find over a real index, at each size."""
    rng = random.Random(11)
    print(f"\nThe pipeline's path: {len(articles)} judged articles arriving over 30 days into a served index")
    print(
        f"{'stored':>8} {'start (s)':>9} {'mean':>7} {'p95':>7} {'slowest':>8} {'old':>8} {'read':>7} "
        f"{'growth':>7}"
    )
    previous = None
    for size in SIZES:
        index = SearchIndex()
        index.extend(
            redated(articles[n % len(articles)], f"stored-{n}", FIRST_DAY + rng.randrange(DAYS - 30))
            for n in range(size)
        )
        reader = StoryReader(index.analyzer, index.lexicon, common=SubjectJudge().subject.written)
        read = []
        stories = Stories(_counted(dated_in_index(index), read), reader)
        arriving = sorted(
            (
                redated(a, f"new-{n}", FIRST_DAY + DAYS - 30 + rng.randrange(30))
                for n, a in enumerate(articles)
            ),
            key=lambda a: a.date,
        )

        def arrive(article, stories=stories):
            stories.find(article)
            stories.add(article)

        # A server reads the stories around today once started (`Pipeline.read_around_today`), and
        # freezes what it has loaded out of the cyclic collector's walks (`bot/app.py`).
        started = time.perf_counter()
        stories.read_around(arriving[0].date)
        start_read = time.perf_counter() - started
        gc.freeze()
        times = timed(arrive, arriving)
        # A feed's old article, dated a year back: its window is read when it arrives.
        old = timed(arrive, [redated(articles[0], "old", FIRST_DAY + DAYS - 395)])[0]
        mean = statistics.mean(times)
        growth = f"{mean / previous:.2f}x" if previous else ""
        print(
            f"{size:>8,} {start_read:>9.2f} {mean:>7.2f} {p95(times):>7.2f} {max(times):>8.1f} "
            f"{old:>8.1f} {len(read):>7,} {growth:>7}"
        )
        previous = mean


def _counted(dated, read: list):
    """`dated`, noting in `read` each article it gives."""

    def counted(first, last):
        for article in dated(first, last):
            read.append(article.id)
            yield article

    return counted


def query_cost() -> None:
    """A query's time through `ask`, with the question judge and without, on the judged questions."""
    from search.asking import ask
    from tests.search.judged import judged_articles as answer_articles
    from tests.search.judged_set import QUESTIONS

    index = SearchIndex()
    index.extend(answer_articles())
    judge = SubjectJudge()
    questions = [q.query for q in QUESTIONS] * 5
    timed(lambda q: ask(index, q, limit=5), questions[: len(QUESTIONS)])  # warm the caches
    print(f"\nA query ({len(QUESTIONS)} judged questions, 5 times each, on the seeds' index), milliseconds")
    for name, with_judge in (("without the question judge", None), ("with it", judge)):
        times = timed(lambda q, j=with_judge: ask(index, q, limit=5, judge=j), questions)
        print(f"  {name:<28} mean {statistics.mean(times):.3f}  p95 {p95(times):.3f}")
    alone = timed(judge.off_subject, questions)
    print(f"  the question judge alone     mean {statistics.mean(alone):.4f}")


if __name__ == "__main__":
    if "--pipeline" not in sys.argv:
        main()
        query_cost()
    pipeline_path(judged_articles())
