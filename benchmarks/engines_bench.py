"""Index benchmark: our saved SearchIndex against the engines a user would pick, in one run.

    pip install -e '.[bench]'
    python benchmarks/engines_bench.py [--sizes 10000 100000] [--queries 200] [--million]
    python benchmarks/engines_bench.py --stages 100000   # where our query time goes
    python benchmarks/engines_bench.py --pruning 1000000  # scoring with and without pruning

Engines, all on the same synthetic corpus (`synthetic.py`: Zipf words that are their own stems, so every
engine sees the same tokens): plain rank-bm25 (BM25Okapi, saved with pickle), bm25s, tantivy, SQLite
FTS5, and ours (`search.persist.SavedIndex`); ours-python is ours without its compiled loops
(search._native), as installed without a C compiler. For each engine and size, in fresh processes:
- build: from passage texts to an index in memory (ours: analysis included) and then saved to disk;
- start: a new process opens the saved index until it can answer (ours: `SavedIndex.load`);
- first query: right after the start (ours then analyses the words of the query and of its hits: the
  analyser's word cache starts empty);
- query p50/p95: top 10 for 1-4 word queries, after 200 other queries (ours: with snippets, diversity and citations; the others:
  ids and scores, tantivy and FTS5 also fetch the stored text);
- memory: resident memory of the process holding the opened index after the queries, minus the
  process with the corpus alone, minus (ours) the passage texts it holds, per passage.
Timings on a shared machine are noisy: compare the ratios within one run.
"""

from __future__ import annotations

import argparse
import gc
import json
import pickle
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
if "--child" in sys.argv and "ours-python" in sys.argv:  # ours without search._native: the Python loops
    sys.modules["search._native"] = None  # type: ignore[assignment]

from search.summary import MAX_SNIPPET_CHARS  # noqa: E402
from tests import synthetic  # noqa: E402

VOCABULARY = 50_000
TOP = 10
ENGINES = ("rank-bm25", "bm25s", "tantivy", "tantivy+snippets", "fts5", "ours-python", "ours")
# Queries before the timed ones, as in a server that has answered a few: caches filled (ours: the
# analyser's word cache, empty after a load; `--warm-up 10` shows the effect). rank-bm25 has no cache.
WARM_UP = 200
PLAIN_QUERIES = 40
# BM25 on the query's own words (no lexicon expansion, no "nothing found" gate), as the peers do.
OURS = {
    "expand": False,
    "min_coverage": 0,
}  # rank-bm25 scores every passage for every query: fewer queries keep the run short


def corpus(size: int) -> list[str]:
    return [
        " ".join(words) for words in synthetic.passages(size, synthetic.vocabulary(VOCABULARY), seed=size)
    ]


def queries(size: int, n: int, seed: int = 1) -> list[list[str]]:
    return synthetic.queries(n, synthetic.vocabulary(VOCABULARY), seed=size + seed)


def settle() -> None:
    """Move the corpus out of the garbage collector's way (a store streams rows; a list of 1M
    articles made up front would otherwise be traversed by every collection)."""
    gc.collect()
    gc.freeze()


def resident_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("needs /proc (Linux)")


# -- engines: build(texts, folder) and open(folder) -> query(words) -----------------------------------


def build_rank_bm25(texts, folder):
    import rank_bm25

    bm25 = rank_bm25.BM25Okapi([text.split() for text in texts])
    built = time.perf_counter()
    with (folder / "bm25.pickle").open("wb") as out:
        pickle.dump(bm25, out, protocol=pickle.HIGHEST_PROTOCOL)
    return built


def open_rank_bm25(folder):
    with (folder / "bm25.pickle").open("rb") as source:
        bm25 = pickle.load(source)

    def query(words):
        scores = bm25.get_scores(words)
        top = np.argpartition(-scores, TOP)[:TOP]
        return top[np.argsort(-scores[top], kind="stable")]

    return query


def build_bm25s(texts, folder):
    import bm25s

    retriever = bm25s.BM25()
    retriever.index([text.split() for text in texts], show_progress=False)
    built = time.perf_counter()
    retriever.save(folder / "bm25s", show_progress=False)
    return built


def open_bm25s(folder):
    import bm25s

    retriever = bm25s.BM25.load(folder / "bm25s", show_progress=False, verbosity=0)
    vocabulary = retriever.vocab_dict

    def query(words):
        known = [w for w in words if w in vocabulary]
        if not known:
            return []
        return retriever.retrieve([known], k=TOP, show_progress=False, n_threads=1)

    return query


def build_tantivy(texts, folder):
    import tantivy

    schema = tantivy.SchemaBuilder().add_text_field("text", stored=True).build()
    (folder / "tantivy").mkdir()
    index = tantivy.Index(schema, path=str(folder / "tantivy"))
    writer = index.writer(heap_size=256_000_000, num_threads=1)
    for text in texts:
        writer.add_document(tantivy.Document(text=text))
    writer.commit()
    writer.wait_merging_threads()
    return time.perf_counter()


def open_tantivy(folder):
    import tantivy

    index = tantivy.Index.open(str(folder / "tantivy"))
    searcher = index.searcher()

    def query(words):
        parsed = index.parse_query(" ".join(words), ["text"])
        return [searcher.doc(address)["text"][0] for _, address in searcher.search(parsed, TOP).hits]

    return query


def open_tantivy_snippets(folder):
    """tantivy doing our job: the 10 best with a snippet each (its SnippetGenerator, at most as long as
    ours), the highlighted spans, and the stored text."""
    import tantivy

    index = tantivy.Index.open(str(folder / "tantivy"))
    searcher, schema = index.searcher(), index.schema

    def query(words):
        parsed = index.parse_query(" ".join(words), ["text"])
        snippets = tantivy.SnippetGenerator.create(searcher, parsed, schema, "text")
        snippets.set_max_num_chars(MAX_SNIPPET_CHARS)
        hits = []
        for _, address in searcher.search(parsed, TOP).hits:
            doc = searcher.doc(address)
            snippet = snippets.snippet_from_doc(doc)
            hits.append(
                (doc["text"][0], snippet.fragment(), [(r.start, r.end) for r in snippet.highlighted()])
            )
        return hits

    return query


def build_fts5(texts, folder):
    db = sqlite3.connect(folder / "fts.db")
    db.execute("CREATE VIRTUAL TABLE passages USING fts5(text)")
    db.executemany("INSERT INTO passages (text) VALUES (?)", ((t,) for t in texts))
    db.commit()
    built = time.perf_counter()
    db.close()
    return built


def open_fts5(folder):
    db = sqlite3.connect(folder / "fts.db", check_same_thread=False)
    db.execute("SELECT count(*) FROM passages WHERE passages MATCH 'zzz'").fetchall()

    def query(words):
        match = " OR ".join(f'"{w}"' for w in words)
        return db.execute(
            "SELECT rowid, text, bm25(passages) FROM passages WHERE passages MATCH ? ORDER BY rank LIMIT ?",
            (match, TOP),
        ).fetchall()

    return query


def build_ours(texts, folder):
    from search.persist import SavedIndex

    articles = [synthetic.article(f"p{i}", [text.split()]) for i, text in enumerate(texts)]
    settle()
    start = time.perf_counter()
    index = SavedIndex(folder / "ours", **OURS)
    index.extend(articles)
    built = time.perf_counter()
    index.save()
    return built, start


def open_ours(folder):
    from search.persist import SavedIndex

    index = SavedIndex(folder / "ours", **OURS)
    index.load()
    open_ours.index = index
    return lambda words: index.search(" ".join(words), TOP)


BUILDERS = {
    "rank-bm25": build_rank_bm25,
    "bm25s": build_bm25s,
    "tantivy": build_tantivy,
    "tantivy+snippets": build_tantivy,
    "fts5": build_fts5,
    "ours-python": build_ours,
    "ours": build_ours,
}
OPENERS = {
    "rank-bm25": open_rank_bm25,
    "bm25s": open_bm25s,
    "tantivy": open_tantivy,
    "tantivy+snippets": open_tantivy_snippets,
    "fts5": open_fts5,
    "ours-python": open_ours,
    "ours": open_ours,
}


# -- children: one engine, one size, one fresh process -------------------------------------------------


def child_build(engine: str, size: int, folder: Path) -> dict:
    texts = corpus(size)
    settle()
    start = time.perf_counter()
    result = BUILDERS[engine](texts, folder)
    built, start = result if isinstance(result, tuple) else (result, start)
    saved = time.perf_counter()
    disk = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    return {"build_s": built - start, "build_save_s": saved - start, "disk_mb": disk / 1e6}


def child_open(engine: str, size: int, folder: Path, n_queries: int, warm_up: int) -> dict:
    texts = corpus(size)
    asked = queries(size, PLAIN_QUERIES if engine == "rank-bm25" else n_queries)
    settle()
    before = resident_bytes()
    start = time.perf_counter()
    query = OPENERS[engine](folder)
    started = time.perf_counter() - start
    first = time.perf_counter()
    query(asked[0])
    first = time.perf_counter() - first
    for words in queries(size, 5 if engine == "rank-bm25" else warm_up, seed=2):
        query(words)
    latencies = []
    for words in asked:
        t = time.perf_counter()
        query(words)
        latencies.append(time.perf_counter() - t)
    gc.collect()
    held = resident_bytes() - before
    if engine.startswith("ours"):  # the passage texts are the texts: only what the index adds is counted
        held -= sum(sys.getsizeof(t) for t in open_ours.index._texts if t is not None)
    out = {
        "start_s": started,
        "first_ms": first * 1000,
        "p50_ms": float(np.percentile(latencies, 50) * 1000),
        "p95_ms": float(np.percentile(latencies, 95) * 1000),
        "memory_per_passage": held / size,
    }
    if engine.startswith("ours") and size <= 100_000:
        out["parity"] = parity(open_ours.index, texts, asked[:30])
    del texts
    return out


def parity(index, texts: list[str], asked: list[list[str]]) -> str:
    """Our top-10 scores equal rank-bm25's BM25Plus scores on the same tokens (the variant we rank with)."""
    import rank_bm25

    reference = rank_bm25.BM25Plus([text.split() for text in texts])
    same = 0
    for words in asked:
        scores = reference.get_scores(words)
        hits = index.search(" ".join(words), TOP)
        same += all(np.isclose(scores[int(h.citation.article_id[1:])], h.score) for h in hits) and (
            not hits or np.isclose(hits[0].score, scores.max())
        )
    return f"{same}/{len(asked)}"


def stages(size: int, n_queries: int) -> dict[str, float]:
    """Where our query time goes: the median of each step of `SearchIndex.search`, done step by step
    on one index built in this process (warm: every query is run once first)."""
    from search import SearchIndex
    from search.index import diversity_depth
    from search.query import clean_query
    from search.summary import make_snippet

    index = SearchIndex(**OURS)
    index.extend(synthetic.article(f"p{i}", [text.split()]) for i, text in enumerate(corpus(size)))
    asked = [" ".join(words) for words in queries(size, n_queries)]
    for query in asked:
        index.search(query, TOP)
    steps: dict[str, list[float]] = {}

    def step(name: str, start: float) -> float:
        now = time.perf_counter()
        steps.setdefault(name, []).append((now - start) * 1000)
        return now

    for query in asked:
        t = time.perf_counter()
        weights = index.query_weights(clean_query(query))
        t = step("query analysis and weights", t)
        with index._lock:
            docs, scores, idf = index._score(weights, diversity_depth(TOP), weighted=True)
            t = step("scoring", t)
            ranked = index._diverse(docs, scores, TOP)
            t = step("diversity", t)
            found = [(index._passage(d), index._citation(index._doc_slots[d])) for d, _ in ranked]
            t = step("passages and citations", t)
        weights = {term: weights[term] * idf[term] for term in idf}
        marker = index.analyzer.marker(weights)
        marks = [marker.marks(p.text, c.language) for p, c in found]
        t = step("marking the query's words in the hits", t)
        for (passage, _), marked in zip(found, marks, strict=True):
            make_snippet(passage, marked, weights)
        step("snippets", t)
    return {name: float(np.median(values)) for name, values in steps.items()}


def pruning(size: int, n_queries: int) -> None:
    """Scoring with and without max-score pruning (CPU time, best of 5), by the postings a query's terms
    have together and whether one term holds 90% of them: where pruning pays
    (`search.index.PRUNE_FROM_POSTINGS` and `PRUNE_SHARE`)."""
    from search import SearchIndex
    from search.index import diversity_depth

    index = SearchIndex(**OURS, prune_share=0)
    index.extend(synthetic.article(f"p{i}", [text.split()]) for i, text in enumerate(corpus(size)))
    rows = []
    for words in queries(size, n_queries):
        weights = index.query_weights(" ".join(words))
        postings = [index._df[t] for t in weights if t in index._df]
        if len(postings) < 2:
            continue
        index.prune_from = 0
        pruned = min(_cpu(index._score, weights, diversity_depth(TOP)) for _ in range(5))
        index.prune_from = sum(postings) + 1
        full = min(_cpu(index._score, weights, diversity_depth(TOP)) for _ in range(5))
        rows.append((sum(postings), max(postings) >= 0.9 * sum(postings), pruned, full))
    table = np.array(rows)
    print(
        f"Scoring with and without pruning, {size:,} passages, queries of 2 or more words (CPU, best of 5):"
    )
    for low, high in ((0, 10_000), (10_000, 40_000), (40_000, 100_000), (100_000, None)):
        for dominated in (True, False):
            rows_in = (table[:, 0] >= low) & (table[:, 0] < (high or np.inf)) & (table[:, 1] == dominated)
            if rows_in.any():
                pruned, full = np.median(table[rows_in, 2]) * 1e6, np.median(table[rows_in, 3]) * 1e6
                span = f"{low:,}-{high:,}" if high else f"{low:,}+"
                share = "one term >= 90%" if dominated else "no term 90%"
                print(
                    f"  postings {span:>15}, {share:<15}: {rows_in.sum():>4} queries, "
                    f"pruned {pruned:7.0f} us, full {full:7.0f} us"
                )


def _cpu(function, *args) -> float:
    start = time.process_time()
    function(*args)
    return time.process_time() - start


def run_child(*args: str) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, timeout=7200
    )
    if result.returncode:
        raise RuntimeError(f"{args}: {result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure(sizes: list[int], n_queries: int, warm_up: int, engines: list[str]) -> dict:
    table: dict = {}
    for size in sizes:
        for engine in engines:
            folder = Path(tempfile.mkdtemp(prefix=f"bench-{engine}-{size}-"))
            try:
                built = run_child("build", engine, str(size), str(folder), str(n_queries), str(warm_up))
                opened = run_child("open", engine, str(size), str(folder), str(n_queries), str(warm_up))
            finally:
                shutil.rmtree(folder, ignore_errors=True)
            table[(engine, size)] = {**built, **opened}
            print(f"... {engine} at {size:,}: {table[(engine, size)]}", file=sys.stderr, flush=True)
    return table


def report(table: dict, sizes: list[int], engines: list[str], warm_up: int) -> None:
    print(
        f"\nIndex benchmark: Zipf corpus ({VOCABULARY:,}-word vocabulary, ~60 tokens a passage), top {TOP}, "
        f"timed after {warm_up} warm-up queries"
    )
    print(
        f"{'passages':>9} {'engine':>16} | {'build s':>8} | {'+save s':>8} | {'start s':>8} | {'1st ms':>7} | "
        f"{'p50 ms':>8} | {'p95 ms':>8} | {'B/passage':>9} | {'disk MB':>8}"
    )
    for size in sizes:
        for engine in engines:
            r = table.get((engine, size))
            if r is None:
                continue
            print(
                f"{size:>9,} {engine:>16} | {r['build_s']:>8.2f} | {r['build_save_s']:>8.2f} | "
                f"{r['start_s']:>8.3f} | {r['first_ms']:>7.2f} | {r['p50_ms']:>8.3f} | {r['p95_ms']:>8.3f} | "
                f"{r['memory_per_passage']:>9.0f} | {r['disk_mb']:>8.1f}"
                + (f" | parity {r['parity']}" if "parity" in r else "")
            )
    print("\nOurs / theirs (below 1x: ours is faster or smaller):")
    print(f"{'passages':>9} {'against':>16} | {'build':>7} | {'start':>8} | {'query p50':>9} | {'memory':>7}")
    for size in sizes:
        ours = table.get(("ours", size))
        for engine in engines:
            theirs = table.get((engine, size))
            if engine == "ours" or ours is None or theirs is None:
                continue
            print(
                f"{size:>9,} {engine:>16} | {ours['build_s'] / theirs['build_s']:>6.2f}x | "
                f"{ours['start_s'] / theirs['start_s']:>7.1f}x | "
                f"{ours['p50_ms'] / theirs['p50_ms']:>8.3f}x | "
                f"{ours['memory_per_passage'] / max(theirs['memory_per_passage'], 1):>6.2f}x"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--million", action="store_true", help="also 1,000,000 passages (long; much memory)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--engines", nargs="+", default=list(ENGINES), choices=ENGINES)
    parser.add_argument("--warm-up", type=int, default=WARM_UP, help="queries before the timed ones")
    parser.add_argument("--stages", type=int, metavar="SIZE", help="only print where our query time goes")
    parser.add_argument(
        "--pruning", type=int, metavar="SIZE", help="only compare scoring with and without pruning"
    )
    parser.add_argument("--child", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        step, engine, size, folder, n_queries, warm_up = args.child
        if step == "build":
            out = child_build(engine, int(size), Path(folder))
        else:
            out = child_open(engine, int(size), Path(folder), int(n_queries), int(warm_up))
        print(json.dumps(out))
        return 0
    if args.stages:
        print(f"Median time of each step of SearchIndex.search, {args.stages:,} passages, warm:")
        for name, ms in stages(args.stages, args.queries).items():
            print(f"  {name:<40} {ms:7.3f} ms")
        return 0
    if args.pruning:
        pruning(args.pruning, args.queries)
        return 0
    sizes = [*args.sizes, *([1_000_000] if args.million else [])]
    table = measure(sizes, args.queries, args.warm_up, args.engines)
    report(table, sizes, args.engines, args.warm_up)
    return 0


if __name__ == "__main__":
    sys.exit(main())
