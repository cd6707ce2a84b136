"""Near-duplicate detection: the same story republished (another headline, a few sentences added or
cut, other boilerplate) is found; two articles on the same topic are not merged.

MinHash signatures of word shingles, looked up in an LSH index (datasketch: maintained, fast, and
the standard tool for this), then confirmed on the estimated Jaccard similarity of the two shingle
sets. Shingles of 3 words: a rewrite of the same facts shares few of them, a copy most of them.
The threshold was chosen on labelled pairs (tests/search/test_dedupe.py prints precision and recall:
`python -m tests.search.dedupe_pairs`).
"""

from __future__ import annotations

import re
import threading

from datasketch import MinHash, MinHashLSH

SHINGLE_WORDS = 3
PERMUTATIONS = 128
THRESHOLD = 0.4
MIN_SHINGLES = 20  # below this, a text is too short to call anything a copy of it

_WORD_RE = re.compile(r"\w+", re.UNICODE)


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[str]:
    words = _WORD_RE.findall(text.lower())
    return {" ".join(words[i : i + size]) for i in range(max(len(words) - size + 1, 0))}


def signature(text: str) -> MinHash | None:
    """The MinHash of `text`'s shingles; None when the text is too short to compare."""
    found = shingles(text)
    if len(found) < MIN_SHINGLES:
        return None
    minhash = MinHash(num_perm=PERMUTATIONS)
    minhash.update_batch([s.encode("utf-8") for s in found])
    return minhash


class NearDuplicates:
    """Texts by key; `find(text)` names an earlier text it is a near-copy of. Thread-safe."""

    def __init__(self, threshold: float = THRESHOLD) -> None:
        self.threshold = threshold
        self._lsh = MinHashLSH(threshold=threshold, num_perm=PERMUTATIONS)
        self._signatures: dict[str, MinHash] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._signatures)

    def __contains__(self, key: str) -> bool:
        return key in self._signatures

    def add(self, key: str, text: str) -> None:
        minhash = signature(text)
        with self._lock:
            if minhash is None or key in self._signatures:
                return
            self._signatures[key] = minhash
            self._lsh.insert(key, minhash)

    def remove(self, key: str) -> None:
        with self._lock:
            if self._signatures.pop(key, None) is not None:
                self._lsh.remove(key)

    def find(self, text: str) -> str | None:
        """The key of the most similar known text at or above the threshold, or None."""
        found = self.matches(text)
        return found[0][1] if found else None

    def matches(self, text: str) -> list[tuple[float, str]]:
        """(estimated Jaccard similarity, key) of the known texts at or above the threshold, best first."""
        minhash = signature(text)
        if minhash is None:
            return []
        with self._lock:
            scored = [(minhash.jaccard(self._signatures[key]), key) for key in self._lsh.query(minhash)]
        return sorted(((s, k) for s, k in scored if s >= self.threshold), reverse=True)


def similarity(first: str, second: str) -> float:
    """The exact Jaccard similarity of two texts' shingle sets (for tests and threshold tuning)."""
    a, b = shingles(first), shingles(second)
    return len(a & b) / len(a | b) if a | b else 0.0
