"""Near-duplicate detection: the same story republished (another headline, a few sentences added or
cut, other boilerplate) is found; two articles on the same topic are not merged.

MinHash signatures of word shingles (datasketch's MinHash: maintained, fast, and the standard tool
for this), looked up by LSH bands, then confirmed on the estimated Jaccard similarity of the two
shingle sets. Shingles of 3 words: a rewrite of the same facts shares few of them, a copy most of
them. The threshold was chosen on labelled pairs (tests/search/test_dedupe.py prints precision and
recall: `python -m tests.search.dedupe_pairs`).

The bands are datasketch's MinHashLSH's (the same number of bands and rows for the threshold, so the
same candidates), kept in numpy arrays rather than a dict of sets per band: 100,000 signatures are
indexed in a fraction of a second (MinHashLSH takes 20 s and 700 MB for them), and a signature is
only 128 32-bit values, which `signatures()` and `add_signatures()` let the caller save and load
instead of shingling every text again at each start.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence

import numpy as np
from datasketch import MinHash
from datasketch.lsh import _optimal_param

SHINGLE_WORDS = 3
PERMUTATIONS = 128
THRESHOLD = 0.4
MIN_SHINGLES = 20  # below this, a text is too short to call anything a copy of it
# What a signature depends on: a saved one of another version is computed again.
SIGNATURE_VERSION = f"minhash affine32 seed 1, {PERMUTATIONS} permutations, {SHINGLE_WORDS}-word shingles"
VALUE_TYPE = np.dtype("<u4")
REINDEX_ROWS = 1024  # rows added since the last sort that a query scans before they are sorted in

_WORD_RE = re.compile(r"\w+", re.UNICODE)
_MIX = np.uint64(0x9E3779B97F4A7C15)  # an odd constant: multiplying by it mixes the bits (mod 2**64)
_BAND_MIX = np.uint64(0xC2B2AE3D27D4EB4F)


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


class NearDuplicates:
    """Texts by key; `find(text)` names an earlier text it is a near-copy of. Thread-safe.

    Each signature's band keys (one 64-bit hash of each band's values, the band mixed in) are kept in
    one sorted array, searched with `searchsorted`; rows added since the last sort are compared
    directly, and sorted in once there are more than a quarter of the sorted ones (or REINDEX_ROWS).
    A removed row is skipped, and dropped at the next sort. Two bands with the same hash by chance
    only add a candidate, which the similarity check then refuses.
    """

    def __init__(self, threshold: float = THRESHOLD) -> None:
        self.threshold = threshold
        self._bands, self._band_rows = _optimal_param(threshold, PERMUTATIONS, 0.5, 0.5)
        self._keys: list[str | None] = []  # by row; None once removed
        self._row_of: dict[str, int] = {}
        self._values = np.empty((0, PERMUTATIONS), VALUE_TYPE)  # rows [0, len(_keys)) are used
        self._band_keys = np.empty((0, self._bands), np.uint64)
        self._sorted = np.empty(0, np.uint64)  # the band keys of rows [0, _indexed), sorted
        self._sorted_rows = np.empty(0, np.int64)
        self._indexed = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._row_of)

    def __contains__(self, key: str) -> bool:
        return key in self._row_of

    def add(self, key: str, text: str) -> None:
        values = signature(text)
        if values is not None:
            self.add_signatures([key], values[np.newaxis, :])

    def add_signatures(self, keys: Sequence[str], values: np.ndarray) -> None:
        """Know `keys` by their signatures (rows of `values`, as `signatures()` gives them); a key
        already known keeps its own."""
        with self._lock:
            new: dict[str, int] = {}
            for i, key in enumerate(keys):
                if key not in self._row_of:
                    new.setdefault(key, i)
            rows = list(new.values())
            if rows:
                self._append([keys[i] for i in rows], np.asarray(values, VALUE_TYPE)[rows])

    def remove(self, key: str) -> None:
        with self._lock:
            row = self._row_of.pop(key, None)
            if row is not None:
                self._keys[row] = None
                if len(self._keys) - len(self._row_of) > max(REINDEX_ROWS, len(self._row_of)):
                    self._reindex()

    def signatures(self) -> tuple[list[str], np.ndarray]:
        """The keys known and their signatures (one row each), for `add_signatures`."""
        with self._lock:
            rows = list(self._row_of.values())
            return list(self._row_of), self._values[rows]

    def find(self, text: str) -> str | None:
        """The key of the most similar known text at or above the threshold, or None."""
        found = self.matches(text)
        return found[0][1] if found else None

    def matches(self, text: str) -> list[tuple[float, str]]:
        """(estimated Jaccard similarity, key) of the known texts at or above the threshold, best first."""
        values = signature(text)
        if values is None:
            return []
        wanted = self._band_keys_of(values[np.newaxis, :])[0]
        with self._lock:
            rows = self._candidates(wanted)
            rows = [row for row in rows.tolist() if self._keys[row] is not None]
            # The share of equal values: datasketch's MinHash.jaccard, for all candidates at once.
            scores = (self._values[rows] == values).mean(axis=1) if rows else []
            scored = [(float(score), self._keys[row]) for score, row in zip(scores, rows, strict=True)]
        return sorted(((s, k) for s, k in scored if s >= self.threshold), reverse=True)

    def _candidates(self, wanted: np.ndarray) -> np.ndarray:
        """The rows sharing a band with the band keys `wanted`."""
        starts = np.searchsorted(self._sorted, wanted, side="left")
        ends = np.searchsorted(self._sorted, wanted, side="right")
        found = [self._sorted_rows[s:e] for s, e in zip(starts, ends, strict=True) if e > s]
        recent = self._band_keys[self._indexed : len(self._keys)] == wanted
        found.append(np.flatnonzero(recent.any(axis=1)) + self._indexed)
        return np.unique(np.concatenate(found))

    def _band_keys_of(self, values: np.ndarray) -> np.ndarray:
        """One 64-bit key per band of each row of `values`: (rows, bands)."""
        used = values[:, : self._bands * self._band_rows].astype(np.uint64)
        bands = used.reshape(len(values), self._bands, self._band_rows)
        keys = np.zeros((len(values), self._bands), np.uint64)
        for position in range(self._band_rows):
            keys = (keys ^ bands[:, :, position]) * _MIX
        return keys ^ (np.arange(self._bands, dtype=np.uint64) * _BAND_MIX)

    def _append(self, keys: list[str], values: np.ndarray) -> None:
        start = len(self._keys)
        end = start + len(keys)
        if end > len(self._values):
            capacity = max(end, 2 * len(self._values), 64)
            self._values = _grown(self._values, capacity)
            self._band_keys = _grown(self._band_keys, capacity)
        self._values[start:end] = values
        self._band_keys[start:end] = self._band_keys_of(values)
        self._keys.extend(keys)
        self._row_of.update(zip(keys, range(start, end), strict=True))
        if end - self._indexed > max(REINDEX_ROWS, self._indexed // 4):
            self._reindex()

    def _reindex(self) -> None:
        """Drop the removed rows and sort every band key in."""
        live = np.fromiter(self._row_of.values(), np.int64, len(self._row_of))
        live.sort()
        self._values = self._values[live]
        self._band_keys = self._band_keys[live]
        self._keys = [self._keys[row] for row in live.tolist()]
        self._row_of = {key: row for row, key in enumerate(self._keys)}
        flat = self._band_keys.ravel()
        order = np.argsort(flat, kind="stable")
        self._sorted = flat[order]
        self._sorted_rows = order // self._bands
        self._indexed = len(self._keys)


def _grown(array: np.ndarray, rows: int) -> np.ndarray:
    grown = np.empty((rows, *array.shape[1:]), array.dtype)
    grown[: len(array)] = array
    return grown


def similarity(first: str, second: str) -> float:
    """The exact Jaccard similarity of two texts' shingle sets (for tests and threshold tuning)."""
    a, b = shingles(first), shingles(second)
    return len(a & b) / len(a | b) if a | b else 0.0
