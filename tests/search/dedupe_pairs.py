"""Labelled pairs for the near-duplicate threshold: true copies and different articles on one topic.

Copies are made the way outlets republish a wire story: another headline, a sentence or a paragraph
cut or added, the end trimmed, the outlet's own boilerplate around it. Different articles are every
pair of distinct articles in the fixtures and the seeds, all about Mistral AI, several about the same
event (the ASML round in English and French, a wire story and an analysis of it).

`python -m tests.search.dedupe_pairs` prints precision and recall at several thresholds.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from search.dedupe import estimated, signature

ROOT = Path(__file__).resolve().parent.parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "web" / "articles"

BOILERPLATE = [
    "Sign up for our daily newsletter to get the top technology stories in your inbox.",
    "Reporting by Anne Dupont; editing by Mark Hill. Our Standards: the Trust Principles.",
    "This article was originally published by a news agency and is republished with permission.",
]


def originals() -> list[tuple[str, str]]:
    """(name, text) of every fixture article body and every seed."""
    found = [
        (p.stem, p.read_text(encoding="utf-8").partition("\n\n")[2]) for p in sorted(FIXTURES.glob("*.txt"))
    ]
    found += [(p.stem, p.read_text(encoding="utf-8")) for p in sorted((ROOT / "seeds").glob("*.txt"))]
    return [(name, text) for name, text in found if name != "funding-syndicated"]


def paragraphs(text: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]


def copies(text: str) -> list[str]:
    """Republished versions of `text`, each a true copy of the story."""
    paras = paragraphs(text)
    middle = len(paras) // 2 if len(paras) >= 3 else len(paras)  # cut a paragraph only from a long text
    return [
        "Another headline for the same story\n\n" + text + "\n\n" + BOILERPLATE[0],
        "\n\n".join(paras[:middle] + paras[middle + 1 :]) + "\n\n" + BOILERPLATE[1],
        "\n\n".join([*paras, "Shares of the companies involved were little changed after the news."]),
        BOILERPLATE[2] + "\n\n" + "\n\n".join(paras[: max(2, len(paras) * 3 // 4)]),
        "\n\n".join(p.replace(" said ", " told reporters ").replace(" a dit ", " a déclaré ") for p in paras),
    ]


def labelled() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The originals (name, text), and the true copies (name of the original, copy)."""
    articles = originals()
    found = [(name, copy) for name, text in articles for copy in copies(text)]
    syndicated = (FIXTURES / "funding-syndicated.txt").read_text(encoding="utf-8").partition("\n\n")[2]
    found.append(("funding-wire", syndicated))
    return articles, found


def copy_of(threshold: float, text: str, signatures: dict[str, np.ndarray]) -> list[str]:
    """The originals `text` is a near-copy of under MinHash at `threshold`."""
    wanted = signature(text)
    if wanted is None:
        return []
    return [name for name, other in signatures.items() if estimated(wanted, other) >= threshold]


def precision_recall(threshold: float) -> tuple[float, float, int, int]:
    """Precision and recall over all copies and all pairs of different originals; and the pair counts."""
    articles, found = labelled()
    signatures = {name: value for name, text in articles if (value := signature(text)) is not None}
    true_positive = sum(name in copy_of(threshold, copy, signatures) for name, copy in found)
    false_positive = (
        sum(1 for name, text in articles for other in copy_of(threshold, text, signatures) if other != name)
        // 2
    )  # each pair of different articles is seen from both sides
    false_negative = len(found) - true_positive
    precision = true_positive / (true_positive + false_positive) if true_positive + false_positive else 1.0
    recall = true_positive / (true_positive + false_negative) if found else 1.0
    different_pairs = len(articles) * (len(articles) - 1) // 2
    return precision, recall, len(found), different_pairs


def main() -> None:
    for threshold in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        precision, recall, copies_count, different = precision_recall(threshold)
        print(
            f"threshold {threshold:.1f}: precision {precision:.3f}  recall {recall:.3f}"
            f"  ({copies_count} true copies, {different} pairs of different articles)"
        )


if __name__ == "__main__":
    main()
