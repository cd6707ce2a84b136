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


def matches(index: SearchIndex, query: ParsedQuery, article: Article) -> bool:
    filters = query.filters
    outlet = article.outlet or article.source
    if filters and not filters.accepts_article(language=article.language, date=article.date, outlet=outlet):
        return False
    text = f"{article.title}\n{article.text}"
    if not filters.accepts_text(text):
        return False
    if not query.words:
        return bool(filters)
    if index.coverage(query.words) < index.min_coverage:
        return False
    terms = set(index.analyzer.terms(text, article.language))
    words = index.analyzer.query_words(query.words)
    return bool(words) and all(not terms.isdisjoint(word.terms) for word in words)
