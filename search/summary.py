"""Extractive summaries: the lead of the story and the sentences that develop it, as an editor picks them.

Candidates are the sentences of body paragraphs (the loader has already set apart captions, bylines,
headings, lists, embeds, datelines and dangling lead-ins); questions, an interviewer's paragraphs and
sentences ending with a colon are left out. Only the first `MAX_CANDIDATES` sentences are weighed, so a
huge article costs no more than a long one. Each sentence gets a score from features weighed together
(`Weights`, tuned on the dev part of tests/fixtures/news and the seeds; the benchmark prints what each
one earns):
- position: the lead, the first sentence that carries the news (a scene-setting opening with none of
  the headline's words and no figures is passed over), scores highest, the sentences after it less and less;
- centrality: LexRank on the article's own sentences (TF-IDF cosine graph, power iteration);
- salience: the article's frequent terms and the headline's terms the sentence covers;
- facts: amounts, figures, dates and names;
- penalties: quotes and first-person opinions (unless the article is an interview or its headline is a
  quote: then the quote is the news), reactions ("X also accused Y of …"), background (history, old
  years, "founded in");
- layouts: live updates keep only the time-stamped entries (stamps removed); a fact-check states its
  verdict, and the claim it checks is only shown next to that verdict.
Sentences are then chosen greedily by score minus their similarity to those already chosen (maximal
marginal relevance; one that restates a chosen sentence is never added) while the summary fits in
`max_chars`, and shown in article order. `headline_summary` is the first of them, for one-line digests.
A `Summarizer` is given the analyzer whose terms it compares: the index's own, never one of its own.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from search.analysis import Analyzer
from search.loader import shorten
from search.models import Article, Passage

MIN_SENTENCE_CHARS = 40
MAX_CANDIDATES = 60  # sentences weighed per article: the graph is quadratic in this, the rest linear
LEAD_WINDOW = 6  # the lead is looked for among the first sentences only
LEXRANK_DAMPING = 0.15
LEXRANK_ITERATIONS = 50
SUMMARY_CHARS = 500
RESTATED_SIMILARITY = 0.5  # a sentence this close (cosine) to a chosen one restates it: never added
HEADLINE_CHARS = 280


@dataclass(frozen=True)
class Weights:
    """How much each feature counts; 0 switches it off (the benchmark's ablation does exactly that).

    Found by `python -m benchmarks.summary_bench --tune` on the dev part and the seeds; `reactions`
    was then raised from 0.6 to 1.0 (no change on dev) so a reaction loses to the fact after it.
    """

    position: float = 2.0
    centrality: float = 0.4
    salience: float = 0.5
    title: float = 0.4
    facts: float = 0.6
    redundancy: float = 1.5
    quotes: float = 0.4
    reactions: float = 1.0
    background: float = 0.4
    scene: float = 1.0  # > 0: a scene-setting opening is passed over when looking for the lead
    layouts: float = 1.5  # > 0: live-update and fact-check layouts handled; the verdict's bonus


WEIGHTS = Weights()

_SPEAKER_RE = re.compile(r"^[A-Z][\w.'’ ]{1,30}\s[–—]\s")
_STAMP_RE = re.compile(
    r"^(?:\d{1,2}[:h.]\d{2}(?:\s?(?:[ap]\.?m\.?|GMT|UTC|CET|ET|BST))?)\s?[–—-]\s+", re.IGNORECASE
)
_AMOUNT_RE = re.compile(
    r"[$€£]\s?\d|\d\s?(?:%|[$€£])|\b\d[\d.,  \u202f]{0,12}(?:million|billion|milliards?|millions?|euros?|dollars?)\b",
    re.IGNORECASE,
)
_NUMBER_RE = re.compile(r"\d")
_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre"
)
_DAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche"
_DATE_RE = re.compile(rf"\b(?:{_MONTHS}|{_DAYS})\b|\b(?:19|20)\d\d\b", re.IGNORECASE)
_DAY_RE = re.compile(rf"\b(?:{_DAYS}|today|yesterday|aujourd'hui|hier)\b", re.IGNORECASE)
_YEAR_RE = re.compile(r"\b(?:19|20)\d\d\b")
_NAME_RE = re.compile(r"(?<=\w )[A-ZÉÈ][\w’'-]++(?: [A-ZÉÈ][\w’'-]++)++")  # possessive: no backtracking
_OPINION_RE = re.compile(r"\b(?:I|I’m|I'm|we|our|je|nous|notre|nos)\b")
_QUOTED_RE = re.compile(r"[“«\"][^”»\"]{0,400}[”»\"]")
_REACTION_RE = re.compile(
    r"\b(?:also )?(?:accus|criticis|criticiz|denounc|condemn|welcom|prais|hail|slamm|deplor|regrett)\w*"
    r"|\b(?:a|ont) (?:également |aussi )?(?:dénoncé|salué|accusé|critiqué|regretté|réagi|estimé|déploré)"
    r"|\bse (?:sont |est )?(?:félicité|réjoui)\w*|\bs'est (?:félicité|réjoui)\w*",
    re.IGNORECASE,
)
_BACKGROUND_RE = re.compile(
    r"\b(?:founded|created|established|set up|spun off|listed) in\b|\bsince (?:19|20)\d\d\b"
    r"|\b(?:fondée?s?|créée?s?|née?s?|lancée?s?) en\b|\bdepuis (?:19|20)\d\d\b|\bhad (?:previously|already)\b"
    r"|\b(?:was|were|had been) \w+ in (?:\w+ )?(?:19|20)\d\d\b|\b(?:a|avait) été \w+ en (?:\w+ )?(?:19|20)\d\d\b",
    re.IGNORECASE,
)
_FACTCHECK_TITLE_RE = re.compile(
    r"fact[- ]?check|\bfalse\b|\bfake\b|deepfake|misleading|^no,|\bmyth\b|vrai ou faux|\bintox|\bfaux\b"
    r"|\bfausse\b|trompeu|^non,|-t-(?:il|elle)\b",
    re.IGNORECASE,
)
_VERDICT_RE = re.compile(
    r"\b(?:is|are|was|were) (?:false|fake|misleading|wrong|untrue|not true|a fabrication|a deepfake)\b"
    r"|\bverdict\b|\bno evidence\b|\bdoes not exist\b|\bin (?:reality|fact)\b|\bactually shows\b"
    r"|\bc'est faux\b|\best (?:faux|fausse|trompeu\w*|infondée?)\b|\bn'existe pas\b|\ben réalité\b"
    r"|\ben résumé\b|\bn'a pas été (?:tourné|filmé|publié|pris)e?s?\b|\baucune? .{0,40}n'(?:est|a) (?:prévue?|été)",
    re.IGNORECASE,
)
_LEANS_BACK_RE = re.compile(
    r"^(?:it|its|this|that|these|those|they|he|she|we|i|our|the claim|il|elle|ils|elles|ce|cet|cette|ces"
    r"|c'|c’|nous|je|notre|nos|son|sa|ses|leur|leurs)\b",
    re.IGNORECASE,
)
_CONCLUSION_RE = re.compile(
    r"^(?:verdict|en résumé|in short|bottom line|notre verdict|conclusion)\b", re.IGNORECASE
)
_QUOTE_TITLE_RE = re.compile(r"^[“«\"]|[”»\"]\s*[:,]|\bsays\b|\bselon\b|^\S+ \S+ ?: [«“\"]")


@dataclass(frozen=True)
class Sentence:
    order: int
    text: str
    terms: tuple[str, ...]


class Summarizer:
    """Summaries whose sentences are compared by their terms: `analyzer` is the one the index uses
    (bot/app.py hands it `index.analyzer`), so both see the same words."""

    def __init__(self, analyzer: Analyzer) -> None:
        self.analyzer = analyzer

    def summarize(
        self,
        article: Article,
        max_sentences: int = 3,
        max_chars: int = SUMMARY_CHARS,
        weights: Weights = WEIGHTS,
    ) -> str:
        """Up to `max_sentences` of the article's sentences, in its order and language, within `max_chars`."""
        sentences = self.candidate_sentences(article, weights)
        if not sentences:
            return shorten(fallback_text(article), max_chars)
        chosen = select(article, sentences, self._title_terms(article), weights, max_sentences, max_chars)
        if not chosen:
            return shorten(sentences[0].text, max_chars)
        return " ".join(sentence.text for sentence in sorted(chosen, key=lambda s: s.order))

    def headline_summary(
        self, article: Article, max_chars: int = HEADLINE_CHARS, weights: Weights = WEIGHTS
    ) -> str:
        """The one-sentence form of the summary, for digests and App Home: one of the summary's sentences,
        shortened at a word to `max_chars` if need be.

        It is the summary's first choice, unless that one leans on what comes before it ("It was…", "Elle
        montre…", "We will…") and another sentence of the summary stands on its own. In a fact-check, never
        the claim: the closing verdict ("Verdict: False. …", "En résumé, …") when the summary has it.
        """
        sentences = self.candidate_sentences(article, weights)
        if not sentences:
            return shorten(fallback_text(article), max_chars)
        title_terms = self._title_terms(article)
        pool = select(article, sentences, title_terms, weights, 3, SUMMARY_CHARS) or sentences[:1]
        claims, verdicts = _factcheck_roles(article, sentences) if weights.layouts else (set(), set())
        if verdicts:
            pool = (
                [s for s in pool if s.order in verdicts] or [s for s in pool if s.order not in claims] or pool
            )
            pool = [s for s in pool if _CONCLUSION_RE.match(s.text)] or pool
        standalone = [s for s in pool if not _LEANS_BACK_RE.match(s.text)]
        return shorten((standalone or sorted(pool, key=lambda s: s.order))[0].text, max_chars)

    def candidate_sentences(self, article: Article, weights: Weights = WEIGHTS) -> list[Sentence]:
        """The sentences a summary may use, in article order (the first `MAX_CANDIDATES` of them)."""
        body = [p for p in article.passages if p.kind == "body"]
        if weights.layouts and _is_live(body):
            body = [p for p in body if _STAMP_RE.match(p.text)]
        interview = _is_interview(body)
        texts: list[str] = []
        for passage in body:
            if interview and _asks(passage):
                continue
            texts.extend(t for t in _sentences(passage) if _usable(t))
            if len(texts) >= MAX_CANDIDATES:
                break
        return [
            Sentence(order, text, tuple(self.analyzer.terms(text, article.language)))
            for order, text in enumerate(texts[:MAX_CANDIDATES])
        ]

    def _title_terms(self, article: Article) -> list[str]:
        return self.analyzer.terms(article.title, article.language)


def _usable(text: str) -> bool:
    return len(text) >= MIN_SENTENCE_CHARS and not _is_question(text) and not text.rstrip().endswith(":")


def _sentences(passage: Passage) -> list[str]:
    """The passage's sentences, labels and stamps removed; a short verdict ("C'est faux.") joins the next."""
    texts = [" ".join(passage.text[start:end].split()) for start, end in passage.sentences]
    if texts:
        texts[0] = _STAMP_RE.sub("", _SPEAKER_RE.sub("", texts[0], count=1), count=1)
    joined: list[str] = []
    carry = ""
    for text in texts:
        text = f"{carry} {text}".strip()
        carry = ""
        if len(text) < MIN_SENTENCE_CHARS and _VERDICT_RE.search(text):
            carry = text
            continue
        joined.append(text)
    return joined + ([carry] if carry else [])


def _is_live(body: list[Passage]) -> bool:
    return sum(bool(_STAMP_RE.match(p.text)) for p in body) >= 3


def _is_interview(body: list[Passage]) -> bool:
    return any(_SPEAKER_RE.match(p.text) for p in body) and any(
        _is_question(p.text[s:e]) for p in body for s, e in p.sentences
    )


def _asks(passage: Passage) -> bool:
    """An interviewer's paragraph: it asks a question (its last sentence, or a short opening one)."""
    sentences = [passage.text[s:e].strip() for s, e in passage.sentences]
    return any(
        _is_question(text) for text in sentences[-1:] + sentences[:1]
    ) or passage.text.rstrip().endswith("…")


def _is_question(text: str) -> bool:
    return text.rstrip(" »”\"'").endswith("?")


def select(
    article: Article,
    sentences: list[Sentence],
    title_terms: list[str],
    weights: Weights,
    max_sentences: int,
    max_chars: int,
) -> list[Sentence]:
    """Greedy maximal marginal relevance: best score minus similarity to the chosen, while it fits."""
    scores = score(article, sentences, title_terms, weights)
    similarity = _similarity(sentences)
    claims, verdicts = _factcheck_roles(article, sentences) if weights.layouts else (set(), set())
    chosen: list[int] = []
    length = -1
    remaining = [i for i, s in enumerate(sentences) if len(s.text) <= max_chars]
    while remaining and len(chosen) < max_sentences:

        def gain(i: int) -> float:
            redundancy = max((similarity[i, j] for j in chosen), default=0.0)
            claim = weights.layouts if i in claims and verdicts.isdisjoint(chosen) else 0.0
            return scores[i] - weights.redundancy * redundancy - claim

        best = max(remaining, key=gain)
        remaining.remove(best)
        if length + 1 + len(sentences[best].text) > max_chars:
            continue
        if weights.redundancy and any(similarity[best, j] > RESTATED_SIMILARITY for j in chosen):
            continue
        chosen.append(best)
        length += 1 + len(sentences[best].text)
        if len(chosen) == 1 and max_sentences > 1:
            # Leave room for a second and a third sentence rather than one long one.
            remaining = [i for i in remaining if length + 1 + len(sentences[i].text) <= max_chars]
    return [sentences[i] for i in chosen]


def score(
    article: Article, sentences: list[Sentence], title_terms: list[str], weights: Weights
) -> np.ndarray:
    """Each sentence's worth on its own: the weighted features above."""
    texts = [s.text for s in sentences]
    title = set(title_terms)
    lead = lead_index(sentences, title, weights)
    n = len(sentences)
    position = np.array([0.0 if i < lead else 1 / (1 + 0.5 * (i - lead)) for i in range(n)])
    features = {
        "position": position,
        "centrality": _normalised(lexrank(sentences)),
        "salience": _normalised(_salience(sentences, title_terms)),
        "title": np.array([_overlap(s.terms, title) for s in sentences]),
        "facts": np.array([_facts(t) for t in texts]),
    }
    total = sum(getattr(weights, name) * values for name, values in features.items())
    quotes_are_news = _is_interview([p for p in article.passages if p.kind == "body"]) or bool(
        _QUOTE_TITLE_RE.search(article.title)
    )
    year = _article_year(article)
    for i, text in enumerate(texts):
        if i == lead:
            continue
        if not quotes_are_news and _is_quote(text):
            total[i] -= weights.quotes
        if _REACTION_RE.search(text):
            total[i] -= weights.reactions
        if _is_background(text, year):
            total[i] -= weights.background
    return total + _verdict_bonus(article, texts, weights)


def lead_index(sentences: list[Sentence], title_terms: set[str], weights: Weights) -> int:
    """The first sentence that carries news; a scene-setting opening before it is passed over."""
    if not weights.scene:
        return 0
    window = sentences[:LEAD_WINDOW]
    news = [_newsiness(s, title_terms) for s in window]
    best = max(news, default=0.0)
    return next((i for i, value in enumerate(news) if value >= 0.5 * best and value > 0), 0)


def _newsiness(sentence: Sentence, title_terms: set[str]) -> float:
    text = sentence.text
    figures = bool(_AMOUNT_RE.search(text)) + bool(_NUMBER_RE.search(text)) + bool(_DAY_RE.search(text))
    return _overlap(sentence.terms, title_terms) + 0.2 * figures


def lexrank(sentences: list[Sentence]) -> np.ndarray:
    """Continuous LexRank: the stationary distribution of a random walk on the cosine-similarity graph."""
    n = len(sentences)
    if n == 1:
        return np.ones(1)
    similarity = _similarity(sentences)
    np.fill_diagonal(similarity, 0.0)
    rows = similarity.sum(axis=1, keepdims=True)
    transition = np.divide(similarity, rows, out=np.full_like(similarity, 1 / n), where=rows > 0)
    ranks = np.full(n, 1 / n)
    for _ in range(LEXRANK_ITERATIONS):
        updated = LEXRANK_DAMPING / n + (1 - LEXRANK_DAMPING) * transition.T @ ranks
        if np.abs(updated - ranks).sum() < 1e-6:
            return updated
        ranks = updated
    return ranks


def _similarity(sentences: list[Sentence]) -> np.ndarray:
    """Cosine similarity of the sentences' TF-IDF vectors (IDF over the article's own sentences)."""
    vocabulary: dict[str, int] = {}
    for sentence in sentences:
        for term in sentence.terms:
            vocabulary.setdefault(term, len(vocabulary))
    matrix = np.zeros((len(sentences), max(len(vocabulary), 1)))
    for row, sentence in enumerate(sentences):
        for term, count in Counter(sentence.terms).items():
            matrix[row, vocabulary[term]] = count
    idf = np.log((1 + len(sentences)) / (1 + (matrix > 0).sum(axis=0))) + 1
    matrix *= idf
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    matrix = np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)
    return matrix @ matrix.T


def _salience(sentences: list[Sentence], title_terms: list[str]) -> np.ndarray:
    """Salient terms covered: each term weighs by how often the article uses it, the title's twice."""
    counts: Counter[str] = Counter()
    for sentence in sentences:
        counts.update(sentence.terms)
    counts.update(2 * title_terms)
    weights = {term: math.log1p(count) for term, count in counts.items() if count > 1}
    return np.array(
        [
            sum(weights.get(t, 0.0) for t in set(s.terms)) / math.sqrt(len(set(s.terms))) if s.terms else 0.0
            for s in sentences
        ]
    )


def _facts(text: str) -> float:
    value = 0.5 if _AMOUNT_RE.search(text) else 0.25 if _NUMBER_RE.search(text) else 0.0
    value += 0.2 if _DATE_RE.search(text) else 0.0
    return value + 0.15 * min(len(_NAME_RE.findall(text)), 2)


def _is_quote(text: str) -> bool:
    quoted = sum(len(m) for m in _QUOTED_RE.findall(text))
    return quoted > 0.4 * len(text) or bool(_OPINION_RE.search(text))


def _is_background(text: str, year: int | None) -> bool:
    if _BACKGROUND_RE.search(text):
        return True
    years = [int(y) for y in _YEAR_RE.findall(text)]
    return bool(year and years and max(years) < year - 1)


def _article_year(article: Article) -> int | None:
    if article.date:
        return article.date.year
    years = [int(y) for y in _YEAR_RE.findall(article.text[:2000])]
    return max(years) if years else None


def _is_factcheck(article: Article, texts: list[str]) -> bool:
    return bool(_FACTCHECK_TITLE_RE.search(article.title)) or any(_VERDICT_RE.search(t) for t in texts[:3])


def _verdict_bonus(article: Article, texts: list[str], weights: Weights) -> np.ndarray:
    """In a fact-check, its verdict is the news."""
    bonus = np.zeros(len(texts))
    if weights.layouts and _is_factcheck(article, texts):
        for i, text in enumerate(texts):
            if _VERDICT_RE.search(text):
                bonus[i] = weights.layouts * (1.0 if i < 4 else 0.5)
    return bonus


def _factcheck_roles(article: Article, sentences: list[Sentence]) -> tuple[set[int], set[int]]:
    """In a fact-check: the claim (the sentences before the first verdict), never shown without a verdict."""
    texts = [s.text for s in sentences]
    if not _is_factcheck(article, texts):
        return set(), set()
    verdicts = {i for i, t in enumerate(texts) if _VERDICT_RE.search(t)}
    return set(range(min(verdicts, default=0))), verdicts


def _overlap(terms: tuple[str, ...], reference: set[str]) -> float:
    return len(set(terms) & reference) / len(reference) if reference else 0.0


def _normalised(values: np.ndarray) -> np.ndarray:
    top = values.max() if len(values) else 0.0
    return values / top if top > 0 else values


def fallback_text(article: Article) -> str:
    """For an article with no usable sentence: whatever text it has, body first."""
    for kinds in (("body",), ("body", "list", "heading", "caption", "embed")):
        text = " ".join(p.text for p in article.passages if p.kind in kinds)
        if text.strip():
            return text
    return article.text or article.title
