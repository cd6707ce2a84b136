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

import bisect
import heapq
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from search.analysis import Analyzer, fold_accents
from search.lexicon import Lexicon, default_lexicon
from search.models import Article

MAX_DAYS = 6
MIN_TERMS = 15  # fewer distinct terms: too few to call two articles one story by their words alone
BOILERPLATE_CHARS = 40  # a shorter line (a byline, a dateline) may repeat by chance
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
        self._concept_of = self.lexicon.single_terms()

    def read(self, article: Article, boilerplate: frozenset[str] = frozenset()) -> StoryFeatures:
        texts = [article.title] + [
            p.text
            for p in article.passages
            if p.kind != "caption" and not (boilerplate and paragraph_key(p.text) in boilerplate)
        ]
        anchors: set[str] = set()
        concepts: Counter = Counter()
        concept_of = self._concept_of
        for text in texts:
            terms = self.analyzer.terms(text, article.language)
            anchors |= self._names(text)
            anchors |= _amounts(terms)
            for term in terms:
                concept = concept_of.get((article.language, term))
                concepts[term if concept is None else f"#{concept}"] += 1
        ordinal = article.date.toordinal() if article.date else None
        return StoryFeatures(article.id, ordinal, frozenset(anchors), concepts)

    def _names(self, text: str) -> set[str]:
        """Capitalised words and their runs, but a lone one opening a sentence; no calendar word, and
        not the subject's own names."""
        names = set()
        for match in _NAME_RE.finditer(text):
            start = match.start()
            name = fold_accents(match.group(1).lower())
            if " " not in name and (start == 0 or text[:start].rstrip()[-1:] in '.!?:«"“—-'):
                continue
            if name.split(" ", 1)[0] in _CALENDAR or name in self.common:
                continue
            names.add(name)
        return names


def _amounts(terms: list[str]) -> set[str]:
    """Numbers with a scale or a currency beside them, as the analyser reads them in either language:
    `€1.7bn` (euro 1.7 billion) and `1,7 milliard d'euros` (1.7 billion euro) are both `1.7 billion euro`."""
    found = set()
    for i, term in enumerate(terms):
        if term[:1].isdigit():
            units = sorted({t for t in terms[max(0, i - 1) : i] + terms[i + 1 : i + 3] if t in _AMOUNT_TERMS})
            if units:
                found.add(" ".join([term, *units]))
    return found


def paragraph_key(text: str) -> str:
    """A paragraph as `boilerplate_of` compares it: case, accents and spacing aside."""
    return " ".join(fold_accents(text.lower()).split())


def boilerplate_of(articles: Iterable[Article], at_least: int = 3) -> frozenset[str]:
    """Paragraphs that stand word for word in `at_least` articles published more than `MAX_DAYS` apart:
    templates, footers, "About" sections (a wire story's copies, days apart, keep theirs)."""
    dates: dict[str, list[int]] = {}
    for article in articles:
        day = article.date.toordinal() if article.date else 0
        for key in {paragraph_key(p.text) for p in article.passages}:
            if len(key) > BOILERPLATE_CHARS:
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
        with_anchors: float = 0.25,
    ) -> None:
        self.rarity = rarity or {}
        self.anchor_share = anchor_share
        self.concept_share = concept_share
        self.with_anchors = with_anchors

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
        shared = a.anchors & b.anchors
        # One shared name is no evidence (a partner's nationality, a city): two at least.
        anchor = sum(map(self.weight, shared)) / smaller if len(shared) >= 2 else 0.0
        concept = _cosine(a.concepts, b.concepts)
        # Shared names alone are not one story: a newsletter naming last week's partner, a bank's
        # other deal. The same story also tells it in some of the same words (either language's).
        # A brief's few words are alike by chance (the subject's names, "said", "model"): it is the same
        # story only through the names and amounts it shares.
        by_words = concept >= self.concept_share and min(len(a.concepts), len(b.concepts)) >= MIN_TERMS
        same = by_words or (anchor >= self.anchor_share and concept >= self.with_anchors)
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


CANDIDATES_PER_KEY = 50  # the nearest in date, per anchor: more articles of one name tell no more
TOP_CANDIDATES = 12  # those sharing the most names and amounts are weighed by the rule


class StoryIndex:
    """The stories known so far, to find the one an article belongs to (`find`) in time that does not grow
    with the number of articles: candidates share an anchor and are published within `MAX_DAYS`; each anchor
    keeps its articles in date order, and only the nearest of the window are read."""

    def __init__(self, rule: StoryRule | None = None) -> None:
        """`rule` by default weighs anchors by their rarity among the articles of this index."""
        self._features: dict[str, StoryFeatures] = {}
        self._postings: dict[str, list[tuple[int, str]]] = {}  # key -> (date ordinal, article id), sorted
        self._counts: Counter = Counter()  # articles per anchor
        self.rule = rule or StoryRule(_LiveRarity(self._counts, self._features))

    def __len__(self) -> int:
        return len(self._features)

    def add(self, features: StoryFeatures) -> None:
        if features.article_id in self._features:
            return
        self._features[features.article_id] = features
        day = features.date_ordinal or 0
        self._counts.update(features.anchors)
        for key in features.anchors:
            bisect.insort(self._postings.setdefault(key, []), (day, features.article_id))

    def remove(self, article_id: str) -> None:
        features = self._features.pop(article_id, None)
        if features is None:
            return
        day = features.date_ordinal or 0
        for key in features.anchors:
            postings = self._postings.get(key, [])
            at = bisect.bisect_left(postings, (day, article_id))
            if at < len(postings) and postings[at] == (day, article_id):
                postings.pop(at)
        self._counts.subtract(features.anchors)

    def find(self, features: StoryFeatures) -> tuple[str, Decision] | None:
        """The known article whose story `features` tells (the most alike), with the decision; or None."""
        best: tuple[str, Decision] | None = None
        for article_id in self.candidates(features):
            decision = self.rule.same(features, self._features[article_id])
            if decision.same and (best is None or decision.score > best[1].score):
                best = (article_id, decision)
        return best

    def candidates(self, features: StoryFeatures) -> list[str]:
        """The articles `find` weighs against `features`: of those sharing an anchor and nearest in date,
        the `TOP_CANDIDATES` sharing the most (by rarity)."""
        shared: dict[str, float] = {}
        for key in features.anchors:
            weight = self.rule.weight(key)
            for _, article_id in self._window(key, features.date_ordinal):
                shared[article_id] = shared.get(article_id, 0.0) + weight
        shared.pop(features.article_id, None)
        return heapq.nlargest(TOP_CANDIDATES, shared, key=shared.__getitem__)

    def _window(self, key: str, day: int | None) -> list[tuple[int, str]]:
        postings = self._postings.get(key, [])
        if day is None:
            return postings[-CANDIDATES_PER_KEY:]
        low = bisect.bisect_left(postings, (day - MAX_DAYS, ""))
        high = bisect.bisect_right(postings, (day + MAX_DAYS, "\uffff"))
        middle = bisect.bisect_left(postings, (day, ""), low, high)
        half = CANDIDATES_PER_KEY // 2
        return postings[max(low, middle - half) : min(high, middle + half)]


class _LiveRarity(dict):
    """Anchor weights from the counts of the index, computed when asked (an inverse document frequency)."""

    def __init__(self, counts: Counter, features: dict) -> None:
        super().__init__()
        self._counts, self._features = counts, features

    def get(self, anchor: str, default: float = 1.0) -> float:
        n = self._counts.get(anchor, 0)
        return math.log(1 + len(self._features) / n) if n > 0 else default
