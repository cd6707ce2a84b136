"""Filters typed in a query: parsed once, every bad one answered with what is accepted."""

import datetime as dt

import pytest

from search.query import Filters, QueryError, comparable, parse_query


def test_free_words_and_every_filter_are_separated():
    parsed = parse_query(
        'valuation source:Le-Monde lang:fr after:2024-01-01 before:2024-07-01 "Arthur Mensch" CEO'
    )
    assert parsed.words == "valuation Arthur Mensch CEO"
    assert parsed.filters == Filters(
        outlets=("le-monde",),
        language="fr",
        after=dt.date(2024, 1, 1),
        before=dt.date(2024, 7, 1),
        phrases=("arthur mensch",),
    )


def test_a_query_without_filters_is_its_words():
    parsed = parse_query("who founded Mistral?")
    assert parsed.words == "who founded Mistral?" and not parsed.filters


def test_typographic_quotes_make_a_phrase_and_an_unclosed_quote_is_a_word():
    assert parse_query("« Le Chat »").filters.phrases == ("le chat",)
    assert parse_query("“Le Chat” app").words == "Le Chat app"
    unclosed = parse_query('"Le Chat')
    assert unclosed.words == "Le Chat" and not unclosed.filters


def test_a_word_with_a_colon_that_is_no_filter_stays_a_word():
    assert parse_query("mistral:7b resource:x").words == "mistral:7b resource:x"


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("lang:de", "lang:de"),
        ("after:yesterday", "after:yesterday"),
        ("before:2024-13-01", "before:2024-13-01"),
        ("source:", "source:"),
        ("after:2024-06-01 before:2024-01-01", "is not before"),
    ],
)
def test_a_bad_filter_says_what_is_accepted(query, named):
    with pytest.raises(QueryError) as raised:
        parse_query(f"valuation {query}")
    assert named in str(raised.value) and "lang:en" in str(raised.value) and "YYYY-MM-DD" in str(raised.value)


def test_dates_include_after_and_exclude_before_and_undated_articles_never_pass():
    filters = parse_query("after:2024-01-01 before:2024-02-01").filters
    accepts = [
        filters.accepts_article(language="en", date=d, outlet="x")
        for d in (dt.date(2023, 12, 31), dt.date(2024, 1, 1), dt.date(2024, 1, 31), dt.date(2024, 2, 1), None)
    ]
    assert accepts == [False, True, True, False, False]


def test_outlet_and_language_compare_without_case_or_accents():
    filters = parse_query("source:lemonde source:Liberation lang:french").filters
    assert filters.accepts_article(language="fr", date=None, outlet="Libération")
    assert filters.accepts_article(language="fr", date=None, outlet="lemonde.fr")
    assert not filters.accepts_article(language="en", date=None, outlet="Libération")
    assert not filters.accepts_article(language="fr", date=None, outlet="Les Échos")


def test_a_phrase_must_appear_as_written_spacing_case_and_accents_aside():
    filters = parse_query('"levée de fonds"').filters
    assert filters.accepts_text("Mistral annonce une LEVEE  de\nfonds record.")
    assert not filters.accepts_text("Une levée record de fonds.")


def test_comparable_folds():
    assert comparable("  Le  MONDE\tÉco ") == "le monde eco"
