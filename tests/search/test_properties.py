"""Property-based tests: random and hostile text through the loader, the analyzer, query cleaning,
summaries, snippets and search. No exception escapes but the documented ones, the invariants hold.

Examples are bounded (sizes and counts); hostile ones repeat the fragments that once made the code
quadratic or backtrack, so a regression shows as a run that does not end rather than as a timing figure.
"""

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search import Analyzer, QueryError, Summarizer, clean_query, parse_article
from search.analysis import Token
from search.loader import ArticleFileError, normalise
from search.query import MAX_QUERY_CHARS
from search.summary import HEADLINE_CHARS, MAX_SNIPPET_CHARS, make_snippet
from search.words import WORD_RE, word_patterns

BOUNDED = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SUMMARIZER = Summarizer(Analyzer())

# What articles are made of, and what once made the parser slow: dates, credits, dashes, list marks,
# quotes, handles, links, abbreviations, numbers and currencies, elisions, control characters.
FRAGMENTS = [
    "date 2024-01-01 ",
    "date 2024-13-45 ",
    "(Photo: AFP)",
    "(a/",
    "(Getty Images)",
    "– Global Business –",
    "- ",
    "• ",
    "1) ",
    "« ",
    "“",
    "» ",
    '"',
    "(@MistralAI) February 26, 2024",
    "https://t.co/x ",
    "pic.twitter.com/y",
    "M. ",
    "Mr. ",
    "Arthur Mensch – ",
    "By Jane Doe",
    "par ",
    "Mistral AI",
    "mistral",
    "Le Chat",
    "l'IA ",
    "d’euros ",
    "Mistral's ",
    "$2 billion",
    "€",
    "2,5 milliards",
    "1,000",
    "1.1.",
    "105 millions",
    "Microsoft-backed ",
    "a-b-c",
    ". ",
    "? ",
    "! ",
    "…",
    ";",
    ":",
    " ",
    "  ",
    "\t",
    "\n",
    "\n\n",
    "\r\n",
    "\n \n",
    "\u00a0",
    "\u2028",
    "\ufeff",
    "\x00",
    "\x07",
    "é",
    "É",
    "ﷺ",
    "ß",
    "İ",
    "the ",
    "le ",
    "and ",
    "qui ",
    "Monday ",
    "2024",
    "a",
    "A",
]

fragments = st.sampled_from(FRAGMENTS)
article_text = st.one_of(
    st.text(max_size=2000),
    st.lists(st.one_of(fragments, st.text(max_size=30)), max_size=200).map("".join),
    # A fragment repeated many times: the shape of input that made a pattern backtrack.
    st.tuples(st.lists(fragments, min_size=1, max_size=4).map("".join), st.integers(1, 3000)).map(
        lambda pair: pair[0] * pair[1]
    ),
)
queries = st.one_of(
    st.text(max_size=600),
    st.lists(fragments, max_size=40).map("".join),
    st.lists(
        st.sampled_from(["Mistral", "valuation", "Microsoft", "Le Chat", "levée", "$", "2"]), max_size=8
    ).map(" ".join),
)


def parsed(text: str):
    """The article in `text`, or None when the loader refuses it with its documented error."""
    try:
        return parse_article(text, "random.txt")
    except ArticleFileError:
        return None


@BOUNDED
@given(article_text)
def test_the_loader_parses_any_text_into_a_well_formed_article(text):
    article = parsed(text)
    if article is None:
        assert not normalise(text).strip()
        return
    assert len(article.id) == 16
    assert article.language in ("en", "fr")
    assert article.title and len(article.title) <= 200
    for position, passage in enumerate(article.passages):
        assert passage.position == position and passage.article_id == article.id
        assert passage.text.strip()
        previous_end = 0
        for start, end in passage.sentences:
            assert previous_end <= start < end <= len(passage.text)
            previous_end = end
    assert parse_article(article.text, article.source) == article


@BOUNDED
@given(article_text, st.sampled_from(["en", "fr"]))
def test_the_analyzer_gives_terms_tokens_and_marks_for_any_text(text, language):
    analyzer = Analyzer()
    terms = analyzer.terms(text, language)
    assert all(isinstance(term, str) and term for term in terms)
    tokens = analyzer.tokens(text, language)
    assert [t for token in tokens for t in token.terms] == terms
    previous_end = 0
    for token in tokens:
        assert previous_end <= token.start < token.end <= len(text)
        previous_end = token.end
    wanted = set(terms[::3])
    marks = analyzer.marks(text, language, wanted)
    assert all(mark.terms and set(mark.terms) <= wanted for mark in marks)
    assert {(m.start, m.end) for m in marks} <= {(t.start, t.end) for t in tokens}


@BOUNDED
@given(article_text, st.sampled_from(["en", "fr"]), st.integers(1, 5))
def test_marks_are_the_tokens_that_give_a_wanted_term(text, language, step):
    """`marks` finds words by set operations on a cache: the same words, spans and terms as the tokens."""
    analyzer = Analyzer()
    assert WORD_RE.findall(text) == word_patterns(text)[0].findall(text)
    wanted = set(analyzer.terms(text[: len(text) // 2], language)[::step])
    expected = [
        Token(token.start, token.end, tuple(t for t in token.terms if t in wanted))
        for token in Analyzer().tokens(text, language)
        if wanted.intersection(token.terms)
    ]
    assert analyzer.marks(text, language, wanted) == expected
    assert Analyzer().marks(text, language, wanted) == expected  # with an empty cache too


@BOUNDED
@given(article_text, article_text, st.sampled_from(["en", "fr"]))
def test_one_marker_marks_every_text_of_a_query(first, second, language):
    """A query's marker keeps what it learns: a word first seen in one hit is marked in the next."""
    analyzer = Analyzer()
    analyzer.terms(first[: len(first) // 3], language)  # some words known before the query
    wanted = set(analyzer.terms(first + " " + second, language)[::2])
    marker = analyzer.marker(wanted)
    for text in (first, second, first):
        expected = [
            Token(token.start, token.end, tuple(t for t in token.terms if t in wanted))
            for token in Analyzer().tokens(text, language)
            if wanted.intersection(token.terms)
        ]
        assert marker.marks(text, language) == expected


@BOUNDED
@given(queries)
def test_query_terms_and_cleaning_accept_any_query(query):
    terms = Analyzer().query_terms(query)
    assert all(isinstance(term, str) and term for term in terms)
    try:
        cleaned = clean_query(query)
    except QueryError as error:
        assert str(error)
        return
    assert cleaned == cleaned.strip() and 0 < len(cleaned) <= MAX_QUERY_CHARS
    assert "  " not in cleaned and "\n" not in cleaned and "\x00" not in cleaned


@BOUNDED
@given(article_text)
def test_summaries_of_any_article_fit_their_lengths(text):
    article = parsed(text)
    if article is None:
        return
    summary = SUMMARIZER.summarize(article)
    assert isinstance(summary, str) and len(summary) <= 500
    assert len(SUMMARIZER.headline_summary(article)) <= HEADLINE_CHARS


@BOUNDED
@given(article_text, queries)
def test_a_snippet_of_any_passage_keeps_its_highlights_inside(text, query):
    article = parsed(text)
    if article is None or not article.passages:
        return
    analyzer = Analyzer()
    wanted = set(analyzer.query_terms(query)) | set(analyzer.terms(text[:200], article.language)[:3])
    for passage in article.passages[:20]:
        marks = analyzer.marks(passage.text, article.language, wanted)
        snippet = make_snippet(passage, marks, dict.fromkeys(wanted, 1.0))
        assert len(snippet.text) <= MAX_SNIPPET_CHARS + 2  # and its two ellipses
        previous_end = 0
        for start, end in snippet.highlights:
            assert previous_end <= start < end <= len(snippet.text)
            previous_end = end


@FEW
@given(queries, st.integers(1, 10))
def test_search_answers_any_query_or_says_why_not(seed_index, query, limit):
    try:
        hits = seed_index.search(query, limit=limit)
    except QueryError as error:
        assert str(error)
        return
    assert len(hits) <= limit
    for hit in hits:
        assert math.isfinite(hit.score)
        for start, end in hit.snippet.highlights:
            assert 0 <= start < end <= len(hit.snippet.text)
        assert set(hit.terms) <= set(seed_index.query_weights(clean_query(query)))


@pytest.fixture(scope="module")
def hostile_index():
    """The seeds' index, to which random articles are added as the properties run."""
    from search import SearchIndex

    return SearchIndex()


@FEW
@given(article_text, queries)
def test_random_articles_can_be_indexed_searched_and_removed(hostile_index, text, query):
    article = parsed(text)
    if article is None:
        return
    added = hostile_index.add(article)
    try:
        hits = hostile_index.search(query, limit=5)
    except QueryError:
        hits = []
    assert all(hit.citation.article_id in hostile_index for hit in hits)
    if added:
        assert hostile_index.remove(article.id)
    assert article.id not in hostile_index
