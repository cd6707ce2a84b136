"""Text analysis shared by passages and queries: words in, index terms out.

The rules, in order, for each word of the text:
- Unicode NFKC normalisation, typographic apostrophes and hyphens made plain, lower case;
- French elisions dropped (`l'IA` -> `ia`), English possessives dropped (`Mistral's` -> `mistral`);
- stop words of the text's language removed, the rest stemmed with the Snowball stemmer of that language,
  then accents folded (`États` -> `etat`), so a query typed without accents still matches; stemming comes
  first because the French stemmer reads the accents (`créé` and `créée` both give `cre`); a French word
  typed without accents that ends in `ee` is read as `ée` (`creee` -> `cre`);
- a hyphenated word gives its parts and the whole (`Mistral-Large` -> `mistral`, `large`, `mistrallarge`),
  nothing when its parts are all stop words (`a-t-elle`, `est-ce`);
- numbers are kept whole (`105`, `1,000` -> `1000`, `2,5` -> `2.5`), split from a unit or currency written
  against them, and units and currencies become one word in both languages: `$2bn`, `$2 billion` and
  `2 milliards de dollars` all give `dollar`/`2`/`billion`; `€105m` and `105 M€` give `euro`/`105`/`million`;
  an ordinal is its number (`26th`, `1er` -> `26`, `1`).

Queries have no declared language: one with clear French or English stop words is analysed in that
language, any other in both, so `valorisation` and `valuation` each find their stem.

The stop words are the Snowball project's English and French lists (BSD licence), accent-folded: kept
as data, since the packaged lists are either the same words or far longer ones (1,300 English words,
including "billion") that would drop real content.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain
from typing import NamedTuple

import snowballstemmer

from search.models import Language
from search.native import WordHashes, find_words, mark_words
from search.words import WORD_RE, word_patterns

LANGUAGES: tuple[Language, ...] = ("en", "fr")
ANALYZER_VERSION = 1  # bump on any change of the terms a text gives: saved indexes are then rebuilt
_STEMMER_NAMES = {"en": "english", "fr": "french"}

_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "‘": "'", "‐": "-", "‑": "-"})
_ELISION_RE = re.compile(r"^(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu|quoiqu|presqu)'(?=\w)")
_THOUSANDS_RE = re.compile(r"^\d{1,3}(?:,\d{3})+$")
_DECIMAL_COMMA_RE = re.compile(r"^\d+,\d+$")
_CURRENCY = {"$": "dollar", "€": "euro", "£": "pound"}
# Units and currencies, however written, as one term shared by both languages (`milliard` is a billion).
UNITS = {
    **dict.fromkeys(
        ["bn", "bln", "billion", "billions", "milliard", "milliards", "md", "mds", "mrd", "mrds"], "billion"
    ),
    **dict.fromkeys(["mn", "mln", "million", "millions", "mio"], "million"),
    **dict.fromkeys(["thousand", "thousands"], "thousand"),
    **dict.fromkeys(["tn", "trillion", "trillions"], "trillion"),
    **dict.fromkeys(["$", "usd", "dollar", "dollars"], "dollar"),
    **dict.fromkeys(["€", "eur", "euro", "euros"], "euro"),
    **dict.fromkeys(["£", "gbp"], "pound"),
}
# Only written against a number (`105m`, `2b`, `15M€`) do these letters mean a unit.
_ATTACHED_UNITS = {**UNITS, "m": "million", "b": "billion", "k": "thousand"}
# `26th`, `1st`, `1er`, `3e`, `2ème` are the number (a date's day, mostly).
_ORDINALS = {"st", "nd", "rd", "th", "er", "re", "e", "eme", "ème", "ieme", "ième"}
_NUMBER_UNIT_RE = re.compile(r"^(\d+(?:[.,]\d+)*)([^\W\d_]{1,9}|[$€£])$")
_UNIT_CURRENCY_RE = re.compile(r"^([^\W\d_]{1,3})([$€£])$")


_THREAD = threading.local()


def _stemmer(language: Language):
    """This thread's stemmer for `language`: a stemmer keeps its word in its own fields while it works
    (PyStemmer's and the pure Python ones alike), so threads that share one can swap stems."""
    stemmers = getattr(_THREAD, "stemmers", None)
    if stemmers is None:
        stemmers = _THREAD.stemmers = {}
    if language not in stemmers:
        stemmers[language] = snowballstemmer.stemmer(_STEMMER_NAMES[language])
    return stemmers[language]


def stem(word: str, language: Language) -> str:
    """The Snowball stem of `word`; words are cached, but not long ones (a file of long distinct words
    would otherwise fill the cache with them)."""
    if len(word) > MAX_CACHED_WORD_CHARS:
        return _stemmer(language).stemWord(word)
    return _cached_stem(word, language)


@lru_cache(maxsize=200_000)
def _cached_stem(word: str, language: Language) -> str:
    return _stemmer(language).stemWord(word)


def fold_accents(text: str) -> str:
    """`Timothée` -> `Timothee`: drop combining marks after canonical decomposition."""
    if text.isascii():  # no accent to drop, and NFD and NFC leave ASCII as it is
        return text
    decomposed = unicodedata.normalize("NFD", text)
    if _OTHER_SCRIPTS_RE.search(decomposed):  # marks may stand outside the Latin block: test each one
        kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    else:
        kept = _LATIN_MARKS_RE.sub("", decomposed)
    return unicodedata.normalize("NFC", kept)


# The combining marks of Latin, Greek and Cyrillic accents, dropped in C; the text's other characters, when
# they all stand in these ranges (with punctuation, currency and symbols), hold no other combining mark.
_LATIN_MARKS_RE = re.compile("[\u0300-\u034e\u0350-\u036f]")  # U+034F, a joiner, is no mark
_OTHER_SCRIPTS_RE = re.compile("[^\x00-\u0482\u048a-\u0590\u2000-\u20cf\u2100-\u2bff]")


_MAX_CACHED_WORDS = 1 << 19
MAX_CACHED_WORD_CHARS = 64  # real words are shorter: the caches hold at most this much per entry


class Token(NamedTuple):
    """A word of the source text, where it stands, and the index terms it gives."""

    start: int
    end: int
    terms: tuple[str, ...]


class QueryWord(NamedTuple):
    """A word of a query and its terms."""

    text: str
    terms: tuple[str, ...]


def _per_language() -> dict[str, dict]:
    return {language: {} for language in LANGUAGES}


# An `Analyzer` field that is state, not a setting: not an argument, not shown, not compared.
_STATE = {"init": False, "repr": False, "compare": False, "hash": False}


@dataclass(frozen=True)
class Analyzer:
    """Turns text into index terms; every step can be switched off (the benchmark uses the defaults)."""

    stem: bool = True
    remove_stopwords: bool = True
    fold_accents: bool = True
    split_compounds: bool = True
    # Words repeat (Zipf's law): analysing each distinct word once makes indexing several times faster.
    _cache: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=_per_language, **_STATE)
    # Each cached term with the cached words that give it: `marks` finds a query's words by set operations.
    _sources: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=_per_language, **_STATE)

    # The cached words that give at most one term, with it ("" for none): most words, looked up in C.
    _single: dict[str, dict[str, str]] = field(
        default_factory=lambda: {language: {} for language in LANGUAGES},
        init=False,
        repr=False,
        compare=False,
        hash=False,
    )

    # The cached words again, as hashes: `Marker` asks it whether each word of a hit was met before.
    _met: dict[str, WordHashes] = field(
        default_factory=lambda: {language: WordHashes() for language in LANGUAGES},
        init=False,
        repr=False,
        compare=False,
        hash=False,
    )

    # Taken to record a new word (rare once warm), so that concurrent first analyses lose no source.
    _recording: threading.Lock = field(
        default_factory=threading.Lock, init=False, repr=False, compare=False, hash=False
    )

    def terms(self, text: str, language: Language = "en") -> list[str]:
        """The index terms of a passage written in `language`, in text order."""
        words = find_words(text)
        single = self._single[language]
        try:  # every word seen before, each giving one term or none (most passages of a build): C loops
            return list(filter(None, map(single.__getitem__, words)))
        except KeyError:
            for word in set(words).difference(single):  # analysed once each, then the C loops again
                self.word_terms(word, language)
        try:
            return list(filter(None, map(single.__getitem__, words)))
        except KeyError:  # a word that gives several terms, a long one, or a cache just emptied
            return [term for word in words for term in self.word_terms(word, language)]

    def tokens(self, text: str, language: Language = "en") -> list[Token]:
        """Each word of `text` with its span, including words that give no term (stop words)."""
        return [
            Token(match.start(), match.end(), self.word_terms(match.group(), language))
            for match in word_patterns(text)[0].finditer(text)
        ]

    def marks(self, text: str, language: Language, wanted) -> list[Token]:
        """The words of `text` that give one of the `wanted` terms, with only those terms."""
        return self.marker(wanted).marks(text, language)

    def marker(self, wanted) -> Marker:
        """What finds the words of texts that give one of the `wanted` terms (one per query)."""
        return Marker(self, frozenset(wanted))

    def query_terms(self, query: str) -> list[str]:
        """The terms of a query, in its language when that is clear, otherwise in every language."""
        return [term for word in self.query_words(query) for term in word.terms]

    def query_words(self, query: str) -> list[QueryWord]:
        """Each word of a query that gives terms, with them (see `query_terms`)."""
        languages = self.query_languages(query)
        words: list[QueryWord] = []
        for match in WORD_RE.finditer(query):
            if len(languages) > 1 and self.remove_stopwords and _is_stopword(match.group()):
                continue
            seen: dict[str, None] = {}
            for language in languages:
                seen.update(dict.fromkeys(self.word_terms(match.group(), language)))
            if seen:
                words.append(QueryWord(match.group(), tuple(seen)))
        return words

    def query_languages(self, query: str) -> tuple[Language, ...]:
        counts = stopword_counts(query)
        ranked = sorted(LANGUAGES, key=lambda lang: counts[lang], reverse=True)
        if counts[ranked[0]] >= 1 and counts[ranked[0]] >= 2 * counts[ranked[1]]:
            return (ranked[0],)
        return LANGUAGES

    def known_words(self, language: Language) -> dict[str, tuple[str, ...]]:
        """The words analysed so far (the word cache), with their terms: a saved index keeps them, so
        that after a start the words of hits and new articles need not be analysed again."""
        with self._recording:
            return dict(self._cache[language])

    def learn(self, language: Language, known: dict[str, tuple[str, ...]]) -> None:
        """Take words with their terms (from `known_words`, of an analyser with the same rules) into the
        cache, as if analysed here, up to the cache's size."""
        cache = self._cache[language]
        with self._recording:
            for word, terms in known.items():
                if len(cache) >= _MAX_CACHED_WORDS:
                    break
                if word not in cache and len(word) <= MAX_CACHED_WORD_CHARS:
                    self._record(word, terms, language)

    def word_terms(self, word: str, language: Language) -> tuple[str, ...]:
        """The index terms of one word of the text (none for a stop word)."""
        cache = self._cache[language]
        terms = cache.get(word)
        if terms is None:
            if len(word) > MAX_CACHED_WORD_CHARS:
                return self._analyse_word(word, language)
            terms = self._analyse_word(word, language)
            with self._recording:
                if len(cache) >= _MAX_CACHED_WORDS:
                    cache.clear()
                    self._sources[language].clear()
                    self._single[language].clear()
                    self._met[language].clear()
                self._record(word, terms, language)
        return terms

    def _record(self, word: str, terms: tuple[str, ...], language: Language) -> None:
        """Cache a word's terms (the caller holds `_recording`): as a source of each term first, so that
        a cached word is always a known source (see `Marker`)."""
        sources = self._sources[language]
        for term in terms:
            sources[term] = (*sources.get(term, ()), word)
        self._cache[language][word] = terms
        self._met[language].add(word)
        if len(terms) <= 1:
            self._single[language][word] = terms[0] if terms else ""

    def _analyse_word(self, word: str, language: Language) -> tuple[str, ...]:
        if word.isascii() and word.isalpha():
            # Most words: ASCII letters, which NFKC keeps, with no digit, currency, apostrophe or
            # hyphen, so of the rules below only lower case, units and `_term` apply.
            word = word.lower()
            if word in UNITS:
                return (UNITS[word],)
            term = self._term(word, language)
            return (term,) if term else ()
        word = unicodedata.normalize("NFKC", word).translate(_APOSTROPHES).lower()
        if word[0].isdigit():
            if _is_number(word):
                return (_normalise_number(word),)
            if amount := _NUMBER_UNIT_RE.match(word):
                if amount.group(2) in _ATTACHED_UNITS:
                    return (_normalise_number(amount.group(1)), _ATTACHED_UNITS[amount.group(2)])
                if amount.group(2) in _ORDINALS:
                    return (_normalise_number(amount.group(1)),)
        if (amount := _UNIT_CURRENCY_RE.match(word)) and amount.group(1) in _ATTACHED_UNITS:
            return (_ATTACHED_UNITS[amount.group(1)], UNITS[amount.group(2)])
        if word[-1] in _CURRENCY and len(word) > 1:
            return (*self._analyse_word(word[:-1], language), UNITS[word[-1]])
        word = _ELISION_RE.sub("", word)
        if word.endswith("'s"):
            word = word[:-2]
        word = word.strip("'")
        if word in UNITS:
            return (UNITS[word],)
        if "'" in word:
            if self.remove_stopwords and fold_accents(word) in BY_LANGUAGE[language]:
                return ()
            word = word.split("'")[0]
        parts = [part for part in word.split("-") if part]
        if len(parts) > 1 and self.split_compounds:
            terms = [t for part in parts if (t := self._term(part, language))]
            if not terms and self.remove_stopwords:
                return ()  # `a-t-elle`, `est-ce`: only stop words, no word of its own
            whole = self._term("".join(parts), language, keep_stopword=True)
            return tuple(dict.fromkeys([*terms, whole])) if whole else tuple(terms)
        term = self._term("".join(parts), language)
        return (term,) if term else ()

    def _term(self, word: str, language: Language, keep_stopword: bool = False) -> str | None:
        if not word or (len(word) == 1 and not word.isdigit()):
            return None
        folded = fold_accents(word)
        if self.remove_stopwords and not keep_stopword and folded in BY_LANGUAGE[language]:
            return None
        if word.isdigit() or not self.stem:
            return folded if self.fold_accents else word
        if language == "fr" and folded == word and word.endswith(("ee", "ees")):
            word = word[: word.rindex("ee")] + "ée" + word[word.rindex("ee") + 2 :]
        term = stem(word, language)
        return fold_accents(term) if self.fold_accents else term


class Marker:
    """Finds the words that give a query's terms in the texts of its hits.

    The words known to give one of the terms are looked up once per language (the analyser records,
    for each term, the words it came from); a text's words are then matched against them, and only a
    word the analyser has never met is analysed (and joins the known ones if it matches).
    """

    def __init__(self, analyzer: Analyzer, wanted: frozenset[str]) -> None:
        self.analyzer = analyzer
        self.wanted = wanted
        self._known: dict[Language, tuple[dict[str, tuple[str, ...]], WordHashes]] = {}

    def marks(self, text: str, language: Language) -> list[Token]:
        """The words of `text` that give one of the wanted terms, with only those terms, in text order."""
        known = self._known.get(language)
        if known is None:
            known = self._known[language] = self._known_words(language)
        met = self.analyzer._met[language]
        marks, unknown = mark_words(text, *known, met)
        if unknown and self._learn(unknown, known, language):
            marks, _ = mark_words(text, *known, met)
        return [Token._make(mark) for mark in marks]

    def _learn(self, words: set[str], known: tuple[dict, WordHashes], language: Language) -> bool:
        """Analyse words never met; those that give a wanted term join the `known` ones (True if any)."""
        learned = False
        for word in words:
            terms = self.analyzer.word_terms(word, language)
            if not self.wanted.isdisjoint(terms):
                known[0][word] = tuple(t for t in terms if t in self.wanted)
                known[1].add(word)
                learned = True
        return learned

    def _known_words(self, language: Language) -> tuple[dict[str, tuple[str, ...]], WordHashes]:
        """Each word the analyser has met that gives a wanted term, with the wanted terms it gives (and
        the same words as hashes). A word is recorded as a source before it is cached: a cached word
        is never missed."""
        sources = self.analyzer._sources[language]
        cache = self.analyzer._cache[language]
        words = set(chain.from_iterable(sources.get(term, ()) for term in self.wanted))
        known = {word: tuple(t for t in cache.get(word, ()) if t in self.wanted) for word in words}
        known = {word: terms for word, terms in known.items() if terms}
        hashes = WordHashes()
        for word in known:
            hashes.add(word)
        return known, hashes


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


ENGLISH = frozenset(
    """
    i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers
    herself it its itself they them their theirs themselves what which who whom this that these those am is
    are was were be been being have has had having do does did doing would should could ought i'm you're
    he's she's it's we're they're i've you've we've they've i'd you'd he'd she'd we'd they'd i'll you'll
    he'll she'll we'll they'll isn't aren't wasn't weren't hasn't haven't hadn't doesn't don't didn't won't
    wouldn't shan't shouldn't can't cannot couldn't mustn't let's that's who's what's here's there's when's
    where's why's how's a an the and but if or because as until while of at by for with about against
    between into through during before after above below to from up down in out on off over under again
    further then once here there when where why how all any both each few more most other some such no nor
    not only own same so than too very will just also can may might must shall
    """.split()
)

FRENCH = frozenset(
    """
    au aux avec ce ces dans de des du elle en et eux il ils je la le les leur lui ma mais me meme mes moi mon
    ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton tu un une vos votre
    vous c d j l a m n s t y ete etee etees etes etant etante etants etantes suis es est sommes etes sont
    serai seras sera serons serez seront serais serait serions seriez seraient etais etait etions etiez
    etaient fus fut fumes futes furent sois soit soyons soyez soient fusse fusses fussions fussiez fussent
    ayant ayante ayantes ayants eu eue eues eus ai as avons avez ont aurai auras aura aurons aurez auront
    aurais aurait aurions auriez auraient avais avait avions aviez avaient eut eumes eutes eurent aie aies
    ait ayons ayez aient eusse eusses eut eussions eussiez eussent ceci cela celle celles celui ceux cet
    cette ici ils leurs quel quels quelle quelles sans soi tout tous toute toutes tres plus moins aussi
    comme donc dont ni or car si alors ainsi
    """.split()
)

BY_LANGUAGE = {"en": ENGLISH, "fr": FRENCH}

# Words that ask, or verbs that say little (`put`, `faire`), rather than say what a question is about:
# searched like any word, but left out of the share of a question's words that the articles must know
# before anything is answered.
QUESTION_WORDS = frozenset(
    """
    much many whose tell know please get gets got put puts give gave make makes made take takes took
    quand comment combien pourquoi quoi lequel laquelle lesquels lesquelles faire fait font mettre mis
    donner donne prendre pris
    """.split()
)
