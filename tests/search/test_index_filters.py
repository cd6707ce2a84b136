"""Filters applied inside the search (before diversity) and the newest articles, on small real articles."""

from __future__ import annotations

import datetime as dt

import pytest

from search import SearchIndex, parse_article
from search.query import parse_query

ARTICLES = (
    (
        "date 2024-02-26\nMistral partners with Microsoft\n\nMistral AI and Microsoft sign a partnership for Azure.",
        "wire",
        "en",
    ),
    (
        "date 2024-03-05\nMistral et Microsoft\n\nMistral AI signe un partenariat avec Microsoft pour Azure.",
        "lemonde",
        "fr",
    ),
    (
        "date 2024-06-11\nMistral raises money\n\nMistral AI raises 600 million euros; Microsoft is not in the round.",
        "wire",
        "en",
    ),
    (
        "date 2024-07-01\nLe Chat gets an app\n\nMistral AI ships its le chat assistant on the phones of the world, and Microsoft is watching the launch of the app.",
        "daily byte",
        "en",
    ),
)


@pytest.fixture
def index() -> SearchIndex:
    built = SearchIndex()
    for n, (text, outlet, _) in enumerate(ARTICLES):
        built.add(parse_article(text, f"{n}.txt").model_copy(update={"outlet": outlet}))
    return built


def titles(index: SearchIndex, query: str) -> list[str]:
    parsed = parse_query(query)
    return sorted(
        {hit.citation.title for hit in index.search(parsed.words, limit=10, filters=parsed.filters)}
    )


def test_without_filters_every_article_naming_microsoft_comes_back(index):
    assert len(titles(index, "Microsoft")) == 4


def test_language_source_dates_and_phrases_narrow_the_results(index):
    assert titles(index, "Microsoft lang:fr") == ["Mistral et Microsoft"]
    assert titles(index, "Microsoft source:wire") == [
        "Mistral partners with Microsoft",
        "Mistral raises money",
    ]
    assert titles(index, "Microsoft source:byte") == ["Le Chat gets an app"]
    assert titles(index, "Microsoft after:2024-06-11 before:2024-07-01") == ["Mistral raises money"]
    assert titles(index, 'Microsoft "le chat"') == ["Le Chat gets an app"]


def test_filters_keep_the_limit_filled_before_diversity(index):
    parsed = parse_query("Microsoft lang:en")
    assert len(index.search(parsed.words, limit=3, filters=parsed.filters)) == 3


def test_newest_first_filtered(index):
    newest = index.newest(2)
    assert [a.date for a in newest] == [dt.date(2024, 7, 1), dt.date(2024, 6, 11)]
    assert [a.title for a in index.newest(5, parse_query("lang:fr").filters)] == ["Mistral et Microsoft"]
