"""Snippets: the best sentence or two of a passage, with the query's words marked."""

from __future__ import annotations

from bisect import bisect_left

from search.analysis import Token
from search.models import Passage, Snippet, Span, construct

MAX_SNIPPET_CHARS = 320
ELLIPSIS = "…"


def make_snippet(
    passage: Passage,
    marks: list[Token],
    term_weights: dict[str, float],
    max_chars: int = MAX_SNIPPET_CHARS,
) -> Snippet:
    """The sentence (and a neighbour, when it fits and helps) that best covers the query's terms.

    `marks` are the passage's words that match the query, in text order; `term_weights` gives each term
    its weight (idf), so a sentence with the rare words wins over one that repeats a common one.
    """
    text = passage.text
    sentences = passage.sentences or ((0, len(text)),)
    spans = [(s, e) for s, e, _ in marks]
    if len(sentences) == 1:
        return _cut(text, sentences[0], spans, max_chars)
    starts = [mark.start for mark in marks]
    coverage = [_coverage(span, marks, starts, term_weights) for span in sentences]
    best = max(range(len(sentences)), key=lambda i: (coverage[i], -i))
    start, end = sentences[best]
    for neighbour in (best + 1, best - 1):
        if 0 <= neighbour < len(sentences):
            n_start, n_end = sentences[neighbour]
            wider = (min(start, n_start), max(end, n_end))
            gains = _coverage(wider, marks, starts, term_weights) > coverage[best]
            if wider[1] - wider[0] <= max_chars and (gains or end - start < 80):
                start, end = wider
                break
    return _cut(text, (start, end), spans, max_chars)


def _coverage(span: Span, marks: list[Token], starts: list[int], weights: dict[str, float]) -> float:
    """The weight of the terms marked inside `span`; only the marks in it are read (`starts` is sorted)."""
    terms: set[str] = set()
    for i in range(bisect_left(starts, span[0]), len(marks)):
        start, end, matched = marks[i]
        if start >= span[1]:
            break
        if end <= span[1]:
            terms.update(matched)
    return sum(weights[t] for t in terms)


def _cut(text: str, span: Span, marks: list[Span], max_chars: int) -> Snippet:
    """The span of `text`, cut to `max_chars` around its first mark, with highlights made relative."""
    start, end = span
    inside = [(s, e) for s, e in marks if s >= start and e <= end]
    if end - start > max_chars:
        focus = inside[0][0] if inside else start
        start = max(start, min(focus - max_chars // 4, end - max_chars))
        if start > span[0]:
            start = _word_start(text, start)
        end = min(end, start + max_chars)
        if end < span[1]:
            end = _word_end(text, start, end)
    prefix = ELLIPSIS if start > span[0] else ""
    suffix = ELLIPSIS if end < span[1] else ""
    piece = text[start:end]
    body = piece.strip()
    offset = start + piece.find(body[:1]) - len(prefix)  # the spaces before the body are dropped
    highlights = [(s - offset, e - offset) for s, e in inside if s >= start and e <= end]
    snippet = prefix + body + suffix
    return construct(Snippet, {"text": snippet, "highlights": tuple(_merge_adjacent(snippet, highlights))})


def _merge_adjacent(text: str, spans: list[Span]) -> list[Span]:
    """`$` `2` `billion` -> one span `$2 billion`, so bold marks never touch each other."""
    merged: list[Span] = []
    for start, end in spans:
        if merged and not text[merged[-1][1] : start].strip():
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _word_start(text: str, index: int) -> int:
    space = text.find(" ", index)
    return space + 1 if 0 <= space < index + 30 else index


def _word_end(text: str, start: int, index: int) -> int:
    space = text.rfind(" ", start, index)
    return space if space > start else index
