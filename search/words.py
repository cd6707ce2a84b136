"""What a word is: WORD_RE, and faster patterns that find the same words."""

from __future__ import annotations

import re

# A word: letters and digits, possibly joined by apostrophes or hyphens; or a lone currency sign.
# Possessive quantifiers: the pattern never backtracks, so it is linear on any text.
_CURRENCY_SIGN = r"[$€£]"
_DECIMAL = r"\d++(?:[.,]\d++)++"
_UNIT_CURRENCY = r"[^\W\d_]{1,3}[$€£]"
_JOINED_WORD = r"\w++(?:[-‐‑'’ʼ]\w++)*+"
WORD_RE = re.compile("|".join([_CURRENCY_SIGN, _DECIMAL, _UNIT_CURRENCY, _JOINED_WORD]))


def _word_patterns(currency: bool, decimals: bool, ascii: bool) -> tuple[re.Pattern, re.Pattern]:
    """WORD_RE without the branches that cannot match a text with no currency sign (no `.` or `,`):
    the same words, found several times faster (most passages name no currency); on an ASCII text,
    ASCII classes, the same there and a third faster. The second pattern keeps the words in `split`,
    between the text around them: their spans are the running lengths."""
    branches = [_CURRENCY_SIGN, _DECIMAL, _UNIT_CURRENCY, _JOINED_WORD]
    if not currency:
        branches.remove(_CURRENCY_SIGN)
        branches.remove(_UNIT_CURRENCY)
    if not decimals:
        branches.remove(_DECIMAL)
    pattern = "|".join(branches)
    flags = re.ASCII if ascii else 0
    return re.compile(pattern, flags), re.compile(f"({pattern})", flags)


_WORD_PATTERNS = {
    (c, d, a): _word_patterns(c, d, a) for c in (False, True) for d in (False, True) for a in (False, True)
}


def word_patterns(text: str) -> tuple[re.Pattern, re.Pattern]:
    """The fastest pattern that finds exactly WORD_RE's words in `text`, and its splitting form."""
    return _WORD_PATTERNS[
        "$" in text or "€" in text or "£" in text, "." in text or "," in text, text.isascii()
    ]
