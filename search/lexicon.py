"""Query expansion from the data files of search/lexicons: acronyms and titles, and an English<->French lexicon.

A line of a file is one meaning: its English forms, a tab, its French forms, each list separated by `|`.
When a question contains one form (matched on analysed terms, so `acquisitions` finds `acquisition`), the
other forms of the line are added to the query, each analysed in its own language, each worth at most
EXPANSION_WEIGHT (spread over its terms), so they rank below the user's own words. A form starting with `!`
is an abbreviation that is also a common word (`!US`, `!IT`): it is matched only when the question writes
it in capitals, and never added to a query (it would find the pronoun "us").

A question that matches no line gets no extra term, so it ranks exactly as without the lexicon.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from search.analysis import Analyzer
from search.models import Language
from search.words import WORD_RE

DATA = Path(__file__).resolve().parent / "lexicons"
FILES = ("acronyms.tsv", "lexicon.tsv")
COLUMNS: tuple[Language, ...] = ("en", "fr")
EXPANSION_WEIGHT = 0.5
_CAPITALS_ONLY = "!"


@dataclass(frozen=True)
class Form:
    language: Language
    text: str
    terms: tuple[str, ...]
    capitals_only: bool = False


@dataclass(frozen=True)
class Expansion:
    """Terms added to a query, with their weights, and which of the user's own terms led to them."""

    weights: dict[str, float]
    sources: dict[str, tuple[str, ...]]  # own term -> the added terms it brought in


class Lexicon:
    """Lines of equivalent forms, looked up by their analysed terms in each language."""

    def __init__(self, lines: Iterable[Iterable[tuple[Language, str]]], analyzer: Analyzer) -> None:
        self.analyzer = analyzer
        self._lines: list[tuple[Form, ...]] = []
        self._by_terms: dict[tuple[Language, tuple[str, ...]], list[int]] = {}
        self._by_capitals: dict[str, list[int]] = {}
        self.longest = 1
        for line in lines:
            forms = tuple(self._form(language, text) for language, text in line)
            number = len(self._lines)
            self._lines.append(forms)
            for form in forms:
                if form.capitals_only:
                    self._by_capitals.setdefault(form.text, []).append(number)
                elif form.terms:
                    keys = self._by_terms.setdefault((form.language, form.terms), [])
                    if number not in keys:
                        keys.append(number)
                    self.longest = max(self.longest, len(form.terms))

    def __len__(self) -> int:
        return len(self._lines)

    def single_terms(self) -> dict[tuple[Language, str], int]:
        """Each one-term form, by (language, term), with the number of its line: the line is its meaning,
        shared by its forms in both languages."""
        return {
            (language, terms[0]): numbers[0]
            for (language, terms), numbers in self._by_terms.items()
            if len(terms) == 1
        }

    def _form(self, language: Language, text: str) -> Form:
        if text.startswith(_CAPITALS_ONLY):
            text = text[1:]
            return Form(language, text, tuple(self.analyzer.terms(text, language)), capitals_only=True)
        return Form(language, text, tuple(self.analyzer.terms(text, language)))

    @classmethod
    def from_files(cls, analyzer: Analyzer, paths: Iterable[Path] = ()) -> Lexicon:
        return cls(
            (line for path in (paths or [DATA / name for name in FILES]) for line in read_lines(path)),
            analyzer,
        )

    def expand(self, query: str, languages: Iterable[Language], own: Iterable[str]) -> Expansion:
        """The terms that the lines matched by `query` (read in `languages`) add to the user's `own` terms."""
        own = set(own)
        matched: dict[int, set[str]] = {}
        for word in WORD_RE.findall(query):
            for number in self._by_capitals.get(word, ()):
                matched.setdefault(number, set()).update(self.analyzer.word_terms(word.lower(), "en"))
        for language in languages:
            terms = self.analyzer.terms(query, language)
            i = 0
            while i < len(terms):
                for size in range(min(self.longest, len(terms) - i), 0, -1):
                    key = tuple(terms[i : i + size])
                    numbers = self._by_terms.get((language, key))
                    if numbers:
                        for number in numbers:
                            matched.setdefault(number, set()).update(key)
                        i += size
                        break
                else:
                    i += 1
        weights: dict[str, float] = {}
        sources: dict[str, list[str]] = {}
        for number, keys in matched.items():
            for form in self._lines[number]:
                if form.capitals_only or not form.terms:
                    continue
                share = EXPANSION_WEIGHT / len(form.terms)
                for term in form.terms:
                    if term in own:
                        continue
                    weights[term] = max(weights.get(term, 0.0), share)
                    for key in keys:
                        sources.setdefault(key, []).append(term)
        return Expansion(weights, {key: tuple(dict.fromkeys(terms)) for key, terms in sources.items()})


def read_lines(path: Path) -> list[list[tuple[Language, str]]]:
    """The lines of one data file: each a list of (language, form); comments and blank lines skipped."""
    lines = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        cells = raw.split("\t")
        if len(cells) != len(COLUMNS):
            raise ValueError(f"{path.name}:{number}: expected {len(COLUMNS)} tab-separated columns")
        lines.append(
            [
                (language, form.strip())
                for language, cell in zip(COLUMNS, cells, strict=True)
                for form in cell.split("|")
                if form.strip()
            ]
        )
    return lines


@lru_cache(maxsize=8)
def default_lexicon(analyzer: Analyzer) -> Lexicon:
    """The lexicon of search/lexicons, analysed once per analyzer configuration."""
    return Lexicon.from_files(analyzer)
