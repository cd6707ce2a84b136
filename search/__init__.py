"""Search over news articles: loading, text analysis, a BM25 index, snippets and summaries.

A pure library: it knows nothing of Slack.
"""

from search.analysis import Analyzer, detect_language
from search.index import SearchIndex
from search.loader import load_article, load_articles, parse_article
from search.models import Article, Citation, Hit, Passage, Snippet
from search.query import MAX_QUERY_CHARS, QueryError, clean_query
from search.summary import Summarizer

__all__ = [
    "MAX_QUERY_CHARS",
    "Analyzer",
    "Article",
    "Citation",
    "Hit",
    "Passage",
    "QueryError",
    "SearchIndex",
    "Snippet",
    "Summarizer",
    "clean_query",
    "detect_language",
    "load_article",
    "load_articles",
    "parse_article",
]
