"""The stories the pipeline knows: which known article a new one tells again (search/judgement/stories.py
decides), in either language.

Only articles published within `MAX_DAYS` of each other can be one story, so the articles are read by
date, when first needed: the first article dated D counts the paragraphs of the articles dated within
`WINDOW_DAYS` of D and reads the story features of those within `MAX_DAYS` (once; at most `MAX_READ`
articles, the nearest in date first), from the search index in a server, from the store for the command
line. A server reads the window around today once it has started (`Pipeline.read_around_today`, in the
background), so that the first article of the day does not wait for it. A paragraph found word for word
in at least three of the articles counted, published more than `MAX_DAYS` apart, is boilerplate (an
outlet's "About" paragraph, a template, a live page's header) and is left out of the articles read after
it.
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
    calls it under its lock.

    Two windows around a date: its paragraphs are counted over `WINDOW_DAYS` (a template is seen in
    articles weeks apart), and the story features, which cost more to read, only over `MAX_DAYS` (no
    article further away can be the same story)."""

    def __init__(self, dated: Dated, reader: StoryReader) -> None:
        self.dated = dated
        self.reader = reader
        self._stories = StoryIndex()
        self._counted: set[int] = set()  # days whose paragraphs are counted (0: the undated ones)
        self._read: set[int] = set()  # days whose articles' features are in the story index
        self._paragraphs: dict[str, _Seen] = {}

    def __len__(self) -> int:
        return len(self._stories)

    def find(self, article: Article) -> Found | None:
        """The known article whose story `article` tells, the most alike; None for a new story."""
        day = day_of(article)
        self._count_around(day)
        self._read_around(day)
        features = self.reader.read(article, self._boilerplate(_keys(article)))
        found = self._stories.find(features)
        return Found(*found) if found else None

    def read_around(self, date: dt.date) -> None:
        """Count and read the window around `date` now, as the first `find` of that date would."""
        self._count_around(date.toordinal())
        self._read_around(date.toordinal())

    def add(self, article: Article) -> None:
        """Know `article`, when its day is among those counted or read (a later `find` reads it
        otherwise)."""
        day = day_of(article)
        keys = _keys(article)
        if day in self._counted:
            self._count(keys, day)
        if day in self._read:
            self._stories.add(self.reader.read(article, self._boilerplate(keys)))

    def remove(self, article_id: str) -> None:
        self._stories.remove(article_id)

    def _count_around(self, day: int) -> None:
        """Count the paragraphs of the articles dated within `WINDOW_DAYS` of `day` not counted yet."""
        for article in self._dated_around(day, WINDOW_DAYS, self._counted):
            self._count(_keys(article), day_of(article))

    def _read_around(self, day: int) -> None:
        """Read the features of the articles dated within `MAX_DAYS` of `day` not read yet, each without
        its boilerplate (the paragraphs around are counted first)."""
        for article in self._dated_around(day, MAX_DAYS, self._read):
            self._stories.add(self.reader.read(article, self._boilerplate(_keys(article))))

    def _dated_around(self, day: int, days: int, done: set[int]) -> list[Article]:
        """The articles dated within `days` of `day` (`day` 0: the undated) on days not in `done`, which
        they join; at most `MAX_READ`, the nearest in date."""
        wanted = {0} if day == 0 else set(range(day - days, day + days + 1))
        wanted -= done
        if not wanted:
            return []
        first, last = (None, None) if day == 0 else (min(wanted), max(wanted))
        found = self.dated(
            dt.date.fromordinal(first) if first else None, dt.date.fromordinal(last) if last else None
        )
        done |= wanted
        articles = [a for a in found if day_of(a) in wanted]
        if len(articles) > MAX_READ:
            log.info(
                "%d articles dated within %d days of %s: the %d nearest in date are read for their stories",
                len(articles),
                days,
                dt.date.fromordinal(day) if day else "undated",
                MAX_READ,
            )
            articles = sorted(articles, key=lambda a: abs(day_of(a) - day))[:MAX_READ]
        return articles

    def _count(self, keys: frozenset[str], day: int) -> None:
        for key in keys:
            seen = self._paragraphs.get(key)
            if seen is None:
                self._paragraphs[key] = _Seen(1, day, day)
            else:
                seen.count += 1
                seen.first, seen.last = min(seen.first, day), max(seen.last, day)

    def _boilerplate(self, keys: frozenset[str]) -> frozenset[str]:
        found = []
        for key in keys:
            seen = self._paragraphs.get(key)
            if seen and seen.count >= BOILERPLATE_AT_LEAST and seen.last - seen.first > MAX_DAYS:
                found.append(key)
        return frozenset(found)


def day_of(article: Article) -> int:
    return article.date.toordinal() if article.date else 0


def _keys(article: Article) -> frozenset[str]:
    return frozenset(key for p in article.passages if len(key := paragraph_key(p.text)) > BOILERPLATE_CHARS)
