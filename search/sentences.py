"""Sentence boundaries, by sentencex (rule-based, English and French abbreviations known)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from sentencex import segment

from search.models import Language, Span

_SHORT_FRAGMENT = 4  # "M. " alone is an abbreviation cut, not a sentence
# sentencex takes time quadratic in the length of some text (a long run of opening quotes): it is given
# the text in pieces of at most this many characters, cut after a sentence's end where there is one.
SEGMENT_CHARS = 1000
_PIECE_ENDS = (". ", "! ", "? ", "… ", "\n")


def sentence_spans(text: str, language: Language) -> tuple[Span, ...]:
    """Character spans of the sentences of `text`, covering its words, without surrounding spaces."""
    spans: list[Span] = []
    for piece_start, piece_end in _pieces(text):
        cursor = piece_start
        for sentence in segment(language, text[piece_start:piece_end]):
            stripped = sentence.strip()
            if not stripped:
                continue
            start = text.find(stripped, cursor, piece_end)
            if start < 0:
                continue
            end = start + len(stripped)
            if spans and (end - start <= _SHORT_FRAGMENT or _is_abbreviation(text, spans[-1])):
                spans[-1] = (spans[-1][0], end)
            else:
                spans.append((start, end))
            cursor = end
    return tuple(spans) or ((0, len(text)),)


def _pieces(text: str) -> Iterator[Span]:
    """`text` in consecutive pieces of at most SEGMENT_CHARS, cut after a sentence's end, or a space."""
    start = 0
    while len(text) - start > SEGMENT_CHARS:
        limit = start + SEGMENT_CHARS
        middle = start + SEGMENT_CHARS // 2
        cut = max(text.rfind(end, middle, limit) + len(end) for end in _PIECE_ENDS)
        if cut <= middle:
            cut = text.rfind(" ", middle, limit) + 1
        if cut <= middle:
            cut = limit
        yield start, cut
        start = cut
    yield start, len(text)


def _is_abbreviation(text: str, span: Span) -> bool:
    start, end = span
    return end - start <= _SHORT_FRAGMENT and bool(re.fullmatch(r"\w{1,3}\.", text[start:end]))
