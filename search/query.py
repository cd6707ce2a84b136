"""What a query may be: checked once, with a message a person can act on.

Its filters, typed in the query: `source:OUTLET lang:fr after:2024-01-01 before:2024-07-01 "exact phrase"`
(`parse_query`).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from search.analysis import LANGUAGES, QUESTION_WORDS, Analyzer, QueryWord, fold_accents
from search.lexicon import Lexicon
from search.models import Language

MAX_QUERY_CHARS = 500
PREFIX_WEIGHT = 0.5  # a stem that is a prefix of the query's stem (valuat -> valu) counts half
TYPO_WEIGHT = 0.5  # an indexed term one edit away from an unknown query term (mensh -> mensch)
TYPO_MIN_CHARS = 5
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_SPACES = re.compile(r"\s+")


class QueryError(ValueError):
    """A query that cannot be searched; the message says why and what to do."""


def clean_query(query: str) -> str:
    """The query with control characters and runs of white space removed; QueryError if unusable."""
    text = query or ""
    if not text.isprintable():  # printable: no character of the categories C* (most queries)
        text = "".join(" " if unicodedata.category(c).startswith("C") else c for c in text)
    text = _SPACES.sub(" ", text).strip()
    if not text:
        raise QueryError("The query is empty: type a few words, e.g. `valuation` or `who founded Mistral?`.")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(
            f"The query is {len(text):,} characters long; the limit is {MAX_QUERY_CHARS}. "
            "Ask with a few keywords instead."
        )
    return text


FILTER_HELP = (
    "Filters: `source:OUTLET` (e.g. source:lemonde), `lang:en` or `lang:fr`, `after:YYYY-MM-DD`, "
    '`before:YYYY-MM-DD`, and `"an exact phrase"` in double quotes.'
)
MAX_PHRASES = 5
MAX_OUTLETS = 5
_FILTER_RE = re.compile(r"(?<!\S)(source|lang|after|before):(\S*)", re.IGNORECASE)
_PHRASE_RE = re.compile(r"[\"“”«»]([^\"“”«»]*)[\"“”«»]")
_LANGUAGES: dict[str, Language] = {
    "en": "en",
    "english": "en",
    "anglais": "en",
    "fr": "fr",
    "french": "fr",
    "francais": "fr",
}


@dataclass(frozen=True)
class Filters:
    outlets: tuple[str, ...] = ()
    language: Language | None = None
    after: dt.date | None = None
    before: dt.date | None = None
    phrases: tuple[str, ...] = field(default=())

    def __bool__(self) -> bool:
        return bool(self.outlets or self.language or self.after or self.before or self.phrases)

    def accepts_article(self, *, language: str, date: dt.date | None, outlet: str) -> bool:
        """Whether an article with these fields passes the filters (phrases aside: they are per passage)."""
        if self.language and language != self.language:
            return False
        if (self.after or self.before) and date is None:
            return False
        if self.after and date < self.after:
            return False
        if self.before and date >= self.before:
            return False
        return not self.outlets or any(name in comparable(outlet) for name in self.outlets)

    def accepts_text(self, text: str) -> bool:
        """Whether a passage contains every exact phrase (case, accents and spacing aside)."""
        if not self.phrases:
            return True
        folded = comparable(text)
        return all(phrase in folded for phrase in self.phrases)


@dataclass(frozen=True)
class ParsedQuery:
    words: str
    filters: Filters


def comparable(text: str) -> str:
    """Lower case, no accents, single spaces: how outlets and phrases are compared."""
    return " ".join(fold_accents(text).casefold().split())


def parse_query(text: str) -> ParsedQuery:
    """The free words of `text` and its filters; QueryError naming the bad filter and what is accepted."""
    outlets: list[str] = []
    values: dict[str, object] = {}
    for match in _FILTER_RE.finditer(text):
        name, value = match.group(1).lower(), match.group(2)
        if name == "source":
            outlets.append(_outlet(value))
        elif name == "lang":
            values["language"] = _language(value)
        else:
            values[name] = _date(name, value)
    after, before = values.get("after"), values.get("before")
    if after and before and after >= before:
        raise QueryError(f"`after:{after}` is not before `before:{before}`: nothing can match. {FILTER_HELP}")
    rest = _FILTER_RE.sub(" ", text)
    phrases = [comparable(p) for p in _PHRASE_RE.findall(rest) if p.strip()]
    if len(outlets) > MAX_OUTLETS or len(phrases) > MAX_PHRASES:
        raise QueryError(
            f"Too many filters: at most {MAX_OUTLETS} sources and {MAX_PHRASES} phrases. {FILTER_HELP}"
        )
    words = " ".join(_PHRASE_RE.sub(lambda m: f" {m.group(1)} ", rest).replace('"', " ").split())
    filters = Filters(tuple(outlets), values.get("language"), after, before, tuple(phrases))
    return ParsedQuery(words, filters)


def _outlet(value: str) -> str:
    outlet = comparable(value.strip("\"'"))
    if not outlet:
        raise QueryError(f"`source:` needs an outlet name, e.g. `source:reuters`. {FILTER_HELP}")
    return outlet


def _language(value: str) -> Language:
    language = _LANGUAGES.get(comparable(value))
    if language is None:
        raise QueryError(
            f"`lang:{value}` is not a language I have: use `lang:en` or `lang:fr`. {FILTER_HELP}"
        )
    return language


def _date(name: str, value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise QueryError(
            f"`{name}:{value}` is not a date: write it as YYYY-MM-DD, e.g. `{name}:2024-06-01`. {FILTER_HELP}"
        ) from None


def plan(
    query: str, analyzer: Analyzer, df: Mapping[str, int], passages: int, lexicon: Lexicon | None
) -> tuple[dict[str, float], float]:
    """A query's terms with their weights, and its coverage, over an index of `passages` passages
    whose terms have the document frequencies `df` (see `SearchIndex.query_weights` and `coverage`);
    with a `lexicon`, the expansions too (a typo, the other language, the lexicon's words)."""
    words = analyzer.query_words(query)
    own = [term for word in words for term in word.terms]
    weights: dict[str, float] = dict(Counter(own))
    found: dict[str, list[str]] = {term: [term] for term in weights if term in df}
    for term in list(weights):
        if len(term) < 5 or term[0].isdigit():
            continue
        for size in range(len(term) - 1, max(4, math.ceil(0.6 * len(term))) - 1, -1):
            prefix = term[:size]
            if prefix in df:
                weights.setdefault(prefix, PREFIX_WEIGHT)
                found.setdefault(term, []).append(prefix)
                break
    if lexicon is None:
        return weights, _coverage(words, found, df, passages)
    languages = analyzer.query_languages(query)
    for word in words:
        if not any(term in found for term in word.terms):
            # A name in an English question stemmed as English (`codestr`) may be indexed as French.
            for language in LANGUAGES:
                if language not in languages:
                    other = [t for t in analyzer.word_terms(word.text, language) if t in df]
                    for term in other:
                        weights.setdefault(term, 1.0)
                    if other:
                        found.setdefault(word.terms[0], []).extend(other)
    expansion = lexicon.expand(query, languages, weights)
    for term, weight in expansion.weights.items():
        if term in df:
            weights.setdefault(term, weight)
    for term, added in expansion.sources.items():
        found.setdefault(term, []).extend(t for t in added if t in df)
    for term in list(weights):
        if term in own and not found.get(term) and (fixed := _typo(term, df)):
            weights.setdefault(fixed, TYPO_WEIGHT)
            found[term] = [fixed]
    return weights, _coverage(words, found, df, passages)


def _typo(term: str, df: Mapping[str, int]) -> str | None:
    """The most frequent indexed term one edit (deletion, swap, change, insertion) from `term`."""
    if len(term) < TYPO_MIN_CHARS or not term.isalpha():
        return None
    splits = [(term[:i], term[i:]) for i in range(len(term) + 1)]
    candidates = {a + b[1:] for a, b in splits if b}
    candidates |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    candidates |= {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    candidates |= {a + c + b for a, b in splits for c in _LETTERS}
    known = [c for c in candidates if c in df and c != term]
    return max(known, key=lambda c: (df[c], c)) if known else None


def _coverage(
    words: list[QueryWord], found: dict[str, list[str]], df: Mapping[str, int], passages: int
) -> float:
    if not words or not passages:
        return 0.0
    unknown = math.log(passages + 1)
    total = covered = 0.0
    for word in words:
        if fold_accents(word.text.lower()) in QUESTION_WORDS:
            continue
        matched = [t for term in word.terms for t in found.get(term, ())]
        if matched:
            weight = max(unknown - math.log(min(df[t] for t in matched)), 0.0)
            covered += weight
        else:
            weight = unknown
        total += weight
    return covered / total if total else 1.0
