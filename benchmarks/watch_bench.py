"""Watches and filters benchmark: matching a new article against every watch, and filtered search.

    python benchmarks/watch_bench.py [--articles 2000] [--watches 200] [--new 20]

1. Matching: each new article against every watch with search/asking.py (the article's own terms,
   the coverage bar), beside the plain approach a developer would write first: run each watch's search
   over the whole index and look for the article among its top 50 hits. Both decide per watch; the
   figure is milliseconds per new article for all watches, and how often the two agree.
2. Filters: `SearchIndex.search(words, limit=5, filters=...)` (filtered before diversity) beside the
   plain post-filter (search, then drop what the filter refuses): time per query and the average
   number of results, out of 5, each returns for a filter that keeps 1 article in 10.
Timings are noisy on a shared machine: compare the figures of one run with each other.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from search import SearchIndex  # noqa: E402
from search.asking import article_terms, matches  # noqa: E402
from search.query import Filters, ParsedQuery  # noqa: E402
from tests.synthetic import article, passages, queries, vocabulary  # noqa: E402


def dated(n: int, texts) -> object:
    day = dt.date(2024, 1, 1) + dt.timedelta(days=n % 365)
    return article(f"a{n}", texts).model_copy(
        update={"date": day, "outlet": "wire" if n % 10 == 0 else "daily"}
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--watches", type=int, default=200)
    parser.add_argument("--new", type=int, default=20)
    args = parser.parse_args()
    vocab = vocabulary(5000)
    texts = passages((args.articles + args.new) * 3, vocab)
    index = SearchIndex()
    for n in range(args.articles):
        index.add(dated(n, texts[3 * n : 3 * n + 3]))
    watches = [ParsedQuery(" ".join(words[:2]), Filters()) for words in queries(args.watches, vocab) if words]

    ours = plain = 0.0
    agree = total = posted = 0
    for n in range(args.articles, args.articles + args.new):
        new = dated(n, texts[3 * n : 3 * n + 3])
        index.add(new)
        start = time.perf_counter()
        terms = article_terms(index, new)
        decided = [matches(index, watch, new, terms) for watch in watches]
        ours += time.perf_counter() - start
        start = time.perf_counter()
        naive = [
            any(h.citation.article_id == new.id for h in index.search(w.words, limit=50)) for w in watches
        ]
        plain += time.perf_counter() - start
        agree += sum(a == b for a, b in zip(decided, naive, strict=True))
        total += len(watches)
        posted += sum(decided)
    print(f"{args.articles} articles, {len(watches)} watches, {args.new} new articles")
    print(
        f"matching, ms per new article for all watches: ours {1000 * ours / args.new:.1f}, "
        f"plain (search each watch, top 50) {1000 * plain / args.new:.1f}  (x{plain / ours:.1f})"
    )
    print(
        f"decisions agreeing with the plain approach: {agree / total:.1%}; watches matched per article: "
        f"{posted / args.new:.1f}"
    )

    wire = Filters(outlets=("wire",))
    asked = [" ".join(words) for words in queries(200, vocab, seed=29)]
    start = time.perf_counter()
    filtered = [len(index.search(q, limit=5, filters=wire)) for q in asked]
    inside = time.perf_counter() - start
    start = time.perf_counter()
    after = [len([h for h in index.search(q, limit=5) if h.citation.outlet == "wire"]) for q in asked]
    post = time.perf_counter() - start
    print(f"filter source:wire (1 article in 10), {len(asked)} queries, limit 5:")
    print(
        f"  filtered in the search: {1000 * inside / len(asked):.2f} ms/query, "
        f"{sum(filtered) / len(asked):.2f} results on average"
    )
    print(
        f"  plain post-filter:      {1000 * post / len(asked):.2f} ms/query, "
        f"{sum(after) / len(asked):.2f} results on average"
    )


if __name__ == "__main__":
    main()
