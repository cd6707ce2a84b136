"""Search benchmark: SearchIndex against the plain approach, on synthetic corpora, in one run.

    python benchmarks/search_bench.py [--sizes 1000 10000 100000] [--queries 200]

The plain approach is what a team writes in ten minutes: `BM25Okapi(passages).get_scores(query)` then
the top 10. Both sides get the same tokens (synthetic words are their own stems). Printed per corpus
size: build time, p50/p95 query latency, top-10 parity with rank-bm25's BM25Plus (the variant
SearchIndex scores with), and, for the largest corpus, the time to add one 10-passage article and the
resident memory of a process holding the texts and each index (measured in fresh processes).
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import rank_bm25

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from search import SearchIndex  # noqa: E402
from tests import synthetic  # noqa: E402

VOCABULARY = 50_000
TOP = 10


def corpus(size: int) -> tuple[list[str], list[list[str]]]:
    return vocabulary(), synthetic.passages(size, vocabulary(), seed=size)


_VOCAB: list[str] = []


def vocabulary() -> list[str]:
    if not _VOCAB:
        _VOCAB.extend(synthetic.vocabulary(VOCABULARY))
    return _VOCAB


def build_index(tokens: list[list[str]]) -> SearchIndex:
    # BM25 on the query's own words, as rank-bm25 has it: typo fallbacks and "nothing found" are measured
    # by answers_bench.py.
    index = SearchIndex(expand=False, min_coverage=0)
    for i, words in enumerate(tokens):
        index.add(synthetic.article(f"p{i}", [words]))
    return index


def timed(function, *args) -> tuple[object, float]:
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def plain_top(bm25, query: list[str]) -> np.ndarray:
    scores = bm25.get_scores(query)
    top = np.argpartition(-scores, TOP)[:TOP]
    return top[np.argsort(-scores[top], kind="stable")]


def latencies(function, queries) -> np.ndarray:
    out = []
    for query in queries:
        start = time.perf_counter()
        function(query)
        out.append(time.perf_counter() - start)
    return np.array(out) * 1000


def same_top10(index: SearchIndex, reference, query: list[str]) -> bool:
    """Our top 10 equals rank-bm25's, up to the order of passages whose scores tie."""
    scores = reference.get_scores(query)
    hits = index.search(" ".join(query), TOP)
    ours = np.array([h.score for h in hits])
    expected = np.sort(scores[scores > scores.min()])[::-1][: len(hits)] if np.ptp(scores) else np.array([])
    if len(ours) != min(TOP, int(np.sum(scores > scores.min()))) or not np.allclose(ours, expected):
        return False
    return all(np.isclose(scores[int(h.citation.article_id[1:])], h.score) for h in hits)


def measure_plain(tokens: list[list[str]], queries: list[list[str]]) -> tuple[float, np.ndarray]:
    plain, build = timed(rank_bm25.BM25Okapi, tokens)
    return build, latencies(lambda q: plain_top(plain, q), queries)


def run_size(size: int, n_queries: int, rows: list[dict]) -> SearchIndex:
    vocab, tokens = corpus(size)
    queries = synthetic.queries(n_queries, vocab, seed=size + 1)
    plain_build, plain_ms = measure_plain(tokens, queries[: max(50, n_queries // (size // 10_000 + 1))])
    gc.collect()
    index, index_build = timed(build_index, tokens)
    ours_ms = latencies(lambda q: index.search(" ".join(q), TOP), queries)
    reference = rank_bm25.BM25Plus(tokens)
    parity = sum(same_top10(index, reference, q) for q in queries[:50])
    del reference
    rows.append(
        {
            "size": size,
            "plain_build_s": plain_build,
            "index_build_s": index_build,
            "plain_p50": np.percentile(plain_ms, 50),
            "plain_p95": np.percentile(plain_ms, 95),
            "ours_p50": np.percentile(ours_ms, 50),
            "ours_p95": np.percentile(ours_ms, 95),
            "parity": f"{parity}/{min(50, len(queries))}",
        }
    )
    return index


def add_one_article(index: SearchIndex, vocab: list[str], repeats: int = 20) -> np.ndarray:
    out = []
    for r in range(repeats):
        article = synthetic.article(f"new{r}", synthetic.passages(10, vocab, seed=10_000 + r))
        start = time.perf_counter()
        index.add(article)
        out.append(time.perf_counter() - start)
    return np.array(out) * 1000


def resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_child(kind: str, size: int) -> None:
    """In a fresh process: hold the passage texts and one index, then print resident memory."""
    tokens = synthetic.passages(size, synthetic.vocabulary(VOCABULARY), seed=size)
    texts = [" ".join(words) for words in tokens]
    del tokens
    gc.collect()
    before = resident_mb()
    if kind == "plain":
        held = rank_bm25.BM25Okapi([text.split() for text in texts])
    else:
        held = SearchIndex()
        for i, text in enumerate(texts):
            held.add(synthetic.article(f"p{i}", [text.split()]))
    gc.collect()
    print(
        json.dumps({"kind": kind, "texts_mb": before, "total_mb": resident_mb(), "held": type(held).__name__})
    )


def measure_memory(size: int) -> dict[str, dict]:
    out = {}
    for kind in ("plain", "ours"):
        result = subprocess.run(
            [sys.executable, __file__, "--memory-child", kind, str(size)],
            capture_output=True,
            text=True,
            check=True,
            timeout=900,
        )
        out[kind] = json.loads(result.stdout.strip().splitlines()[-1])
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--memory-child", nargs=2, metavar=("KIND", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child[0], int(args.memory_child[1]))
        return 0

    rows: list[dict] = []
    index = None
    for size in args.sizes:
        index = run_size(size, args.queries, rows)
        print(f"... {size:,} passages done", file=sys.stderr, flush=True)
    largest = max(args.sizes)
    add_ms = add_one_article(index, vocabulary())
    memory = measure_memory(largest)

    print(
        f"\nSearch benchmark: Zipf corpus ({VOCABULARY:,}-word vocabulary, ~60 tokens a passage), top {TOP}"
    )
    print(
        f"{'passages':>9} | {'build plain':>11} | {'build ours':>10} | {'plain p50/p95 ms':>17} | "
        f"{'ours p50/p95 ms':>16} | {'speed-up p50':>12} | parity"
    )
    for r in rows:
        print(
            f"{r['size']:>9,} | {r['plain_build_s']:>10.2f}s | {r['index_build_s']:>9.2f}s | "
            f"{r['plain_p50']:>8.2f}/{r['plain_p95']:<8.2f} | {r['ours_p50']:>7.3f}/{r['ours_p95']:<8.3f} | "
            f"{r['plain_p50'] / r['ours_p50']:>11.0f}x | {r['parity']}"
        )
    print(
        f"\nAdd one 10-passage article to the {largest:,}-passage index: "
        f"median {np.median(add_ms):.2f} ms, max {add_ms.max():.2f} ms (20 articles)"
    )
    plain, ours = memory["plain"], memory["ours"]
    print(
        f"Resident memory with {largest:,} passage texts held ({plain['texts_mb']:.0f} MB for the texts alone):"
    )
    print(f"  texts + BM25Okapi:   {plain['total_mb']:8.0f} MB")
    print(f"  texts + SearchIndex: {ours['total_mb']:8.0f} MB")
    biggest = max(rows, key=lambda r: r["size"])
    checks = {
        "p50 at most 1/50 of plain": biggest["plain_p50"] / biggest["ours_p50"] >= 50,
        "same top-10 as BM25Plus": all(r["parity"].split("/")[0] == r["parity"].split("/")[1] for r in rows),
        "add one article <= 50 ms": add_ms.max() <= 50,
        "memory <= plain": ours["total_mb"] <= plain["total_mb"],
    }
    print("\n" + "\n".join(f"  [{'ok' if ok else 'FAIL'}] {name}" for name, ok in checks.items()))
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
