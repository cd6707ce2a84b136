"""The loops of a query that Python runs an object at a time, compiled from search/_native.c.

They are compiled when the package was installed with a C compiler (the usual case; `COMPILED`):
a query spent most of its time in them. Otherwise they are the `python_` functions below, which also
say what the C functions must return (tests/search/test_native.py compares the two).
"""

from __future__ import annotations

from bisect import bisect_left
from itertools import compress

import numpy as np

from search.words import word_patterns


def python_find_words(text: str) -> list[str]:
    """WORD_RE's words of `text`, in order."""
    return word_patterns(text)[0].findall(text)


def python_mark_words(
    text: str, known: dict, known_words: set[str], met: set[str]
) -> tuple[list[tuple[int, int, object]], set[str]]:
    """(start, end, known[word]) for each word of `text` that `known` has, in text order; and the other
    distinct words of `text`, that `met` has not. (`known_words` holds the keys of `known`: the C
    function looks there first.)"""
    parts = word_patterns(text)[1].split(text)  # text, word, text, word, ..., text
    words = parts[1::2]
    distinct = set(words)
    unknown = set() if met.issuperset(distinct) else distinct.difference(met).difference(known)
    if known.keys().isdisjoint(distinct):
        return [], unknown
    marks, start, counted = [], 0, 0  # `start`: where parts[counted] begins
    for i in compress(range(1, len(parts), 2), map(known.__contains__, words)):
        start += sum(map(len, parts[counted:i]))
        word = parts[i]
        marks.append((start, start + len(word), known[word]))
        start, counted = start + len(word), i + 1
    return marks, unknown


def python_word_set(text: str) -> frozenset[str]:
    """The distinct words of `text.lower().split()`, in the form `python_near_copy` compares."""
    return frozenset(text.lower().split())


def python_near_copy(words: frozenset[str], seen: list[frozenset[str]], threshold: float) -> bool:
    """Whether the Jaccard similarity of `words` with one of `seen` is at least `threshold`. Sets whose
    sizes differ too much cannot be that close: only the others are intersected."""
    size = len(words)
    for other in seen:
        other_size = len(other)
        if min(size, other_size) >= threshold * max(size, other_size):
            common = len(words & other)
            if common >= threshold * (size + other_size - common):
                return True
    return False


def python_score(
    docs, tfs, factors, lengths, scorer, avgdl, base, constant, kinds, priors, sums, seen
) -> tuple[bytearray, bytearray]:
    """Each passage of the postings once, with its score, as the bytes of int64 and float64 arrays.

    For each term i, its postings: the passages `docs[i]` (int32) with the term's frequencies `tfs[i]`
    (uint16); a passage's score is the sum over its terms of (`scorer.tf_weight` - `base`) times
    `factors[i]`, added in the order of the terms, then `constant`, times `priors[kinds[passage]]`
    (float64 and uint8; both None: times nothing). `lengths` (float64) are the passages' lengths;
    `sums` (float64) and `seen` (uint8) are zeros as long as `lengths`, and are zeros again on return."""
    lengths = np.frombuffer(lengths, dtype=np.float64)
    postings = [np.frombuffer(d, dtype=np.int32) for d in docs]
    for d, t, factor in zip(postings, tfs, factors, strict=True):
        tf = np.frombuffer(t, dtype=np.uint16).astype(np.float64)
        sums[d] += (scorer.tf_weight(tf, lengths[d], avgdl) - base) * factor  # each passage once a term
    found = np.unique(np.concatenate([*postings, np.empty(0, np.int32)])).astype(np.int64)
    total = sums[found] + constant
    if kinds is not None:
        total = total * np.asarray(priors)[np.frombuffer(kinds, dtype=np.uint8)[found]]
    sums[found] = 0.0
    return bytearray(found.tobytes()), bytearray(total.tobytes())


def python_top(scores: np.ndarray, docs: np.ndarray | None, k: int) -> bytearray:
    """The indices of the `k` highest float64 `scores`, best first, as the bytes of an int64 array;
    a tie goes to the smaller of the int64 `docs` (None: the smaller index)."""
    if k <= 0 or not len(scores):
        return bytearray()
    candidates = np.arange(len(scores))
    if k < len(scores):  # the k best, and all that tie with the k-th: ties are broken below
        candidates = np.flatnonzero(scores >= np.partition(scores, len(scores) - k)[len(scores) - k])
    order = candidates if docs is None else docs[candidates]
    best = candidates[np.lexsort((order, -scores[candidates]))][:k]
    return bytearray(best.astype(np.int64).tobytes())


ELLIPSIS = "…"


def python_snippet(
    text: str, sentences, marks, weights: dict[str, float], max_chars: int
) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The sentence of `text` (and a neighbour, when it fits and helps) that best covers the query's
    terms, cut to `max_chars` around its first mark; with the marks in it as spans of that snippet
    (touching ones merged, so that bold marks never touch each other).

    `sentences` are (start, end) spans (none: the whole text is one); `marks` the (start, end, terms)
    of the query's words in text order; `weights` each term's weight (idf): a sentence with the rare
    words wins over one that repeats a common one."""
    if max_chars < 1:
        raise ValueError("snippet: max_chars is at least 1")
    sentences = sentences or ((0, len(text)),)
    spans = [(s, e) for s, e, _ in marks]
    if len(sentences) == 1:
        return _cut(text, sentences[0], spans, max_chars)
    starts = [mark[0] for mark in marks]
    coverage = [_coverage(span, marks, starts, weights) for span in sentences]
    best = max(range(len(sentences)), key=lambda i: (coverage[i], -i))
    start, end = sentences[best]
    for neighbour in (best + 1, best - 1):
        if 0 <= neighbour < len(sentences):
            n_start, n_end = sentences[neighbour]
            wider = (min(start, n_start), max(end, n_end))
            gains = _coverage(wider, marks, starts, weights) > coverage[best]
            if wider[1] - wider[0] <= max_chars and (gains or end - start < 80):
                start, end = wider
                break
    return _cut(text, (start, end), spans, max_chars)


def _coverage(span, marks, starts: list[int], weights: dict[str, float]) -> float:
    """The weight of the terms marked inside `span`, each once, added in the order they first appear;
    only the marks in it are read (`starts` is sorted)."""
    counted: set[str] = set()
    total = 0.0
    for i in range(bisect_left(starts, span[0]), len(marks)):
        start, end, matched = marks[i]
        if start >= span[1]:
            break
        if end <= span[1]:
            for term in matched:
                if term not in counted:
                    counted.add(term)
                    total += weights[term]
    return total


def _cut(text: str, span, marks: list[tuple[int, int]], max_chars: int):
    """The span of `text`, cut to `max_chars` around its first mark, with the marks made relative."""
    start, end = span
    inside = [(s, e) for s, e in marks if s >= start and e <= end]
    if end - start > max_chars:
        focus = inside[0][0] if inside else start
        start = max(start, min(focus - max_chars // 4, end - max_chars))
        if start > span[0]:
            space = text.find(" ", start)  # start at a word
            start = space + 1 if 0 <= space < start + 30 else start
        end = min(end, start + max_chars)
        if end < span[1]:
            space = text.rfind(" ", start, end)  # end at a word
            end = space if space > start else end
    prefix = ELLIPSIS if start > span[0] else ""
    suffix = ELLIPSIS if end < span[1] else ""
    piece = text[start:end]
    body = piece.strip()
    offset = start + piece.find(body[:1]) - len(prefix)  # the spaces before the body are dropped
    snippet = prefix + body + suffix
    merged: list[tuple[int, int]] = []  # `$` `2` `billion` -> one span `$2 billion`
    for s, e in inside:
        if s >= start and e <= end:
            if merged and not snippet[merged[-1][1] : s - offset].strip():
                merged[-1] = (merged[-1][0], e - offset)
            else:
                merged.append((s - offset, e - offset))
    return snippet, tuple(merged)


try:
    from search._native import WordHashes, find_words, mark_words, near_copy, score, snippet, top, word_set
except ImportError:  # installed without a C compiler
    COMPILED = False
    find_words, mark_words = python_find_words, python_mark_words
    word_set, near_copy = python_word_set, python_near_copy
    score, top, snippet = python_score, python_top, python_snippet
    WordHashes = set  # the same methods: add, clear, `in`, len
else:
    COMPILED = True
