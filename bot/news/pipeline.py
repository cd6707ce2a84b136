"""The one ingest pipeline: every source (folder, `ingest FILE`, feeds, links) hands it a RawArticle.

parse -> same URL or same text? -> near-copy of a known story? -> store (with the announcement
decision) -> index -> wake the notifier. A near-copy is stored and indexed (searchable, citable) but
not announced: the story's announcement names its outlet instead ("Also reported by ...").
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bot.news.saved_index import came_back_empty, open_near_copies
from bot.stores.articles import article_of
from bot.stores.store import Store
from bot.stores.types import (
    CHANGES_KEEP_ROWS,
    CHANGES_KEEP_SECONDS,
    ChangesPruned,
    Origin,
    RecordOutcome,
    StoredArticle,
)
from search import Article, SearchIndex, parse_article
from search.dedupe import NearDuplicates
from search.models import DateSource

log = logging.getLogger(__name__)

PRUNE_EVERY_SECONDS = 3600.0  # how often a running app prunes the change log (any replica may)

Outcome = RecordOutcome | Literal["copy"]


@dataclass(frozen=True)
class RawArticle:
    """What a source found. Files give their whole text; web sources their body and metadata."""

    text: str
    source: str  # the folder-relative path, `file:NAME`, or the URL
    origin: Origin
    url: str | None = None
    title: str | None = None
    outlet: str | None = None
    date: dt.date | None = None
    date_source: DateSource | None = None

    def article_text(self) -> str:
        """The text as an article file holds it: date marker, headline, paragraphs."""
        if self.origin in ("folder", "file") or not self.title:
            return self.text
        marker = f"date {self.date.isoformat()}\n" if self.date else ""
        return f"{marker}{self.title}\n\n{self.text}"


@dataclass(frozen=True)
class Recorded:
    outcome: Outcome  # "copy": a new article of a story already known (indexed, not announced)
    article: Article
    known: StoredArticle | None = None  # for "known"/"removed"/"copy": the article it matches
    announced: bool = False

    @property
    def article_id(self) -> str:
        return self.known.id if self.outcome in ("known", "removed") and self.known else self.article.id


def dedupe_text(article: Article) -> str:
    return article.text


class Pipeline:
    """Parse, dedupe, store, index, announce; shared by every source. Thread-safe."""

    def __init__(
        self,
        store: Store,
        index: SearchIndex,
        *,
        duplicates: NearDuplicates | None = None,
        on_added: Callable[[str], None] | None = None,
        today: Callable[[], dt.date] = lambda: dt.datetime.now(dt.UTC).date(),
    ) -> None:
        self.store = store
        self.index = index
        self.duplicates = duplicates if duplicates is not None else NearDuplicates()
        self.on_added = on_added
        self.today = today
        self._lock = threading.Lock()
        self._mark = 0  # the last change of the store's change log the index has followed
        # After the store came back empty: the ids the app knew, never announced again (see `take_loss`).
        self.known_before_loss: frozenset[str] | None = None
        self._next_prune = 0.0  # when `prune_changes` prunes next (time.monotonic)

    def load_duplicates(self, since: int | None = None, *, saved_in: Path | None = None) -> int:
        """Know every active article's text, and follow the store from change `since` on (see
        `sync`; by default from now): the mark read before the index was, so nothing falls between.

        With `saved_in` (the saved index's folder), the signatures saved there are read and only the
        texts they lack (see bot/news/saved_index.py). How many texts were read."""
        self._mark = self.store.articles.last_change() if since is None else since
        if saved_in is not None:
            return open_near_copies(self.store, saved_in, self.duplicates)
        active = self.store.articles.active_articles()
        for stored in active:
            self.duplicates.add(stored.id, stored.text)
        return len(active)

    def compose(self, raw: RawArticle) -> Article:
        article = parse_article(raw.article_text(), raw.source)
        update: dict = {"url": raw.url, "outlet": raw.outlet}
        if raw.title:
            update["title"] = raw.title
        if article.date is not None:
            update["date_source"] = raw.date_source or "text"
        return article.model_copy(update=update)

    def ingest(self, raw: RawArticle, *, announce: bool | None = None) -> Recorded:
        return self.record(self.compose(raw), origin=raw.origin, announce=announce)

    def record(self, article: Article, *, origin: Origin, announce: bool | None = None) -> Recorded:
        """Store and index `article` unless known; announce it when new, not a copy, and `announce`
        (by default: once the app has made its first start on this store).

        An undated article that is news (announced) is dated the day it was first seen; one of the
        starting library stays undated: its day of arrival says nothing of when it was published."""
        with self._lock:
            if article.url:
                known = self.store.articles.by_url(article.url)
                if known is not None:
                    return Recorded("removed" if known.taken_down_at else "known", article, known)
            story = self._story_of(article)
            announce = self._announces(article) if announce is None else announce
            if article.date is None and announce:
                article = article.model_copy(update={"date": self.today(), "date_source": "first_seen"})
            result = self.store.articles.record(
                article,
                announce=announce,
                origin=origin,
                story=story.story_id if story else None,
                unsure=self.known_before_loss is not None,
            )
            if result.outcome in ("known", "removed"):
                return Recorded(result.outcome, article, self.store.articles.get(article.id))
            if result.replaced_id:
                self.index.remove(result.replaced_id)
                self.duplicates.remove(result.replaced_id)
            self.index.add(article)
            self.duplicates.add(article.id, dedupe_text(article))
        if story is not None:
            log.info(
                "%s (%s) is a copy of the story of %s: indexed, not announced",
                article.id,
                article.outlet,
                story.id,
            )
        if result.outcome == "added" and self.on_added:
            self.on_added(article.id)
        if story is not None:
            return Recorded("copy", article, story)
        return Recorded(result.outcome, article, announced=announce and result.outcome == "added")

    def _announces(self, article: Article) -> bool:
        """A new article is news once the app has made its first start on this store; after the store
        came back empty, unless the app knew it before."""
        if self.known_before_loss is not None:
            return article.id not in self.known_before_loss
        return self.store.articles.baseline_done()

    def take_loss(self) -> bool:
        """When the store came back empty while the index still lists what the app knew (deleted, or
        replaced by an empty file): those articles are never announced again (they were announced, or
        the library), and each one recorded from now on that the app did not know is announced once,
        after a look at the channel's history. True when the store came back empty."""
        if not came_back_empty(self.store, self.index):
            return False
        self.known_before_loss = frozenset(self.index.article_ids())
        log.warning(
            "The store is empty but the index lists %d articles: the store was lost; they are not "
            "announced again, the articles that arrived meanwhile are",
            len(self.known_before_loss),
        )
        return True

    def _story_of(self, article: Article) -> StoredArticle | None:
        """The first article of the known story `article` copies; never a version of the same file."""
        for _, key in self.duplicates.matches(dedupe_text(article)):
            stored = self.store.articles.get(key)
            if stored is not None and stored.removed_at is None and stored.source != article.source:
                head = self.store.articles.get(stored.story_id)
                return head if head is not None and head.removed_at is None else stored
        return None

    def take_down(self, article: StoredArticle) -> bool:
        """An operator removes `article`: out of the index at once, and never back."""
        with self._lock:
            done = self.store.articles.take_down(article.id)
            self.index.remove(article.id)
            self.duplicates.remove(article.id)
        return done

    def sync(self) -> None:
        """Follow what other processes (replicas, `ingest`, `remove`) did to the store, through its
        change log: articles added or restored join the index, removed or taken down ones leave it.
        When changes it had yet to follow were pruned, the index is compared with the store instead."""
        with self._lock:
            while True:
                try:
                    changes = self.store.articles.changes_since(self._mark)
                except ChangesPruned as error:
                    log.warning(
                        "The index fell behind the change log (%s): comparing it with the store", error
                    )
                    self._resync()
                    continue
                if changes.seq == self._mark:
                    return
                for article_id in changes.inactive:
                    if self.index.remove(article_id):
                        log.info("Removed %s: removed or taken down in the store", article_id)
                    self.duplicates.remove(article_id)
                for stored in changes.active:
                    if stored.id not in self.index:
                        article = article_of(stored)
                        self.index.add(article)
                        self.duplicates.add(article.id, dedupe_text(article))
                self._mark = changes.seq

    def _resync(self) -> None:
        """Bring the index in line with the store's active articles, as a start does, and follow the
        change log from the mark read first (a change made meanwhile is replayed: both are idempotent)."""
        mark = self.store.articles.last_change()
        wanted, held = self.store.articles.active_ids(), self.index.article_ids()
        for article_id in held - wanted:
            self.index.remove(article_id)
            self.duplicates.remove(article_id)
        for article_id in sorted(wanted - held):
            stored = self.store.articles.get(article_id)
            if stored is not None and stored.removed_at is None:
                article = article_of(stored)
                self.index.add(article)
                self.duplicates.add(article.id, dedupe_text(article))
        log.info(
            "Index compared with the store: %d added, %d removed", len(wanted - held), len(held - wanted)
        )
        self._mark = mark

    def prune_changes(
        self, keep_seconds: float = CHANGES_KEEP_SECONDS, keep_rows: int = CHANGES_KEEP_ROWS
    ) -> None:
        """Prune the store's change log, at most every `PRUNE_EVERY_SECONDS` (called from a loop)."""
        if time.monotonic() < self._next_prune:
            return
        self._next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
        deleted = self.store.articles.prune_changes(keep_seconds, keep_rows)
        if deleted:
            log.info("Pruned %d changes from the change log", deleted)
