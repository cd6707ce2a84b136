"""Parse benchmark: `parse_article` on large and hostile files, and the growth of its time with the size.

Prints, for files of 1k, 10k and 100k one-line paragraphs and for hostile lines (a 1 MB line without
punctuation, a 1 MB run of opening quotes, a 400 KB first line `date … (a/a/a/…`), the parse time and
the growth ratio per doubling of the input: (t2 / t1) ** (1 / log2(n2 / n1)), 2.0 for linear work,
4.0 for quadratic. In the same run, the approaches they replaced are timed at sizes small enough to
finish: the all-pairs repeat check, the backtracking photo-credit pattern, line joining by string
concatenation, and sentencex on a whole paragraph at once. Last, the cost of parsing in the ingestor's
worker process (kept warm) next to parsing in the same process.

Timings are wall-clock on a shared machine: compare the figures of one run with each other (ratios).

    .venv/bin/python benchmarks/parse_bench.py
"""

from __future__ import annotations

import math
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sentencex import segment  # noqa: E402

from bot.news.parsing import ParseWorker  # noqa: E402
from search import parse_article  # noqa: E402
from search.loader import (  # noqa: E402
    _drop_repeats,
    is_credit,
    sentence_spans,
)

SEED = ROOT / "seeds" / "002_680d3d4706e689ab.txt"


def seconds(work: Callable[[], object], repeat: int = 1) -> float:
    best = math.inf
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def per_doubling(sizes: list[int], times: list[float]) -> list[str]:
    """The growth ratio per doubling between each size and the next."""
    ratios = [""]
    for i in range(1, len(sizes)):
        growth = times[i] / times[i - 1] if times[i - 1] > 0 else math.nan
        ratios.append(f"{growth ** (1 / math.log2(sizes[i] / sizes[i - 1])):.2f}")
    return ratios


def old_and_new(
    unit: str,
    sizes: list[int],
    old: tuple[str, Callable[[int], object]],
    new: tuple[str, Callable[[int], object]],
) -> None:
    """The old approach's table (one run a size), then the new one's (the best of three), by title and work."""
    (old_title, old_work), (new_title, new_work) = old, new
    table(f"{old_title} (old)", unit, sizes, [seconds(lambda n=n: old_work(n)) for n in sizes])
    table(f"{new_title} (new)", unit, sizes, [seconds(lambda n=n: new_work(n), 3) for n in sizes])


def table(title: str, unit: str, sizes: list[int], times: list[float]) -> None:
    print(f"\n{title}")
    print(f"  {unit:>12}  {'seconds':>9}  {'x per doubling':>14}")
    for size, elapsed, ratio in zip(sizes, times, per_doubling(sizes, times), strict=True):
        print(f"  {size:>12,}  {elapsed:>9.3f}  {ratio:>14}")


def paragraphs(count: int) -> str:
    lines = [f"Item {n}: Mistral AI news." for n in range(count)]
    return "Mistral AI ships models\n\n" + "\n".join(lines)


# -- the approaches that were replaced, kept here to be timed -----------------------------------------

OLD_CREDIT_RE = re.compile(r"\((?:[^()]*/[^()]*|photo[^()]*|AFP|Reuters|Getty[^()]*|AP)\)\s*$", re.IGNORECASE)


def old_drop_repeats(blocks):
    keys = [" ".join(text.lower().split()) for _, text in blocks]
    kept = []
    for i, block in enumerate(blocks):
        key = keys[i]
        repeated = any(
            j != i and ((key == other and j < i) or (len(key) >= 40 and key != other and key in other))
            for j, other in enumerate(keys)
        )
        if not repeated:
            kept.append(block)
    return kept


def old_join(lines: list[str]) -> list[str]:
    joined: list[str] = []
    for line in lines:
        if joined and line[:1].islower():
            joined[-1] += " " + line
        else:
            joined.append(line)
    return joined


def new_join(lines: list[str]) -> list[str]:
    joined: list[list[str]] = []
    for line in lines:
        if joined and line[:1].islower():
            joined[-1].append(line)
        else:
            joined.append([line])
    return [" ".join(parts) for parts in joined]


def main() -> None:
    sizes = [1_000, 10_000, 100_000]
    times = [
        seconds(lambda n=n: parse_article(paragraphs(n), "p.txt"), repeat=3 if n < 100_000 else 1)
        for n in sizes
    ]
    megabytes = len(paragraphs(sizes[-1]).encode()) / 1e6
    table(
        f"parse_article: one-line paragraphs ({sizes[-1]:,} make {megabytes:.1f} MB)",
        "paragraphs",
        sizes,
        times,
    )

    lengths = [250_000, 500_000, 1_000_000]
    times = [
        seconds(lambda n=n: parse_article("Headline\n\n" + "mistral " * (n // 8), "l.txt")) for n in lengths
    ]
    table("parse_article: one line without punctuation", "characters", lengths, times)
    times = [seconds(lambda n=n: parse_article("Headline\n\n" + "« " * (n // 2), "q.txt")) for n in lengths]
    table("parse_article: one line of opening quotes", "characters", lengths, times)
    lengths = [100_000, 200_000, 400_000]
    times = [
        seconds(lambda n=n: parse_article("date 2024-01-01 (" + "a/" * (n // 2), "c.txt")) for n in lengths
    ]
    table("parse_article: first line `date 2024-01-01 (a/a/a/...`", "characters", lengths, times)

    print("\n-- the same steps, old approach next to the new one, at sizes the old one finishes --")
    sizes = [1_000, 2_000, 4_000]
    blocks = {n: [("body", line) for line in paragraphs(n).split("\n")[2:]] for n in sizes}
    old_and_new(
        "paragraphs",
        sizes,
        ("repeat check, all pairs", lambda n: old_drop_repeats(blocks[n])),
        ("repeat check, set and window", lambda n: _drop_repeats(blocks[n])),
    )

    lengths = [10_000, 20_000, 40_000]
    lines = {n: "date 2024-01-01 (" + "a/" * (n // 2) for n in lengths}
    old_and_new(
        "characters",
        lengths,
        ("photo credit, backtracking pattern", lambda n: OLD_CREDIT_RE.search(lines[n])),
        ("photo credit, last parenthesis", lambda n: is_credit(lines[n])),
    )

    counts = [100_000, 200_000, 400_000]
    wrapped = {n: ["Mistral AI said", *(["and more"] * n)] for n in counts}
    old_and_new(
        "lines",
        counts,
        ("wrapped lines joined by concatenation", lambda n: old_join(wrapped[n])),
        ("wrapped lines joined once", lambda n: new_join(wrapped[n])),
    )

    lengths = [10_000, 20_000, 40_000]
    quotes = {n: "« " * (n // 2) for n in lengths}
    old_and_new(
        "characters",
        lengths,
        ("sentencex on the whole run of quotes", lambda n: list(segment("fr", quotes[n]))),
        ("sentence_spans, pieces of 1,000 characters", lambda n: sentence_spans(quotes[n], "fr")),
    )

    print("\n-- parsing in the ingestor's worker process (warm) and in this process, one seed file --")
    text = SEED.read_text("utf-8")
    worker = ParseWorker()
    try:
        worker.parse(SEED, SEED.name)  # start it
        inside = seconds(lambda: parse_article(text, SEED.name), repeat=20)
        outside = seconds(lambda: worker.parse(SEED, SEED.name), repeat=20)
        with tempfile.TemporaryDirectory() as scratch:
            big = Path(scratch) / "big.txt"
            big.write_text(paragraphs(10_000), "utf-8")
            big_inside = seconds(lambda: parse_article(big.read_text("utf-8"), "big.txt"), repeat=3)
            big_outside = seconds(lambda: worker.parse(big, "big.txt"), repeat=3)
    finally:
        worker.close()
    print(
        f"  seed ({len(text):,} chars): in process {inside * 1000:.1f} ms, in the worker {outside * 1000:.1f} ms"
    )
    print(
        f"  10k paragraphs: in process {big_inside * 1000:.0f} ms, in the worker {big_outside * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
