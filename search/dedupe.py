"""The plain near-copy rule the story rule (search/judgement/stories.py) is measured against: MinHash of
word shingles (datasketch's MinHash: maintained, fast, the standard tool for it), two texts being copies
when the Jaccard similarity of their 3-word shingle sets is at least `THRESHOLD`. Shingles of 3 words: a
rewrite of the same facts shares few of them, a copy most of them. The threshold was chosen on labelled
pairs (`python -m tests.search.dedupe_pairs` prints precision and recall).
"""

from __future__ import annotations

import re

import numpy as np
from datasketch import MinHash

SHINGLE_WORDS = 3
PERMUTATIONS = 128
THRESHOLD = 0.4
MIN_SHINGLES = 20  # below this, a text is too short to call anything a copy of it
VALUE_TYPE = np.dtype("<u4")

_WORD_RE = re.compile(r"\w+", re.UNICODE)


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[str]:
    words = _WORD_RE.findall(text.lower())
    return {" ".join(words[i : i + size]) for i in range(max(len(words) - size + 1, 0))}


def signature(text: str) -> np.ndarray | None:
    """The MinHash values of `text`'s shingles; None when the text is too short to compare."""
    found = shingles(text)
    if len(found) < MIN_SHINGLES:
        return None
    minhash = MinHash(num_perm=PERMUTATIONS)
    minhash.update_batch([s.encode("utf-8") for s in found])
    return minhash.hashvalues.astype(VALUE_TYPE)


def estimated(first: np.ndarray, second: np.ndarray) -> float:
    """The Jaccard similarity two signatures estimate: the share of their values that agree."""
    return float(np.count_nonzero(first == second)) / len(first)


def similarity(first: str, second: str) -> float:
    """The exact Jaccard similarity of two texts' shingle sets (for tests and threshold tuning)."""
    a, b = shingles(first), shingles(second)
    return len(a & b) / len(a | b) if a | b else 0.0
