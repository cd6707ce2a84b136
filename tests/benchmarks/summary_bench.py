"""ROUGE-1/2 of `search.summary.summarize` and of the lead-3 baseline against hand-written references.

Run: `.venv/bin/python -m tests.benchmarks.summary_bench` (prints a table).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from search import Article, load_article
from search.analysis import fold_accents
from search.summary import summarize

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
REFERENCES = ROOT / "tests" / "search" / "reference_summaries.json"


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


def _ngrams(words: list[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def lead_3(article: Article) -> str:
    """The baseline: the first three sentences of the article's body paragraphs."""
    sentences = [
        passage.text[start:end].strip()
        for passage in article.passages
        if passage.kind == "body"
        for start, end in passage.sentences
    ]
    return " ".join(sentences[:3])


def references() -> dict[str, str]:
    return {
        name: text for name, text in json.loads(REFERENCES.read_text("utf-8")).items() if name != "_about"
    }


def evaluate() -> dict[str, dict[str, dict[str, float]]]:
    """{system: {seed file: {"rouge1", "rouge2"}}} for "summarize" and "lead-3"."""
    scores: dict[str, dict[str, dict[str, float]]] = {"summarize": {}, "lead-3": {}}
    for name, reference in references().items():
        article = load_article(SEEDS / name)
        assert article is not None, name
        for system, summary in (("summarize", summarize(article)), ("lead-3", lead_3(article))):
            scores[system][name] = {
                "rouge1": rouge_n(summary, reference, 1),
                "rouge2": rouge_n(summary, reference, 2),
            }
    return scores


def averages(scores: dict[str, dict[str, float]]) -> dict[str, float]:
    return {
        metric: sum(per_file[metric] for per_file in scores.values()) / len(scores)
        for metric in ("rouge1", "rouge2")
    }


def table(scores: dict[str, dict[str, dict[str, float]]]) -> str:
    lines = [f"{'article':<28} {'system':<10} {'ROUGE-1':>8} {'ROUGE-2':>8}"]
    for name in scores["summarize"]:
        for system in scores:
            row = scores[system][name]
            lines.append(f"{name:<28} {system:<10} {row['rouge1']:>8.3f} {row['rouge2']:>8.3f}")
    for system in scores:
        mean = averages(scores[system])
        lines.append(f"{'average':<28} {system:<10} {mean['rouge1']:>8.3f} {mean['rouge2']:>8.3f}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(evaluate()))
