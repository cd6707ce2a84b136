"""A learned weighing of how much an article is about the subject, for the articles that name it.

The subject judge's rules read an article (where the subject is named, in how many paragraphs, beside which
other companies) and find its mentions. Whether those mentions make the article about the subject or are
passing ("a former Mistral AI researcher raises...", "backed by the fund that backs Mistral AI") shows in
the words around them as much as in their number. A logistic regression weighs both: the reading's figures
and the words just before and after each mention (in the headline apart). It is trained on the judged
subject set's articles (`python -m tests.search.subject_model`) and shipped beside the subject's data
file; a subject without one is judged by the rules alone.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CONTEXT = 3  # words on either side of a mention that tell its role
TELLING_CHARS = 4  # a shorter word ("a", "de", "the") weighs but tells a reader nothing
MIN_ARTICLES = 5  # a word seen in fewer training articles is not weighed


@dataclass(frozen=True)
class Reading:
    """What the rules read of an article that names the subject."""

    in_headline: bool
    opens: bool  # the subject's name opens the headline or a clause of it
    lead: bool  # named in the first paragraphs
    paragraphs: int
    named: int  # paragraphs naming the subject, or standing for it ("the company")
    mentioned: int  # paragraphs naming it
    mentions: int
    first: float  # where the first naming paragraph stands, 0 (the first) to 1 (the last)
    rivals: int  # names of the field's other companies in the body
    headline_rivals: int
    other_senses: int  # the names read in another sense (a bar called Mistral), the common noun aside
    ruled: bool  # the rules' decision
    contexts: frozenset[str]  # "<word" before a mention, ">word" after; "h<", "h>" in the headline
    words: frozenset[str]  # the article's words (what else it is about)


def is_context(name: str) -> bool:
    return name.startswith(("<", ">", "h<", "h>"))


def is_word(name: str) -> bool:
    """A feature of the article's words (context or body), kept when enough articles have it."""
    return is_context(name) or name.startswith("w:")


def features(reading: Reading) -> dict[str, float]:
    paragraphs = max(1, reading.paragraphs)
    found = {
        "ruled": float(reading.ruled),
        "in headline": float(reading.in_headline),
        "opens": float(reading.opens),
        "lead": float(reading.lead),
        "short": float(reading.paragraphs <= 2),
        "share": reading.named / paragraphs,
        "mentioned share": reading.mentioned / paragraphs,
        "mentions": math.log1p(reading.mentions),
        "mentions a paragraph": min(3.0, reading.mentions / paragraphs),
        "first": reading.first,
        "rivals": math.log1p(reading.rivals) - math.log1p(reading.mentions),
        "headline rivals": float(reading.headline_rivals > 0),
        "other senses": math.log1p(reading.other_senses) - math.log1p(reading.mentions),
    }
    found.update((context, 1.0) for context in reading.contexts)
    found.update((f"w:{word}", 1.0) for word in reading.words)
    return found


@dataclass(frozen=True)
class Weighing:
    bias: float
    weights: dict[str, float]
    threshold: float

    def probability(self, found: dict[str, float]) -> float:
        z = self.bias + sum(self.weights.get(name, 0.0) * value for name, value in found.items())
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def about(self, reading: Reading) -> tuple[bool, float, list[str]]:
        """The decision, its probability, and the context words that weighed most towards it."""
        found = features(reading)
        probability = self.probability(found)
        about = probability >= self.threshold
        sign = 1.0 if about else -1.0
        words = [
            (sign * weight, name)
            for name in found
            if is_context(name)
            and len(name.lstrip("h<>")) >= TELLING_CHARS
            and sign * (weight := self.weights.get(name, 0.0)) > 0.3
        ]
        return about, probability, [name for _, name in sorted(words, reverse=True)[:3]]

    def save(self, path: Path) -> None:
        kept = {name: round(w, 4) for name, w in sorted(self.weights.items()) if abs(w) >= 1e-3}
        data = {"bias": round(self.bias, 4), "threshold": self.threshold, "weights": kept}
        path.write_text(json.dumps(data, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")


def load_weighing(path: Path) -> Weighing:
    data = json.loads(path.read_text(encoding="utf-8"))
    return Weighing(data["bias"], data["weights"], data["threshold"])


def fit(
    examples: list[tuple[Reading, bool]], l2: float = 2.0, threshold: float = 0.5, steps: int = 3000
) -> Weighing:
    """A logistic regression with an L2 penalty, by gradient descent (the problem is convex and small:
    a thousand articles, a few thousand features). Words seen in fewer than `MIN_ARTICLES` articles are
    left out."""
    rows = [features(reading) for reading, _ in examples]
    seen: dict[str, int] = {}
    for row in rows:
        for name in row:
            seen[name] = seen.get(name, 0) + 1
    names = sorted(n for n, count in seen.items() if not is_word(n) or count >= MIN_ARTICLES)
    column = {name: i for i, name in enumerate(names)}
    x = np.zeros((len(rows), len(names)))
    for i, row in enumerate(rows):
        for name, value in row.items():
            if name in column:
                x[i, column[name]] = value
    y = np.array([float(about) for _, about in examples])
    w, b = np.zeros(len(names)), 0.0
    rate = 0.5
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w + b, -30, 30)))
        error = p - y
        w -= rate * (x.T @ error / len(y) + l2 * w / len(y))
        b -= rate * float(error.mean())
    return Weighing(b, dict(zip(names, map(float, w), strict=True)), threshold)
