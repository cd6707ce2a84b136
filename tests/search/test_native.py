"""The compiled loops (search/_native.c) return what their Python definitions (search/native.py) return,
on generated and hostile texts, and refuse what they cannot read without touching memory they do not own.

Where the package was installed without a C compiler, the functions are the Python ones: these tests
are then skipped, saying why, except under CI (CI=true), where the extension must have been built.
"""

import json
import os
import re
import subprocess
import sys
from array import array
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from search import SearchIndex, load_articles, native
from search.scoring import PRIOR_BY_KIND, VARIANTS
from search.words import WORD_RE
from tests.search.test_properties import BOUNDED, FRAGMENTS, article_text

if not native.COMPILED:
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true but search._native was not built: is a C compiler installed?", pytrace=False)
    pytest.skip(
        "search._native was not built (no C compiler at install): Python runs", allow_module_level=True
    )

# Characters at the edges of WORD_RE's classes: currency signs, joiners, decimal and other digits,
# the underscore, letters outside ASCII, a modifier letter that is both a joiner and a letter.
EDGES = [
    *"$€£¥-‐‑'’ʼ‘_.,0123456789٣²½ⅣaZéÉß ٴ\u00a0\u2028\t\n",
    *["US$", "1,5", "3.14.", "bn€", "abcd$", "l'", "x-"],
]
edgy_text = st.lists(st.one_of(st.sampled_from(EDGES), st.sampled_from(FRAGMENTS)), max_size=120).map("".join)
texts = st.one_of(article_text, edgy_text)


@BOUNDED
@given(texts)
def test_words_are_the_patterns_words(text):
    assert native.find_words(text) == WORD_RE.findall(text) == native.python_find_words(text)


@pytest.mark.parametrize(
    "text",
    [
        "$2bn",
        "US$5",
        "abcd$",
        "ab1€",
        "€€",
        "1.5",
        "1.5.",
        "1..5",
        "2,5,3 x",
        "٣٫٣",
        "l’IA",
        "x-",
        "-x",
        "a_b",
    ],
)
def test_words_at_the_edges_of_the_patterns_classes(text):
    assert native.find_words(text) == WORD_RE.findall(text)


def word_hashes(words) -> native.WordHashes:
    hashes = native.WordHashes()
    for word in words:
        hashes.add(word)
    return hashes


@BOUNDED
@given(texts, st.data())
def test_marks_and_unknown_words_are_the_pythons(text, data):
    words = WORD_RE.findall(text)
    chosen = st.lists(st.sampled_from(words), max_size=8) if words else st.just([])
    known = {word: (word.lower(),) for word in data.draw(chosen)}
    met = [*data.draw(chosen), "unrelated"]
    marks, unknown = native.mark_words(text, known, word_hashes(known), word_hashes(met))
    assert (marks, unknown) == native.python_mark_words(text, known, set(known), set(met))
    assert [text[start:end] for start, end, _ in marks] == [w for w in words if w in known]
    assert unknown == set(words) - set(known) - set(met)


@BOUNDED
@given(st.lists(st.text(max_size=12), max_size=300), st.lists(st.text(max_size=12), max_size=50))
def test_word_hashes_hold_what_was_added(added, asked):
    hashes = word_hashes(added)
    assert len(hashes) == len(set(added))
    assert all(word in hashes for word in added)
    assert all((word in hashes) == (word in added) for word in asked)
    hashes.clear()
    assert len(hashes) == 0 and not any(word in hashes for word in added)


@BOUNDED
@given(st.lists(texts, min_size=1, max_size=6), st.sampled_from([0.0, 0.5, 0.8, 1.0]))
def test_near_copies_are_the_pythons(passages, threshold):
    compiled = [native.word_set(p) for p in passages]
    python = [native.python_word_set(p) for p in passages]
    assert [len(c) // 8 for c in compiled] == [len(p) for p in python]
    for i in range(len(passages)):
        assert native.near_copy(compiled[i], compiled[:i], threshold) == native.python_near_copy(
            python[i], python[:i], threshold
        )


def test_a_near_copy_is_found_by_its_shared_words():
    first = native.word_set("Mistral raised money in Paris this week from investors")
    close = native.word_set("mistral raised money in paris this week from new investors")
    assert native.near_copy(close, [first], 0.8)
    assert not native.near_copy(native.word_set("le chat is a chatbot"), [first], 0.8)
    assert not native.near_copy(close, [], 0.8)


@BOUNDED
@given(
    st.lists(st.lists(st.integers(0, 63), unique=True), min_size=1, max_size=5),
    st.sampled_from(sorted(VARIANTS)),
    st.randoms(),
)
def test_scores_are_numpys_to_the_bit(postings, variant, random):
    """The C scores equal numpy's (the scorer's own `tf_weight`) exactly: pruning counts on it."""
    scorer = VARIANTS[variant]
    lengths = array("d", [random.choice([0.0, 1.0, 7.0, 60.0, 1e4]) for _ in range(64)])
    docs = [array("i", sorted(p)) for p in postings]
    tfs = [array("H", [random.choice([1, 2, 3, 65535]) for _ in p]) for p in postings]
    factors = [random.uniform(-3, 3) for _ in postings]
    avgdl, base, constant = random.uniform(0.5, 100), random.uniform(0, 1), random.uniform(0, 5)
    kinds = bytearray(random.randrange(len(PRIOR_BY_KIND)) for _ in range(64))
    kinds, priors = (kinds, PRIOR_BY_KIND) if random.random() < 0.5 else (None, None)
    results = []
    for score in (native.score, native.python_score):
        sums, seen = np.zeros(64), np.zeros(64, dtype=np.uint8)
        found, totals = score(
            docs, tfs, factors, lengths, scorer, avgdl, base, constant, kinds, priors, sums, seen
        )
        found, totals = np.frombuffer(found, np.int64).tolist(), np.frombuffer(totals).tolist()
        results.append(dict(zip(found, totals, strict=True)))
        assert not sums.any() and not seen.any()  # ready for the next query
    assert results[0] == results[1]
    assert set(results[0]) == {doc for p in postings for doc in p}


@BOUNDED
@given(
    st.lists(st.sampled_from([0.5, 1.0, 1.5, 2.0, -1.0]), max_size=300), st.integers(-1, 320), st.randoms()
)
def test_the_top_k_are_the_pythons_ties_to_the_earlier_passage(scores, k, random):
    """Scores drawn from few values tie often: a tie goes to the smaller passage (or index)."""
    scores = np.array(scores, dtype=np.float64)
    docs = np.array(random.sample(range(10_000), len(scores)), dtype=np.int64)
    for given_docs in (docs, None):
        compiled = np.frombuffer(native.top(scores, given_docs, k), np.int64)
        assert compiled.tolist() == np.frombuffer(native.python_top(scores, given_docs, k), np.int64).tolist()
        assert len(compiled) == max(0, min(k, len(scores)))
        ties = docs if given_docs is not None else np.arange(len(scores))
        assert [(-scores[i], ties[i]) for i in compiled] == sorted((-scores[i], ties[i]) for i in compiled)


@BOUNDED
@given(texts, st.randoms(), st.sampled_from([1, 20, 80, 320]))
def test_snippets_are_the_pythons(text, random, max_chars):
    """The sentence chosen, where it is cut, the ellipses and the merged highlights, as Python's."""
    cuts = sorted({random.randint(0, len(text)) for _ in range(random.randint(0, 8))})
    sentences = tuple((s, e) for s, e in pairwise(cuts) if s < e)
    share = random.choice([0.1, 0.5, 1.0])  # of the words marked: few, half, all (adjacent ones merge)
    marks = [
        (*match.span(), tuple(random.sample("abc", random.randint(1, 2))))
        for match in WORD_RE.finditer(text)
        if random.random() < share
    ]
    weights = {term: random.choice([0.25, 1.0, 1.5, 2.75]) for term in "abc"}
    compiled = native.snippet(text, sentences, marks, weights, max_chars)
    assert compiled == native.python_snippet(text, sentences, marks, weights, max_chars)
    snippet, highlights = compiled
    assert all(0 <= s < e <= len(snippet) for s, e in highlights)


@pytest.mark.parametrize("snippet", [native.snippet, native.python_snippet])
def test_a_neighbour_sentence_joins_when_it_adds_terms_or_the_best_is_short(snippet):
    long = "Mistral raised six hundred million euros in a round led by General Catalyst this June. "
    short = "Mistral raised money. "
    other = "The weather in Paris was mild for the season and nobody complained about it. "
    adds = "Its valuation reached six billion. "
    weights = {"mistral": 1.0, "valuation": 2.0}

    def best(*parts: str) -> str:
        text = "".join(parts)
        bounds = [0]
        for part in parts:
            bounds.append(bounds[-1] + len(part))
        sentences = tuple((s, e - 1) for s, e in pairwise(bounds))
        marks = [(m.start(), m.end(), (m.group().lower(),)) for m in re.finditer(r"Mistral|valuation", text)]
        return snippet(text, sentences, marks, weights, 320)[0]

    assert best(long, other) == long.strip()  # long enough, and the neighbour adds nothing
    assert best(short, other) == (short + other).strip()  # short: a neighbour gives it context
    assert best(long, adds) == (long + adds).strip()  # the neighbour adds a term


def test_the_compiled_loops_refuse_what_they_cannot_read_and_leave_the_buffers_clean():
    lengths, sums, seen = array("d", [5.0] * 4), np.zeros(4), np.zeros(4, dtype=np.uint8)
    first, beyond, tfs = array("i", [0, 1]), array("i", [2, 4]), array("H", [1, 1])

    def score(docs, tfs, seen=seen, scorer=VARIANTS["BM25Plus"], kinds=None, priors=None):
        return native.score(
            docs, tfs, [1.0] * len(docs), lengths, scorer, 5.0, 1.0, 0.0, kinds, priors, sums, seen
        )

    with pytest.raises(IndexError):
        score([first, beyond], [tfs, tfs])
    assert not sums.any() and not seen.any()
    with pytest.raises(ValueError):
        score([first], [array("H", [1, 1, 1])])  # frequencies and docs differ in length
    with pytest.raises(ValueError):
        score([array("q", [0, 1])], [tfs])
    with pytest.raises(ValueError):
        score([first], [tfs], seen=np.zeros(2, dtype=np.uint8))  # seen shorter than lengths
    with pytest.raises(AttributeError):
        score([first], [tfs], scorer=object())
    with pytest.raises(IndexError):
        score([first], [tfs], kinds=bytearray([0, 9, 0, 0]), priors=np.ones(2))  # a kind without a prior
    assert not sums.any() and not seen.any()
    with pytest.raises(ValueError):
        score([first], [tfs], kinds=bytearray(2), priors=np.ones(2))  # fewer kinds than passages
    with pytest.raises(TypeError):
        score([first], [tfs], kinds=bytearray(4))
    with pytest.raises(TypeError):
        native.score([first], [], [], lengths, VARIANTS["BM25Plus"], 5.0, 1.0, 0.0, None, None, sums, seen)
    with pytest.raises(ValueError):
        native.top(np.ones(3), np.arange(2), 2)  # fewer docs than scores
    with pytest.raises(ValueError):
        native.top(np.ones(3, dtype=np.float32), None, 2)
    with pytest.raises(TypeError):
        native.mark_words("text", {}, set(), native.WordHashes())
    with pytest.raises(TypeError):
        native.WordHashes().add(b"bytes")
    with pytest.raises(KeyError):
        native.snippet("a b. c d.", ((0, 4), (5, 9)), [(0, 1, ("x",))], {}, 320)  # a term without a weight
    with pytest.raises(ValueError):
        native.snippet("a b", (), [], {}, 0)
    with pytest.raises(TypeError):
        native.snippet("a b", (), [(0, 1)], {}, 320)
    with pytest.raises(TypeError):
        native.find_words(b"bytes")


def test_without_the_extension_search_gives_the_same_answers(tmp_path):
    """The Python definitions stand in when search._native cannot be imported (no C compiler)."""
    script = """
import json, sys
sys.modules["search._native"] = None  # what a failed build leaves: the import raises ImportError
from search import SearchIndex, load_articles, native
from search.scoring import PRIOR_BY_KIND
assert not native.COMPILED
index = SearchIndex()
index.extend(load_articles("seeds"))
questions = ("valuation", "levée de fonds", "who founded Mistral?")
hits = [h for q in questions for h in index.search(q, 5)]
print(json.dumps([[h.citation.article_id, h.score, h.snippet.text, h.snippet.highlights] for h in hits]))
"""
    root = Path(__file__).resolve().parents[2]
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr
    index = SearchIndex()
    index.extend(load_articles(root / "seeds"))
    compiled = [
        [h.citation.article_id, h.score, h.snippet.text, [list(span) for span in h.snippet.highlights]]
        for q in ("valuation", "levée de fonds", "who founded Mistral?")
        for h in index.search(q, 5)
    ]
    assert json.loads(run.stdout) == compiled and compiled
