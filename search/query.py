"""What a query may be: checked once, with a message a person can act on."""

from __future__ import annotations

import re
import unicodedata

MAX_QUERY_CHARS = 500
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
