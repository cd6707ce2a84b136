"""From a question's text to what answers it: search hits, or the newest articles.

One way for every surface (Slack's command and mentions, `python -m bot search`), so that filters
(`lang:fr`, `source:`, `after:`, `"a phrase"`) and `latest` mean the same everywhere.

`matches` is the same search turned around, for a channel's watch: whether one new article answers a
standing query. The query must clear the index's "nothing found" bar (its coverage), the article must
pass the query's filters, and every word of the query must be in the article (by its index terms: stems,
accents and case aside). "Every word" keeps a watch on `mistral funding` from posting every article
that names Mistral.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from search.index import SearchIndex
from search.judgement.subject import SubjectJudge
from search.models import Article, Citation, Hit
from search.query import Filters, ParsedQuery, clean_query, parse_query

LATEST_SIZE = 10
LATEST_POOL = 50  # `latest WORDS`: the newest among this many best matches
_LATEST_RE = re.compile(r"^(?:latest|newest)(?:\s+(.*))?$", re.IGNORECASE | re.DOTALL)
_MARKUP_RE = re.compile(r"<[^<>]*>")


@dataclass(frozen=True)
class Answer:
    """`hits` for a search (a page of them, `more` when another page exists); `latest` (newest first)
    for `latest [WORDS]` or a query of filters alone; neither when nothing matches."""

    query: str
    hits: list[Hit] = field(default_factory=list)
    latest: list[Citation] | None = None
    more: bool = False
    off_subject: str | None = None  # why the question is not about the desk's subject (nothing is searched)


def search_words(query: str) -> str:
    """The query without chat markup: a mention (`<@U123>`, `<!channel>`) or a link (`<url|label>`) is
    not a word of the question, and must not count as an unknown one in the "nothing found" test."""
    return " ".join(_MARKUP_RE.sub(" ", query).split())


def ask(
    index: SearchIndex, text: str, *, limit: int, offset: int = 0, judge: SubjectJudge | None = None
) -> Answer:
    """The answer to `text` from result `offset + 1`; QueryError for a query that cannot be read.
    With a `judge`, a question that is not about its subject gets nothing, and why (`off_subject`)."""
    latest = _LATEST_RE.match(text.strip())
    if latest:
        rest = latest.group(1) or ""
        query = clean_query(rest) if rest.strip() else ""
        parsed = parse_query(search_words(query))
        return Answer(query, latest=newest(index, parsed.words, parsed.filters))
    query = clean_query(text)
    parsed = parse_query(search_words(query))
    if not parsed.words:
        if parsed.filters and not offset:
            return Answer(query, latest=newest(index, "", parsed.filters))
        return Answer(query)
    if judge is not None and (reason := judge.off_subject(parsed.words)):
        return Answer(query, off_subject=reason)
    hits = index.search(parsed.words, limit=offset + limit + 1, filters=parsed.filters or None)
    return Answer(query, hits[offset : offset + limit], more=len(hits) > offset + limit)


def newest(index: SearchIndex, words: str, filters: Filters) -> list[Citation]:
    """The newest articles: among the best matches of `words` when given, else among all; filtered."""
    if not words:
        return [article.citation for article in index.newest(LATEST_SIZE, filters or None)]
    hits = index.search(words, limit=LATEST_POOL, filters=filters or None)
    citations = list({hit.citation.article_id: hit.citation for hit in hits}.values())
    return index.newest_first(citations)[:LATEST_SIZE]


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
