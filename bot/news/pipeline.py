"""The one ingest pipeline: every source (folder, `ingest FILE`, feeds, links) hands it a RawArticle.

parse -> same URL or same text? -> about the subject? -> another telling of a known story? -> store
(with the announcement decision) -> index -> wake the notifier.

- An article from a feed or a link that the subject judge finds off-subject (a homonym, a passing
  mention, unrelated news) is left out: not stored, not indexed, not announced; its judgement is
  recorded (`store.judgements`) so that no feed brings it again, and `report` lists it. A link added
  `anyway`, and the folder's files (the operator's own), are taken as they are, their judgement kept.
- An article of a story already known (a copy, a rewrite, the same story in the other language) is
  stored and indexed (searchable, citable) but not announced: it goes into the story's thread, and the
  story's announcement names its outlet ("Also reported by ...").
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from bot.news.saved_index import came_back_empty
from bot.news.stories import Dated, Stories, dated_in_index
from bot.stores.articles import article_of
from bot.stores.store import Store
from bot.stores.types import (
    CHANGES_KEEP_ROWS,
    CHANGES_KEEP_SECONDS,
    ChangesPruned,
    Judged,
    Origin,
    RecordOutcome,
    StoredArticle,
)
from search import Article, SearchIndex, parse_article
from search.judgement.stories import StoryReader
from search.judgement.subject import SubjectJudge
from search.models import DateSource

log = logging.getLogger(__name__)

PRUNE_EVERY_SECONDS = 3600.0  # how often a running app prunes the change log (any replica may)

Outcome = RecordOutcome | Literal["copy", "left_out"]
JUDGED_ORIGINS = ("feed", "link")  # the folder's files and `ingest FILE` are the operator's own


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
    feed: str | None = None  # the feed that listed it

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
    judged: Judged | None = None  # judged off-subject: left out, or kept (a folder file, a link added anyway)

    @property
    def article_id(self) -> str | None:
        """The stored article it is, or is known as; None when it was left out."""
        if self.outcome == "left_out":
            return None
        return self.known.id if self.outcome in ("known", "removed") and self.known else self.article.id


class Pipeline:
    """Parse, dedupe, store, index, announce; shared by every source. Thread-safe."""

    def __init__(
        self,
        store: Store,
        index: SearchIndex,
        *,
        judge: SubjectJudge | None = None,
        stories_from: Dated | None = None,
        on_added: Callable[[str], None] | None = None,
        today: Callable[[], dt.date] = lambda: dt.datetime.now(dt.UTC).date(),
    ) -> None:
        """`judge`: the desk's subject (by default the default subject's). The known stories are read
        from `stories_from` (by default the index: a server's holds every active article)."""
        self.store = store
        self.index = index
        self.judge = judge or SubjectJudge()
        reader = StoryReader(index.analyzer, index.lexicon, common=self.judge.subject.written)
        self.stories = Stories(stories_from or dated_in_index(index), reader)
        self.on_added = on_added
        self.today = today
        self._lock = threading.Lock()
        self._mark = 0  # the last change of the store's change log the index has followed
        # After the store came back empty: the ids the app knew, never announced again (see `take_loss`).
        self.known_before_loss: frozenset[str] | None = None
        self._next_prune = 0.0  # when `prune_changes` prunes next (time.monotonic)

    def follow_from(self, since: int | None = None) -> None:
        """Follow the store from change `since` on (see `sync`; by default from now): the mark read
        before the index was, so nothing falls between."""
        self._mark = self.store.articles.last_change() if since is None else since

    def read_around_today(self) -> None:
        """Read the stories dated around today into the story index, under the lock: what the first
        article of the day would otherwise wait for (half a second with 100,000 articles stored)."""
        started = time.monotonic()
        with self._lock:
            self.stories.read_around(self.today())
        log.info(
            "Stories around today read: %d articles in %.1f s", len(self.stories), time.monotonic() - started
        )

    def compose(self, raw: RawArticle) -> Article:
        article = parse_article(raw.article_text(), raw.source)
        update: dict = {"url": raw.url, "outlet": raw.outlet}
        if raw.title:
            update["title"] = raw.title
        if article.date is not None:
            update["date_source"] = raw.date_source or "text"
        return article.model_copy(update=update)

    def ingest(self, raw: RawArticle, *, announce: bool | None = None, anyway: bool = False) -> Recorded:
        return self.record(
            self.compose(raw), origin=raw.origin, announce=announce, anyway=anyway, feed=raw.feed
        )

    def record(
        self,
        article: Article,
        *,
        origin: Origin,
        announce: bool | None = None,
        anyway: bool = False,
        feed: str | None = None,
    ) -> Recorded:
        """Store and index `article` unless known or left out; announce it when new, the first of its
        story, and `announce` (by default: once the app has made its first start on this store).

        An article from a feed or a link is left out when the judge finds it off-subject, unless
        `anyway`. An undated article that is news (announced) is dated the day it was first seen; one
        of the starting library stays undated: its day of arrival says nothing of when it was published."""
        judged = self._judged(article, origin, feed)  # pure: outside the lock
        leave_out = judged is not None and origin in JUDGED_ORIGINS and not anyway
        with self._lock:
            if article.url:
                known = self.store.articles.by_url(article.url)
                if known is not None:
                    return Recorded("removed" if known.taken_down_at else "known", article, known)
            if leave_out:
                self.store.judgements.record(judged)
            else:
                recorded, added = self._store(article, origin, announce)
        if leave_out:
            log.info("Left out %s (“%s”): %s", judged.key, article.title, judged.reason)
            return Recorded("left_out", article, judged=judged)
        if judged is not None and recorded.outcome not in ("known", "removed"):
            judged = dataclasses.replace(judged, kept=True, article_id=recorded.article.id)
            self.store.judgements.record(judged)
            recorded = dataclasses.replace(recorded, judged=judged)
        if added and self.on_added:
            self.on_added(recorded.article.id)
        return recorded

    def _judged(self, article: Article, origin: Origin, feed: str | None) -> Judged | None:
        """The judgement of an article off the subject; None for one about it."""
        judgement = self.judge.judge(article)
        if judgement.about:
            return None
        key = article.url or article.source
        return Judged(key, article.title, judgement.verdict, judgement.reason, origin, feed)

    def _store(self, article: Article, origin: Origin, announce: bool | None) -> tuple[Recorded, bool]:
        """Store and index `article` (under the lock); what happened, and whether it was added."""
        announce = self._announces(article) if announce is None else announce
        if article.date is None and announce:
            article = article.model_copy(update={"date": self.today(), "date_source": "first_seen"})
        story = self._story_of(article)
        result = self.store.articles.record(
            article,
            announce=announce,
            origin=origin,
            story=story.story_id if story else None,
            unsure=self.known_before_loss is not None,
        )
        if result.outcome in ("known", "removed"):
            return Recorded(result.outcome, article, self.store.articles.get(article.id)), False
        if result.replaced_id:
            self.index.remove(result.replaced_id)
            self.stories.remove(result.replaced_id)
        self.index.add(article)
        self.stories.add(article)
        if story is not None:
            log.info(
                "%s (%s, %s) tells the story of %s (%s, %s): indexed, not announced",
                article.id,
                article.outlet or article.source,
                article.language,
                story.id,
                story.outlet or story.source,
                story.language,
            )
        added = result.outcome == "added"
        if story is not None:
            return Recorded("copy", article, story), added
        return Recorded(result.outcome, article, announced=announce and added), added

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
        """The first article of the known story `article` tells again; never a version of the same file."""
        found = self.stories.find(article)
        if found is None:
            return None
        stored = self.store.articles.get(found.article_id)
        if stored is None or stored.removed_at is not None or stored.source == article.source:
            return None
        head = self.store.articles.get(stored.story_id)
        return head if head is not None and head.removed_at is None else stored

    def take_down(self, article: StoredArticle) -> bool:
        """An operator removes `article`: out of the index at once, and never back."""
        with self._lock:
            done = self.store.articles.take_down(article.id)
            self.index.remove(article.id)
            self.stories.remove(article.id)
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
                    self.stories.remove(article_id)
                for stored in changes.active:
                    if stored.id not in self.index:
                        article = article_of(stored)
                        self.index.add(article)
                        self.stories.add(article)
                self._mark = changes.seq

    def _resync(self) -> None:
        """Bring the index in line with the store's active articles, as a start does, and follow the
        change log from the mark read first (a change made meanwhile is replayed: both are idempotent)."""
        mark = self.store.articles.last_change()
        wanted, held = self.store.articles.active_ids(), self.index.article_ids()
        for article_id in held - wanted:
            self.index.remove(article_id)
            self.stories.remove(article_id)
        for article_id in sorted(wanted - held):
            stored = self.store.articles.get(article_id)
            if stored is not None and stored.removed_at is None:
                article = article_of(stored)
                self.index.add(article)
                self.stories.add(article)
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
