"""Sentence boundaries, by sentencex (rule-based, English and French abbreviations known)."""

from __future__ import annotations

import re

from sentencex import segment

from search.models import Language, Span

_SHORT_FRAGMENT = 4  # "M. " alone is an abbreviation cut, not a sentence


def sentence_spans(text: str, language: Language) -> tuple[Span, ...]:
    """Character spans of the sentences of `text`, covering its words, without surrounding spaces."""
    spans: list[Span] = []
    cursor = 0
    for sentence in segment(language, text):
        stripped = sentence.strip()
        if not stripped:
            continue
        start = text.find(stripped, cursor)
        if start < 0:
            continue
        end = start + len(stripped)
        if spans and (end - start <= _SHORT_FRAGMENT or _is_abbreviation(text[spans[-1][0] : spans[-1][1]])):
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
        cursor = end
    return tuple(spans) or ((0, len(text)),)


def _is_abbreviation(sentence: str) -> bool:
    return bool(re.fullmatch(r"\w{1,3}\.", sentence))
