"""Extractive summaries: two or three of an article's own sentences that carry its main facts.

How sentences are chosen:
- candidates are the sentences of body paragraphs only: photo captions, bylines, headings, bullet lists,
  social-media embeds and repeated paragraphs are already set apart by the loader; questions are left
  out, and in an interview transcript ("Name – answer") the interviewer's question paragraphs too;
- each term of the article weighs by how often the article uses it (the title counts twice), so a
  sentence scores by the salient terms it covers; terms already covered by a chosen sentence count
  for less (the redundancy penalty); names, amounts and dates earn a bonus, quotes and first-person
  opinions a penalty, and the opening sentences a small lead prior;
- the best sentences that fit in `max_chars` are picked greedily, then shown in article order.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from search.analysis import Analyzer
from search.loader import shorten
from search.models import Article, Passage

MIN_SENTENCE_CHARS = 40
COVERED_TERM_WEIGHT = 0.5  # a term already in the summary is worth half its weight
NAME_BONUS = 0.15
AMOUNT_BONUS = 0.35
DATE_BONUS = 0.2
LEAD_BONUS = 0.5  # news puts its main facts first: a prior, not a rule
OPINION_PENALTY = 0.3  # a quote or a first-person view tells less than a reported fact

_SPEAKER_RE = re.compile(r"^[A-Z][\w.'’ ]{1,30}\s[–—]\s")
# A number followed by a unit is looked for from the start of its run of digits and separators only
# (the look-behind), and without backtracking: linear, where `\b\d[\d.,]*` retried from every digit
# of `1.1.1.1...` took time quadratic in its length.
_AMOUNT_RE = re.compile(
    r"[$€£]\s?\d|\d\s?(?:%|[$€£])"
    r"|(?<![\d.,])(?:[.,]++|\b)\d[\d.,]*+\s*+(?:million|billion|milliards?|millions?|euros?|dollars?)\b",
    re.IGNORECASE,
)
_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre|"
    "monday|tuesday|wednesday|thursday|friday|saturday|sunday|lundi|mardi|mercredi|jeudi|vendredi"
)
_DATE_RE = re.compile(rf"\b(?:{_MONTHS})\b|\b(?:19|20)\d\d\b", re.IGNORECASE)
_OPINION_RE = re.compile(r"^[“«\"]|\b(?:I|I’m|I'm|we|our|je|nous|notre)\b", re.IGNORECASE)
_NAME_RE = re.compile(r"(?<=\w )[A-ZÉÈ][\w’'-]++(?: [A-ZÉÈ][\w’'-]++)++")

_analyzer = Analyzer()


@dataclass(frozen=True)
class Sentence:
    order: int
    text: str
    terms: frozenset[str]
    bonus: float


def summarize(article: Article, max_sentences: int = 3, max_chars: int = 500) -> str:
    """Up to `max_sentences` of the article's sentences, in its order and language, within `max_chars`."""
    candidates = candidate_sentences(article)
    if not candidates:
        return shorten(fallback_text(article), max_chars)
    weights = term_weights(article, candidates)
    chosen = select(candidates, weights, max_sentences, max_chars)
    if not chosen:
        return shorten(candidates[0].text, max_chars)
    return " ".join(sentence.text for sentence in sorted(chosen, key=lambda s: s.order))


def candidate_sentences(article: Article) -> list[Sentence]:
    """The sentences a summary may use, in article order."""
    body = [p for p in article.passages if p.kind == "body"]
    interview = sum(bool(_SPEAKER_RE.match(p.text)) for p in body) >= 1 and any(
        _is_question(p.text[s:e]) for p in body for s, e in p.sentences
    )
    texts = [
        text
        for passage in body
        if not (interview and _asks(passage))
        for text in _sentences(passage)
        if len(text) >= MIN_SENTENCE_CHARS and not _is_question(text)
    ]
    count = max(len(texts), 1)
    return [
        Sentence(
            order=order,
            text=text,
            terms=frozenset(_analyzer.terms(text, article.language)),
            bonus=_fact_bonus(text) + LEAD_BONUS * max(0.0, 1 - order / min(count, 6)),
        )
        for order, text in enumerate(texts)
    ]


def _sentences(passage: Passage) -> list[str]:
    texts = [" ".join(passage.text[start:end].split()) for start, end in passage.sentences]
    if texts:
        texts[0] = _SPEAKER_RE.sub("", texts[0], count=1)
    return texts


def _asks(passage: Passage) -> bool:
    """An interviewer's paragraph: it asks a question (its last sentence, or a short opening one)."""
    sentences = [passage.text[s:e].strip() for s, e in passage.sentences]
    return any(
        _is_question(text) for text in sentences[-1:] + sentences[:1]
    ) or passage.text.rstrip().endswith("…")


def _is_question(text: str) -> bool:
    return text.rstrip(" »”\"'").endswith("?")


def _fact_bonus(text: str) -> float:
    bonus = AMOUNT_BONUS if _AMOUNT_RE.search(text) else 0.0
    bonus += DATE_BONUS if _DATE_RE.search(text) else 0.0
    bonus -= OPINION_PENALTY if _OPINION_RE.search(text) else 0.0
    return bonus + NAME_BONUS * min(len(_NAME_RE.findall(text)), 2)


def term_weights(article: Article, candidates: list[Sentence]) -> dict[str, float]:
    """How salient each term is: its frequency in the article's body, plus the title's terms twice."""
    counts: Counter[str] = Counter()
    for passage in article.passages:
        if passage.kind in ("body", "list"):
            counts.update(_analyzer.terms(passage.text, article.language))
    counts.update(2 * _analyzer.terms(article.title, article.language))
    return {term: math.log1p(count) for term, count in counts.items() if count > 1}


def select(
    candidates: list[Sentence], weights: dict[str, float], max_sentences: int, max_chars: int
) -> list[Sentence]:
    """Greedy choice of the sentence adding most uncovered salient terms, while the summary fits."""
    chosen: list[Sentence] = []
    covered: set[str] = set()
    length = -1
    remaining = [s for s in candidates if len(s.text) <= max_chars]
    while remaining and len(chosen) < max_sentences:
        best = max(remaining, key=lambda s: _gain(s, weights, covered))
        remaining.remove(best)
        if length + 1 + len(best.text) > max_chars:
            continue
        chosen.append(best)
        covered |= best.terms
        length += 1 + len(best.text)
        if len(chosen) == 1:
            # Leave room for a second and a third sentence rather than one long one.
            remaining = [s for s in remaining if length + 1 + len(s.text) <= max_chars]
    return chosen


def _gain(sentence: Sentence, weights: dict[str, float], covered: set[str]) -> float:
    if not sentence.terms:
        return 0.0
    total = sum(weights.get(t, 0.0) * (COVERED_TERM_WEIGHT if t in covered else 1.0) for t in sentence.terms)
    return total / math.sqrt(len(sentence.terms)) * (1 + sentence.bonus)


def fallback_text(article: Article) -> str:
    """For an article with no usable sentence: whatever text it has, body first."""
    for kinds in (("body",), ("body", "list", "heading", "caption", "embed")):
        text = " ".join(p.text for p in article.passages if p.kind in kinds)
        if text.strip():
            return text
    return article.text or article.title
