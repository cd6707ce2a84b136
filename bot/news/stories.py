"""The stories the pipeline knows: which known article a new one tells again (search/judgement/stories.py
decides), in either language.

Only articles published within `MAX_DAYS` of each other can be one story, so the story features are read
by date, when first needed: the first article dated D reads the articles dated within `WINDOW_DAYS` of D
(once; at most `MAX_READ` of them, the nearest in date first), from the search index in a server, from
the store for the command line. A start reads nothing. A paragraph found word for word in at least three of the articles read, published more than
`MAX_DAYS` apart, is boilerplate (an outlet's "About" paragraph, a template, a live page's header) and
is left out of the articles read after it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.stores.articles import article_of
from bot.stores.types import Articles
from search import Article, SearchIndex
from search.judgement.stories import (
    BOILERPLATE_CHARS,
    MAX_DAYS,
    Decision,
    StoryIndex,
    StoryReader,
    paragraph_key,
)

log = logging.getLogger(__name__)

WINDOW_DAYS = 30  # around a date: enough to see a template's paragraph in articles weeks apart
MAX_READ = 5000  # articles read for one window: a desk of one subject gets far fewer in two months
BOILERPLATE_AT_LEAST = 3


@dataclass
class _Seen:
    count: int
    first: int
    last: int


@dataclass(frozen=True)
class Found:
    article_id: str  # the known article the new one tells again
    decision: Decision


# The articles dated from the first date to the last, both included (None, None: the undated ones).
Dated = Callable[[dt.date | None, dt.date | None], Iterable[Article]]


def dated_in_index(index: SearchIndex) -> Dated:
    return lambda first, last: filter(None, map(index.get, index.dated_between(first, last)))


def dated_in_store(articles: Articles) -> Dated:
    return lambda first, last: map(article_of, articles.dated_between(first, last))


class Stories:
    """The story index of the articles around the dates asked about. Not thread-safe: the pipeline
    calls it under its lock."""

    def __init__(self, dated: Dated, reader: StoryReader) -> None:
        self.dated = dated
        self.reader = reader
        self._stories = StoryIndex()
        self._days: set[int] = set()  # days whose articles are read (0: the undated ones)
        self._paragraphs: dict[str, _Seen] = {}

    def __len__(self) -> int:
        return len(self._stories)

    def find(self, article: Article) -> Found | None:
        """The known article whose story `article` tells, the most alike; None for a new story."""
        self._read_around(day_of(article))
        features = self.reader.read(article, self._boilerplate(article))
        found = self._stories.find(features)
        return Found(*found) if found else None

    def add(self, article: Article) -> None:
        """Know `article`, when its day is among those read (a later `find` reads it otherwise)."""
        if day_of(article) in self._days:
            self._count_paragraphs(article)
            self._read_features(article)

    def remove(self, article_id: str) -> None:
        self._stories.remove(article_id)

    def _read_around(self, day: int) -> None:
        """Read the articles dated within `WINDOW_DAYS` of `day` not read yet (`day` 0: the undated)."""
        wanted = {0} if day == 0 else set(range(day - WINDOW_DAYS, day + WINDOW_DAYS + 1))
        wanted -= self._days
        if not wanted:
            return
        first, last = (None, None) if day == 0 else (min(wanted), max(wanted))
        found = self.dated(
            dt.date.fromordinal(first) if first else None, dt.date.fromordinal(last) if last else None
        )
        self._days |= wanted
        articles = [a for a in found if day_of(a) in wanted]
        if len(articles) > MAX_READ:
            log.info(
                "%d articles dated within %d days of %s: the %d nearest in date are read for their stories",
                len(articles),
                WINDOW_DAYS,
                dt.date.fromordinal(day) if day else "undated",
                MAX_READ,
            )
            articles = sorted(articles, key=lambda a: abs(day_of(a) - day))[:MAX_READ]
        for article in articles:  # every paragraph counted before any article is read without its boilerplate
            self._count_paragraphs(article)
        for article in articles:
            self._read_features(article)

    def _read_features(self, article: Article) -> None:
        self._stories.add(self.reader.read(article, self._boilerplate(article)))

    def _count_paragraphs(self, article: Article) -> None:
        day = day_of(article)
        for key in _keys(article):
            seen = self._paragraphs.get(key)
            if seen is None:
                self._paragraphs[key] = _Seen(1, day, day)
            else:
                seen.count += 1
                seen.first, seen.last = min(seen.first, day), max(seen.last, day)

    def _boilerplate(self, article: Article) -> frozenset[str]:
        found = []
        for key in _keys(article):
            seen = self._paragraphs.get(key)
            if seen and seen.count >= BOILERPLATE_AT_LEAST and seen.last - seen.first > MAX_DAYS:
                found.append(key)
        return frozenset(found)


def day_of(article: Article) -> int:
    return article.date.toordinal() if article.date else 0


def _keys(article: Article) -> Iterable[str]:
    return {key for p in article.passages if len(key := paragraph_key(p.text)) > BOILERPLATE_CHARS}
