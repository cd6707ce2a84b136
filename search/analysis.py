"""Text analysis shared by passages and queries: words in, index terms out.

The rules, in order, for each word of the text:
- Unicode NFKC normalisation, typographic apostrophes and hyphens made plain, lower case;
- French elisions dropped (`l'IA` -> `ia`), English possessives dropped (`Mistral's` -> `mistral`);
- accents folded (`États` -> `etats`), so a query typed without accents still matches;
- stop words of the text's language removed, the rest stemmed with the Snowball stemmer of that language;
- a hyphenated word gives its parts and the whole (`Mistral-Large` -> `mistral`, `large`, `mistrallarge`);
- numbers are kept whole (`105`, `1,000` -> `1000`, `2,5` -> `2.5`) and currency signs become words
  (`$2 billion` -> `dollar`, `2`, `billion`).

Queries have no declared language: one with clear French or English stop words is analysed in that
language, any other in both, so `valorisation` and `valuation` each find their stem.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

import snowballstemmer

from search.models import Language
from search.stopwords import BY_LANGUAGE

LANGUAGES: tuple[Language, ...] = ("en", "fr")
_STEMMER_NAMES = {"en": "english", "fr": "french"}

# A word: letters and digits, possibly joined by apostrophes or hyphens; or a lone currency sign.
# Possessive quantifiers: the pattern never backtracks, so it is linear on any text.
WORD_RE = re.compile(r"[$€£]|\d++(?:[.,]\d++)++|\w++(?:[-‐‑'’ʼ]\w++)*+")
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "‘": "'", "‐": "-", "‑": "-"})
_ELISION_RE = re.compile(r"^(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu|quoiqu|presqu)'(?=\w)")
_THOUSANDS_RE = re.compile(r"^\d{1,3}(?:,\d{3})+$")
_DECIMAL_COMMA_RE = re.compile(r"^\d+,\d+$")
_CURRENCY = {"$": "dollar", "€": "euro", "£": "pound"}


@lru_cache(maxsize=4096)
def _stemmer(language: Language):
    return snowballstemmer.stemmer(_STEMMER_NAMES[language])


@lru_cache(maxsize=200_000)
def stem(word: str, language: Language) -> str:
    return _stemmer(language).stemWord(word)


def fold_accents(text: str) -> str:
    """`Timothée` -> `Timothee`: drop combining marks after canonical decomposition."""
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


_MAX_CACHED_WORDS = 1 << 19


class Token(NamedTuple):
    """A word of the source text, where it stands, and the index terms it gives."""

    start: int
    end: int
    terms: tuple[str, ...]


@dataclass(frozen=True)
class Analyzer:
    """Turns text into index terms; every step can be switched off (the benchmark uses the defaults)."""

    stem: bool = True
    remove_stopwords: bool = True
    fold_accents: bool = True
    split_compounds: bool = True
    # Words repeat (Zipf's law): analysing each distinct word once makes indexing several times faster.
    _cache: dict[str, dict[str, tuple[str, ...]]] = field(
        default_factory=lambda: {language: {} for language in LANGUAGES},
        init=False,
        repr=False,
        compare=False,
        hash=False,
    )

    def terms(self, text: str, language: Language = "en") -> list[str]:
        """The index terms of a passage written in `language`, in text order."""
        terms: list[str] = []
        cache = self._cache[language]
        for word in WORD_RE.findall(text):
            word_terms = cache.get(word)
            terms.extend(self.word_terms(word, language) if word_terms is None else word_terms)
        return terms

    def tokens(self, text: str, language: Language = "en") -> list[Token]:
        """Each word of `text` with its span, including words that give no term (stop words)."""
        return [
            Token(match.start(), match.end(), self.word_terms(match.group(), language))
            for match in WORD_RE.finditer(text)
        ]

    def marks(self, text: str, language: Language, wanted) -> list[Token]:
        """The words of `text` that give one of the `wanted` terms, with only those terms."""
        marks = []
        cache = self._cache[language]
        for match in WORD_RE.finditer(text):
            terms = cache.get(match.group())
            if terms is None:
                terms = self.word_terms(match.group(), language)
            if terms and not wanted.isdisjoint(terms):
                marks.append(Token(match.start(), match.end(), tuple(t for t in terms if t in wanted)))
        return marks

    def query_terms(self, query: str) -> list[str]:
        """The terms of a query, in its language when that is clear, otherwise in every language."""
        languages = self.query_languages(query)
        terms: list[str] = []
        for match in WORD_RE.finditer(query):
            if len(languages) > 1 and self.remove_stopwords and _is_stopword(match.group()):
                continue
            seen: dict[str, None] = {}
            for language in languages:
                seen.update(dict.fromkeys(self.word_terms(match.group(), language)))
            terms.extend(seen)
        return terms

    def query_languages(self, query: str) -> tuple[Language, ...]:
        counts = stopword_counts(query)
        ranked = sorted(LANGUAGES, key=lambda lang: counts[lang], reverse=True)
        if counts[ranked[0]] >= 1 and counts[ranked[0]] >= 2 * counts[ranked[1]]:
            return (ranked[0],)
        return LANGUAGES

    def word_terms(self, word: str, language: Language) -> tuple[str, ...]:
        """The index terms of one word of the text (none for a stop word)."""
        cache = self._cache[language]
        terms = cache.get(word)
        if terms is None:
            if len(cache) >= _MAX_CACHED_WORDS:
                cache.clear()
            terms = cache[word] = self._analyse_word(word, language)
        return terms

    def _analyse_word(self, word: str, language: Language) -> tuple[str, ...]:
        word = unicodedata.normalize("NFKC", word).translate(_APOSTROPHES).lower()
        if word in _CURRENCY:
            return (_CURRENCY[word],)
        if word[0].isdigit() and _is_number(word):
            return (_normalise_number(word),)
        word = _ELISION_RE.sub("", word)
        if word.endswith("'s"):
            word = word[:-2]
        word = word.strip("'")
        if self.fold_accents:
            word = fold_accents(word)
        if "'" in word:
            if self.remove_stopwords and word in BY_LANGUAGE[language]:
                return ()
            word = word.split("'")[0]
        parts = [part for part in word.split("-") if part]
        if len(parts) > 1 and self.split_compounds:
            terms = [t for part in parts if (t := self._term(part, language))]
            whole = self._term("".join(parts), language, keep_stopword=True)
            return tuple(dict.fromkeys([*terms, whole])) if whole else tuple(terms)
        term = self._term("".join(parts), language)
        return (term,) if term else ()

    def _term(self, word: str, language: Language, keep_stopword: bool = False) -> str | None:
        if not word or (len(word) == 1 and not word.isdigit()):
            return None
        if self.remove_stopwords and not keep_stopword and word in BY_LANGUAGE[language]:
            return None
        if word.isdigit() or not self.stem:
            return word
        return stem(word, language)


def _is_number(word: str) -> bool:
    return bool(re.fullmatch(r"\d++(?:[.,]\d++)*+", word))


def _normalise_number(word: str) -> str:
    if _THOUSANDS_RE.match(word):
        return word.replace(",", "")
    if _DECIMAL_COMMA_RE.match(word):
        return word.replace(",", ".")
    return word


def _is_stopword(word: str) -> bool:
    """A stop word in any language: dropped from queries whose language is unclear."""
    word = _ELISION_RE.sub("", fold_accents(word.translate(_APOSTROPHES).lower()))
    return any(word in words for words in BY_LANGUAGE.values())


def stopword_counts(text: str) -> dict[Language, int]:
    """How many words of `text` are stop words of each language; each distinct word is looked at once."""
    counts = dict.fromkeys(LANGUAGES, 0)
    for raw, occurrences in Counter(WORD_RE.findall(text)).items():
        folded = fold_accents(raw.translate(_APOSTROPHES).lower())
        word = folded
        if folded.count("'") == 1 and len(folded.split("'")[0]) <= 6:
            word = _ELISION_RE.sub("", folded)
        for language in LANGUAGES:
            if word in BY_LANGUAGE[language]:
                counts[language] += occurrences
        # An elision (l', d', qu') is a strong sign of French.
        if _ELISION_RE.match(folded):
            counts["fr"] += occurrences
    return counts


def detect_language(text: str) -> Language:
    """English or French, by which language's stop words the text uses more."""
    counts = stopword_counts(text)
    return "fr" if counts["fr"] > counts["en"] else "en"
