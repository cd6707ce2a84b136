"""A new article against a watch: every word of it (stems and accents aside), its filters, the bar."""

from __future__ import annotations

from search import SearchIndex, parse_article
from search.asking import article_terms, matches
from search.query import parse_query

FUNDING = "date 2024-06-11\nMistral AI raises money\n\nMistral AI raised 600 million euros from investors."
OFFICE = "date 2024-03-01\nMistral opens an office\n\nMistral AI opened an office in Singapore."
FRENCH = "date 2024-06-12\nMistral lève des fonds\n\nMistral AI a levé 600 millions d'euros auprès des investisseurs."


def indexed(*texts):
    index = SearchIndex()
    articles = [parse_article(text, f"{n}.txt") for n, text in enumerate(texts)]
    for article in articles:
        index.add(article)
    return index, articles


def test_every_word_must_be_in_the_article_in_any_form():
    index, (funding, office, _) = indexed(FUNDING, OFFICE, FRENCH)
    watch = parse_query("Mistral raising")
    assert matches(index, watch, funding)  # raises / raising: one stem
    assert not matches(index, watch, office)  # names Mistral, but raises nothing
    assert matches(index, parse_query("SINGAPORE"), office, article_terms(index, office))


def test_filters_and_filters_alone():
    index, (funding, _, french) = indexed(FUNDING, OFFICE, FRENCH)
    assert not matches(index, parse_query("Mistral lang:fr"), funding)
    assert matches(index, parse_query("Mistral lang:fr"), french)
    assert matches(index, parse_query("lang:fr"), french)
    assert matches(index, parse_query('"600 million euros"'), funding)
    assert not matches(index, parse_query('"600 euros"'), funding)
    assert not matches(index, parse_query("Mistral before:2024-06-01"), funding)


def test_words_unknown_to_the_index_match_nothing():
    index, (funding, *_) = indexed(FUNDING, OFFICE)
    assert not matches(index, parse_query("quibbleflap"), funding)
