"""ROUGE of `search.Summarizer.summarize` against editors' references, with lead-3 and LexRank in the same run.

Two reference sets:
- the five seeds (tests/search/reference_summaries.json);
- the news set (tests/fixtures/news: 34 articles in English and French, each form of news story, split
  into a dev part, used for tuning, and a held-out test part).

ROUGE is implemented here (F1 of clipped n-gram overlap; ROUGE-L from the longest common subsequence),
on lower-cased, accent-folded words, WITHOUT stemming and with stop words kept, as `rouge-score` does by
default; its tokenizer is not used because it keeps only [a-z0-9] and breaks French words.

Run: `.venv/bin/python -m benchmarks.summary_bench` (prints the tables, the dev ablation and timings);
`... summary_bench --tune` searches the weights on the dev part (and the seeds) only.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

from search import Analyzer, Article, Passage, Summarizer, load_article
from search.analysis import fold_accents
from search.loader import sentence_spans
from search.summary import WEIGHTS, Sentence, Weights, lexrank

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
REFERENCES = ROOT / "tests" / "search" / "reference_summaries.json"
NEWS = ROOT / "tests" / "fixtures" / "news"
NEWS_REFERENCES = NEWS / "references.json"
METRICS = ("rouge1", "rouge2", "rougeL")
LANGUAGES = ("en", "fr")
SUMMARIZER = Summarizer(Analyzer())  # the analyzer a SearchIndex makes by default


def tokens(text: str) -> list[str]:
    """Lower-cased, accent-folded words.

    Not rouge-score's tokenizer: it keeps only [a-z0-9], so "modèle" becomes "mod" + "le" and French
    scores are wrong. Folding accents keeps the word whole and matches "créée" with "creee".
    """
    return re.findall(r"\w+", fold_accents(text.lower()))


def rouge_n(candidate: str, reference: str, n: int) -> float:
    """ROUGE-N F1: clipped n-gram overlap, harmonic mean of precision and recall."""
    cand, ref = _ngrams(tokens(candidate), n), _ngrams(tokens(reference), n)
    overlap = sum((cand & ref).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(cand.values()), overlap / sum(ref.values())
    return 2 * precision * recall / (precision + recall)


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F1: the longest common subsequence of words, over both lengths."""
    cand, ref = tokens(candidate), tokens(reference)
    if not cand or not ref:
        return 0.0
    previous = [0] * (len(ref) + 1)
    for word in cand:
        current = [0]
        for j, other in enumerate(ref):
            current.append(previous[j] + 1 if word == other else max(previous[j + 1], current[j]))
        previous = current
    lcs = previous[-1]
    if not lcs:
        return 0.0
    precision, recall = lcs / len(cand), lcs / len(ref)
    return 2 * precision * recall / (precision + recall)


def rouge(candidate: str, reference: str) -> dict[str, float]:
    return {
        "rouge1": rouge_n(candidate, reference, 1),
        "rouge2": rouge_n(candidate, reference, 2),
        "rougeL": rouge_l(candidate, reference),
    }


def _ngrams(words: list[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def body_sentences(article: Article) -> list[str]:
    return [
        passage.text[start:end].strip()
        for passage in article.passages
        if passage.kind == "body"
        for start, end in passage.sentences
    ]


def lead_3(article: Article) -> str:
    """The baseline: the first three sentences of the article's body paragraphs (no length limit)."""
    return " ".join(body_sentences(article)[:3])


def lexrank_3(article: Article) -> str:
    """The graph baseline: the three most central body sentences by LexRank, in article order."""
    texts = body_sentences(article)
    if not texts:
        return ""
    sentences = [
        Sentence(i, t, tuple(SUMMARIZER.analyzer.terms(t, article.language))) for i, t in enumerate(texts)
    ]
    top = sorted(np.argsort(-lexrank(sentences), kind="stable")[:3])
    return " ".join(texts[i] for i in top)


SYSTEMS: dict[str, Callable[[Article], str]] = {
    "summarize": SUMMARIZER.summarize,
    "lead-3": lead_3,
    "lexrank-3": lexrank_3,
}


# The seeds (the original benchmark, kept for tests/search/test_summary.py).


def references() -> dict[str, str]:
    return {
        name: text for name, text in json.loads(REFERENCES.read_text("utf-8")).items() if name != "_about"
    }


def evaluate() -> dict[str, dict[str, dict[str, float]]]:
    """{system: {seed file: {"rouge1", "rouge2", "rougeL"}}} for "summarize" and "lead-3"."""
    scores: dict[str, dict[str, dict[str, float]]] = {"summarize": {}, "lead-3": {}}
    for name, reference in references().items():
        article = load_article(SEEDS / name)
        assert article is not None, name
        for system in scores:
            scores[system][name] = rouge(SYSTEMS[system](article), reference)
    return scores


def averages(scores: dict[str, dict[str, float]]) -> dict[str, float]:
    return {metric: sum(per_file[metric] for per_file in scores.values()) / len(scores) for metric in METRICS}


def table(scores: dict[str, dict[str, dict[str, float]]]) -> str:
    lines = [f"{'article':<28} {'system':<10} {'ROUGE-1':>8} {'ROUGE-2':>8} {'ROUGE-L':>8}"]
    for name in scores["summarize"]:
        for system in scores:
            row = scores[system][name]
            lines.append(f"{name:<28} {system:<10} " + " ".join(f"{row[m]:>8.3f}" for m in METRICS))
    for system in scores:
        mean = averages(scores[system])
        lines.append(f"{'average':<28} {system:<10} " + " ".join(f"{mean[m]:>8.3f}" for m in METRICS))
    return "\n".join(lines)


# The news set.


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    language: str
    split: str
    form: str
    reference: str
    article: Article


def news_cases() -> list[Case]:
    entries = json.loads(NEWS_REFERENCES.read_text("utf-8"))["articles"]
    cases = []
    for name, entry in entries.items():
        article = load_article(NEWS / name)
        assert article is not None, name
        cases.append(Case(name, entry["language"], entry["split"], entry["form"], entry["summary"], article))
    return cases


def score_news(
    cases: list[Case], systems: dict[str, Callable[[Article], str]]
) -> dict[str, dict[str, dict[str, float]]]:
    """{system: {file: {"rouge1", "rouge2", "rougeL", "chars"}}}."""
    scores: dict[str, dict[str, dict[str, float]]] = {system: {} for system in systems}
    for case in cases:
        for system, summarise in systems.items():
            summary = summarise(case.article)
            scores[system][case.name] = {**rouge(summary, case.reference), "chars": len(summary)}
    return scores


def group_means(
    cases: list[Case], per_file: dict[str, dict[str, float]], split: str, language: str | None = None
) -> dict[str, float]:
    names = [c.name for c in cases if c.split == split and language in (None, c.language)]
    return {key: sum(per_file[name][key] for name in names) / len(names) for key in (*METRICS, "chars")} | {
        "n": len(names),
        "max_chars": max(per_file[name]["chars"] for name in names),
    }


def news_table(cases: list[Case], scores: dict[str, dict[str, dict[str, float]]]) -> str:
    lines = [
        f"{'split':<5} {'lang':<4} {'n':>2} {'system':<10} {'ROUGE-1':>8} {'ROUGE-2':>8} {'ROUGE-L':>8}"
        f" {'chars':>6} {'max':>5}"
    ]
    for split in ("dev", "test"):
        for language in (*LANGUAGES, None):
            for system, per_file in scores.items():
                mean = group_means(cases, per_file, split, language)
                lines.append(
                    f"{split:<5} {language or 'all':<4} {mean['n']:>2} {system:<10} "
                    + " ".join(f"{mean[m]:>8.3f}" for m in METRICS)
                    + f" {mean['chars']:>6.0f} {mean['max_chars']:>5.0f}"
                )
    return "\n".join(lines)


def margins(cases: list[Case], scores: dict[str, dict[str, dict[str, float]]], split: str = "test") -> dict:
    """{language: {metric: ours - lead-3}} on `split`."""
    return {
        language: {
            metric: group_means(cases, scores["summarize"], split, language)[metric]
            - group_means(cases, scores["lead-3"], split, language)[metric]
            for metric in METRICS
        }
        for language in LANGUAGES
    }


def ablation(cases: list[Case]) -> str:
    """Dev ROUGE (and the seeds') with each feature switched off: what each one earns."""
    dev = [c for c in cases if c.split == "dev"]
    seeds = [(load_article(SEEDS / name), reference) for name, reference in references().items()]

    def means(weights: Weights) -> list[float]:
        per_file = score_news(dev, {"s": lambda a: SUMMARIZER.summarize(a, weights=weights)})["s"]
        values = [
            group_means(dev, per_file, "dev", lang)[m]
            for lang in (*LANGUAGES, None)
            for m in ("rouge1", "rouge2")
        ]
        seed_scores = [rouge(SUMMARIZER.summarize(a, weights=weights), ref) for a, ref in seeds]
        return values + [sum(r[m] for r in seed_scores) / len(seed_scores) for m in ("rouge1", "rouge2")]

    full = means(WEIGHTS)
    header = [f"{m} {g}" for g in ("en", "fr", "all", "seeds") for m in ("R1", "R2")]
    lines = [
        f"{'without':<12} " + " ".join(f"{h:>8}" for h in header),
        f"{'(nothing)':<12} " + " ".join(f"{v:>8.3f}" for v in full),
    ]
    for field in dataclasses.fields(Weights):
        off = means(dataclasses.replace(WEIGHTS, **{field.name: 0.0}))
        lines.append(
            f"{field.name:<12} " + " ".join(f"{o - f:>+8.3f}" for o, f in zip(off, full, strict=True))
        )
    lines.append("(change in ROUGE when the feature is switched off: negative = the feature earns its place)")
    return "\n".join(lines)


def timings(cases: list[Case], repeat: int = 3) -> str:
    """Time per summary on the news set and on one huge article, ours against LexRank on every sentence."""
    articles = [c.article for c in cases]
    # Built from passages directly: the loader's own cost is load_bench's business, not this one's.
    paragraphs = [
        f"In part {k}, {p.text}" for k in range(10) for a in articles for p in a.passages if p.kind == "body"
    ]
    huge_text = "\n\n".join(paragraphs)
    huge = Article(
        id="huge",
        title="Huge article",
        source="huge.txt",
        text=huge_text,
        passages=tuple(
            Passage(article_id="huge", position=i, text=t, sentences=sentence_spans(t, "en"))
            for i, t in enumerate(paragraphs)
        ),
    )
    lines = []
    for label, batch in (
        ("news set, per article", articles),
        (f"one article, {len(huge_text):,} chars", [huge]),
    ):
        row = []
        for system in ("summarize", "lexrank-3"):
            best = float("inf")
            for _ in range(repeat if len(batch) > 1 else 1):
                start = time.perf_counter()
                for article in batch:
                    SYSTEMS[system](article)
                best = min(best, (time.perf_counter() - start) / len(batch))
            row.append(best)
        lines.append(
            f"{label:<40} summarize {row[0] * 1000:9.1f} ms   lexrank-3 (uncapped) {row[1] * 1000:9.1f} ms"
        )
    return "\n".join(lines)


def headline_table(cases: list[Case]) -> str:
    """The one-sentence form: ROUGE-1 against the reference's first sentence, ours against lead-1."""
    rows = {"headline_summary": [], "lead-1": []}
    for case in cases:
        first = re.split(r"(?<=[.!?])\s+(?=[A-ZÀ-Ý«“])", case.reference)[0]
        rows["headline_summary"].append(rouge_n(SUMMARIZER.headline_summary(case.article), first, 1))
        rows["lead-1"].append(rouge_n(" ".join(body_sentences(case.article)[:1]), first, 1))
    return "\n".join(f"{name:<17} ROUGE-1 {sum(v) / len(v):.3f}" for name, v in rows.items())


def tune(cases: list[Case], passes: int = 2) -> Weights:
    """Coordinate search of the weights on the dev part (and the seeds) only: the test part is never read.

    The objective is the mean of (ROUGE-1 + ROUGE-2) / 2 over three groups: dev English, dev French, seeds.
    """
    dev = [c for c in cases if c.split == "dev"]
    seeds = [(load_article(SEEDS / name), reference) for name, reference in references().items()]

    def objective(weights: Weights) -> float:
        per_file = score_news(dev, {"s": lambda a: SUMMARIZER.summarize(a, weights=weights)})["s"]
        groups = [group_means(dev, per_file, "dev", language) for language in LANGUAGES]
        values = [(g["rouge1"] + g["rouge2"]) / 2 for g in groups]
        seed_scores = [rouge(SUMMARIZER.summarize(a, weights=weights), ref) for a, ref in seeds]
        values.append(sum((r["rouge1"] + r["rouge2"]) / 2 for r in seed_scores) / len(seed_scores))
        return sum(values) / len(values)

    best, best_value = WEIGHTS, objective(WEIGHTS)
    print(f"start {best_value:.4f} {best}")
    for _ in range(passes):
        for field in dataclasses.fields(Weights):
            for value in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.5, 2.0, 3.0):
                candidate = dataclasses.replace(best, **{field.name: value})
                result = objective(candidate)
                if result > best_value + 1e-3:
                    best, best_value = candidate, result
                    print(f"{field.name}={value}: {best_value:.4f}")
    print(f"best {best_value:.4f} {best}")
    return best


def main() -> None:
    if "--tune" in sys.argv:
        tune(news_cases())
        return
    print("Seeds (5 articles):")
    print(table(evaluate()))
    cases = news_cases()
    scores = score_news(cases, SYSTEMS)
    print("\nNews set (tests/fixtures/news): ROUGE F1, no stemming, accents folded")
    print(news_table(cases, scores))
    print("\nTest part, ours minus lead-3 (targets: ROUGE-1 >= +0.03, ROUGE-2 >= +0.02):")
    for language, delta in margins(cases, scores).items():
        print(f"  {language}: " + "  ".join(f"{m} {v:+.3f}" for m, v in delta.items()))
    web = [c for c in cases if c.split == "test" and c.name.startswith("web_")]
    print(
        f"\nTest part, the {len(web)} web-page texts of the news-sources work only (not written by this author):"
    )
    for system, per_file in scores.items():
        mean = group_means(web, per_file, "test")
        print(f"  {system:<10} " + "  ".join(f"{m} {mean[m]:.3f}" for m in METRICS))
    print("\nDev ablation:")
    print(ablation(cases))
    print(f"\nOne-sentence form, against the first sentence of each reference (all {len(cases)} articles):")
    print(headline_table(cases))
    print("\nTimings (best of 3; the machine is shared, compare within the run):")
    print(timings(cases))


if __name__ == "__main__":
    main()
