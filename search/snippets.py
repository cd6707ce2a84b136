"""Snippets: the best sentence or two of a passage, with the query's words marked."""

from __future__ import annotations

from search import native
from search.analysis import Token
from search.models import Passage, Snippet, construct

MAX_SNIPPET_CHARS = 320
ELLIPSIS = native.ELLIPSIS


def make_snippet(
    passage: Passage,
    marks: list[Token],
    term_weights: dict[str, float],
    max_chars: int = MAX_SNIPPET_CHARS,
) -> Snippet:
    """The sentence (and a neighbour, when it fits and helps) that best covers the query's terms.

    `marks` are the passage's words that match the query, in text order; `term_weights` gives each term
    its weight (idf), so a sentence with the rare words wins over one that repeats a common one. The
    work is `native.snippet` (search/native.py says how it chooses and cuts)."""
    text, highlights = native.snippet(passage.text, passage.sentences, marks, term_weights, max_chars)
    return construct(Snippet, {"text": text, "highlights": highlights})
