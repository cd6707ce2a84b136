"""Do two articles tell the same story? Weighing what they share against what differs, in either language.

An article is read once into its story features:
- its anchors: the names it gives (people, companies, places: capitalised words not opening a sentence) and its
  amounts (a number with its scale and currency, as the analyser reads them in either language: `€1.7bn` and
  `1,7 milliard d'euros` are both `euro 1.7 billion`); they carry over between languages as written;
- its concepts: its words mapped to the lexicon's lines (one line is one meaning in English and French), and the
  words the lexicon does not know, as terms;
- its date.
Paragraphs that stand in several articles of different stories (an outlet's boilerplate, a press-release
template's "About" paragraph, a newsletter footer) are left out before reading: they tell nothing of the story.

Two articles are one story when they are published within `MAX_DAYS` of each other (weeks apart, they are two
events) and share enough of their anchors (weighted by rarity: a partner's name counts, the subject's own does
not) or of their concepts.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from search.analysis import Analyzer, fold_accents
from search.lexicon import Lexicon, default_lexicon
from search.models import Article

MAX_DAYS = 6
_NAME_RE = re.compile(r"(?<![\w.])([A-ZÀ-Ý][\w'’-]+(?:\s+(?:[A-ZÀ-Ý][\w'’-]+|de|du|des|of|la|le))*)")
_AMOUNT_TERMS = frozenset({"euro", "dollar", "pound", "million", "billion", "thousand", "percent"})
_CALENDAR = frozenset(
    fold_accents(w)
    for w in (
        "january february march april may june july august september october november december monday tuesday "
        "wednesday thursday friday saturday sunday janvier février mars avril mai juin juillet août septembre "
        "octobre novembre décembre lundi mardi mercredi jeudi vendredi samedi dimanche"
    ).split()
)


@dataclass(frozen=True)
class StoryFeatures:
    article_id: str
    date_ordinal: int | None
    anchors: frozenset[str]
    concepts: Counter = field(compare=False)


class StoryReader:
    """Reads articles into story features; `common` anchors (the subject's names) weigh nothing."""

    def __init__(
        self, analyzer: Analyzer | None = None, lexicon: Lexicon | None = None, common: Iterable[str] = ()
    ) -> None:
        self.analyzer = analyzer or Analyzer()
        self.lexicon = lexicon or default_lexicon(self.analyzer)
        self.common = frozenset(fold_accents(c.lower()) for c in common)
        self._concept_of: dict[tuple[str, str], int] = {}
        for (language, terms), numbers in self.lexicon._by_terms.items():
            if len(terms) == 1:
                self._concept_of[(language, terms[0])] = numbers[0]

    def read(self, article: Article, boilerplate: frozenset[str] = frozenset()) -> StoryFeatures:
        texts = [article.title] + [
            p.text for p in article.passages if p.kind != "caption" and _key(p.text) not in boilerplate
        ]
        anchors: set[str] = set()
        concepts: Counter = Counter()
        for text in texts:
            found = self._anchors(text, article.language)
            anchors |= found
            for term in self.analyzer.terms(text, article.language):
                concept = self._concept_of.get((article.language, term))
                concepts[f"#{concept}" if concept is not None else term] += 1
        ordinal = article.date.toordinal() if article.date else None
        return StoryFeatures(article.id, ordinal, frozenset(anchors), concepts)

    def _anchors(self, text: str, language: str) -> set[str]:
        names = set()
        for match in _NAME_RE.finditer(text):
            start = match.start()
            opening = start == 0 or text[:start].rstrip()[-1:] in '.!?:«"“—-'
            name = fold_accents(match.group(1).lower())
            words = name.split()
            if opening and len(words) == 1:
                continue
            if words[0] in _CALENDAR or name in self.common:
                continue
            names.add(name)
        terms = self.analyzer.terms(text, language)
        for i, term in enumerate(terms):
            if not term[:1].isdigit():
                continue
            units = sorted({t for t in terms[max(0, i - 1) : i] + terms[i + 1 : i + 3] if t in _AMOUNT_TERMS})
            if units:  # `€1.7bn` (euro 1.7 billion) and `1,7 milliard d'euros` (1.7 billion euro) alike
                names.add(" ".join([term, *units]))
        return names


def _key(text: str) -> str:
    return " ".join(fold_accents(text.lower()).split())


def boilerplate_of(articles: Iterable[Article], at_least: int = 3) -> frozenset[str]:
    """Paragraphs that stand word for word in `at_least` articles published more than `MAX_DAYS` apart:
    templates, footers, "About" sections (a wire story's copies, days apart, keep theirs)."""
    dates: dict[str, list[int]] = {}
    for article in articles:
        day = article.date.toordinal() if article.date else 0
        for key in {_key(p.text) for p in article.passages}:
            if len(key) > 40:
                dates.setdefault(key, []).append(day)
    return frozenset(
        key for key, days in dates.items() if len(days) >= at_least and max(days) - min(days) > MAX_DAYS
    )


@dataclass(frozen=True)
class Decision:
    same: bool
    reason: str
    score: float


class StoryRule:
    """`same(a, b)`: one story or two, with the reason. `weights` give each anchor its rarity."""

    def __init__(
        self,
        rarity: dict[str, float] | None = None,
        *,
        anchor_share: float = 0.3,
        concept_share: float = 0.45,
    ) -> None:
        self.rarity = rarity or {}
        self.anchor_share = anchor_share
        self.concept_share = concept_share

    def weight(self, anchor: str) -> float:
        return self.rarity.get(anchor, 1.0)

    def same(self, a: StoryFeatures, b: StoryFeatures) -> Decision:
        if (
            a.date_ordinal is not None
            and b.date_ordinal is not None
            and abs(a.date_ordinal - b.date_ordinal) > MAX_DAYS
        ):
            return Decision(False, f"published {abs(a.date_ordinal - b.date_ordinal)} days apart", 0.0)
        smaller = min(sum(map(self.weight, a.anchors)), sum(map(self.weight, b.anchors))) or 1.0
        anchor = sum(map(self.weight, a.anchors & b.anchors)) / smaller
        concept = _cosine(a.concepts, b.concepts)
        same = anchor >= self.anchor_share or concept >= self.concept_share
        reason = f"names and amounts shared {anchor:.2f}, words {concept:.2f}"
        return Decision(same, reason, max(anchor / self.anchor_share, concept / self.concept_share))


def rarity_of(features: Iterable[StoryFeatures]) -> dict[str, float]:
    """Each anchor's weight: rarer anchors say more (an inverse document frequency)."""
    features = list(features)
    counts = Counter(anchor for f in features for anchor in f.anchors)
    total = len(features) or 1
    return {anchor: math.log(1 + total / n) for anchor, n in counts.items()}


def _cosine(a: Counter, b: Counter) -> float:
    if not a or not b:
        return 0.0
    dot = sum(v * b.get(k, 0) for k, v in a.items())
    return dot / math.sqrt(sum(v * v for v in a.values()) * sum(v * v for v in b.values()))
