"""Whether one new article answers a standing query (a channel's watch).

The same search as a question, turned around: the query must clear the index's "nothing found" bar
(its coverage), the article must pass the query's filters, and every word of the query must be in
the article (by its index terms: stems, accents and case aside). "Every word" keeps a watch on
`mistral funding` from posting every article that names Mistral.
"""

from __future__ import annotations

from search.filters import ParsedQuery
from search.index import SearchIndex
from search.models import Article


def article_terms(index: SearchIndex, article: Article) -> frozenset[str]:
    """The index terms of an article's title and text: computed once, matched against every watch."""
    return frozenset(index.analyzer.terms(f"{article.title}\n{article.text}", article.language))


def matches(
    index: SearchIndex, query: ParsedQuery, article: Article, terms: frozenset[str] | None = None
) -> bool:
    """Whether `article` answers `query`; `terms` are its `article_terms` when already known."""
    filters = query.filters
    outlet = article.outlet or article.source
    if filters and not filters.accepts_article(language=article.language, date=article.date, outlet=outlet):
        return False
    if not filters.accepts_text(f"{article.title}\n{article.text}"):
        return False
    if not query.words:
        return bool(filters)
    words = index.analyzer.query_words(query.words)
    if not words:
        return False
    terms = article_terms(index, article) if terms is None else terms
    if not all(not terms.isdisjoint(word.terms) for word in words):
        return False
    return index.coverage(query.words) >= index.min_coverage
