"""An in-memory `Store` for fast unit tests of the layers above the store.

It keeps the same rules as the real stores (the contract suite in tests/stores runs against all of
them); one lock plays the part of the database's transactions. Several `memory_store`s opened on one
`MemoryDatabase` share it, as several processes share one database file or server.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field

from bot.news.sources.feeds import FeedItem
from bot.stores.store import Store
from bot.stores.types import (
    CHANGES_PER_READ,
    AnnouncementState,
    ChangeKind,
    Claim,
    FeedOrigin,
    FeedRow,
    ItemState,
    Origin,
    RecordResult,
    StoreChanges,
    StoredArticle,
    check_not_pruned,
    prune_bound,
    retry_state,
    split_changes,
)
from search import Article
from tests.fakes.answer_store import MemoryAnswers, MemoryAnswerStore
from tests.fakes.channel_store import MemoryChannels, MemoryChannelStore
from tests.fakes.claims import MemoryLease
from tests.fakes.feedback_store import MemoryFeedbackStore, MemoryJudgements

ANNOUNCEMENT = MemoryLease()
FEED = MemoryLease(holder=None, until=None)  # feeds are frozen rows: the claim is written by `_update`


@dataclass
class _Announcement:
    article_id: str
    state: AnnouncementState
    created_at: float
    claimed_by: str | None = None
    lease_until: float | None = None
    attempts: int = 0
    not_before: float = 0.0
    message_ts: str | None = None
    last_error: str | None = None
    story_changed: bool = False


@dataclass
class _Item:
    item: FeedItem
    state: ItemState
    seen_at: float
    attempts: int = 0
    article_id: str | None = None


@dataclass
class MemoryDatabase:
    """The shared state: articles, announcements, the change log, remembered files, the baseline
    mark, feeds and their items, the channels' tables."""

    articles: dict[str, StoredArticle] = field(default_factory=dict)
    announcements: dict[str, _Announcement] = field(default_factory=dict)
    # The change log, (article id, kind, at): seq n is changes[n - pruned - 1]; seqs 1..pruned are gone.
    changes: list[tuple[str, ChangeKind, float]] = field(default_factory=list)
    pruned: int = 0
    files: dict[str, tuple[int, int, str]] = field(default_factory=dict)
    vectors: dict[str, tuple[str, dict[int, bytes]]] = field(
        default_factory=dict
    )  # by article: model, vectors
    baseline_done: bool = False
    feeds: dict[str, FeedRow] = field(default_factory=dict)
    items: dict[str, dict[str, _Item]] = field(default_factory=dict)  # by feed, by key, in arrival order
    followers: list[Callable[[], None]] = field(default_factory=list)
    channels: MemoryChannels = field(default_factory=MemoryChannels)
    answers: MemoryAnswers = field(default_factory=MemoryAnswers)
    judgements: dict = field(default_factory=dict)  # key -> Judged
    lock: threading.RLock = field(default_factory=threading.RLock)

    reopened = 0  # a database in memory is never put back

    def problem(self) -> str | None:
        """A database in memory is always there."""
        return None

    def close(self) -> None:
        """Nothing to release; the database lives as long as its holder keeps it."""

    def log(self, article_id: str, kind: ChangeKind, at: float) -> None:
        self.changes.append((article_id, kind, at))
        if kind != "added":
            self.vectors.pop(article_id, None)


def memory_store(database: MemoryDatabase | None = None, *, clock=time.time) -> Store:
    """A store on `database` (a new one by default), as a process opening it would have."""
    database = database if database is not None else MemoryDatabase()
    return Store(
        database,
        MemoryArticles(database, clock),
        MemoryAnnouncements(database, clock),
        MemoryChannelStore(database.channels, clock=clock),
        MemoryFeeds(database, clock),
        MemoryFeedbackStore(clock=clock),
        MemoryAnswerStore(database.answers, clock=clock),
        MemoryJudgements(database.judgements, clock=clock),
    )


@dataclass
class MemoryArticles:
    database: MemoryDatabase
    _clock: Callable[[], float]

    def baseline_done(self) -> bool:
        return self.database.baseline_done

    def mark_baseline_done(self) -> None:
        self.database.baseline_done = True

    def record(
        self,
        article: Article,
        *,
        announce: bool,
        origin: Origin = "folder",
        story: str | None = None,
        unsure: bool = False,
    ) -> RecordResult:
        now = self._clock()
        db = self.database
        with db.lock:
            existing = db.articles.get(article.id)
            if existing is not None and existing.taken_down_at is not None:
                return RecordResult("removed", article.id)
            if existing is not None and existing.removed_at is None:
                return RecordResult("known", article.id)
            previous = self._active(article.source)
            replaced_id = previous.id if previous is not None and previous.id != article.id else None
            if replaced_id:
                db.articles[replaced_id] = dataclasses.replace(previous, removed_at=now)
                db.log(replaced_id, "removed", now)
            db.log(article.id, "added", now)
            if existing is not None:
                db.articles[article.id] = dataclasses.replace(
                    existing, source=article.source, removed_at=None, changed_at=now
                )
                self._changed()
                return RecordResult("restored", article.id, replaced_id)
            db.articles[article.id] = StoredArticle(
                id=article.id,
                source=article.source,
                title=article.title,
                date=article.date,
                language=article.language,
                text=article.text,
                added_at=now,
                changed_at=now,
                url=article.url,
                outlet=article.outlet,
                story=story or article.id,
                origin=origin,
                date_source=article.date_source,
            )
            if story is not None and story in db.announcements:
                db.announcements[story].story_changed = True
            queued = "unsure" if unsure else "pending"
            state = queued if announce and not replaced_id and story is None else "skipped"
            db.announcements[article.id] = _Announcement(article.id, state, created_at=now)
            self._changed()
            return RecordResult("updated" if replaced_id else "added", article.id, replaced_id)

    def mark_removed(self, source: str) -> str | None:
        with self.database.lock:
            active = self._active(source)
            if active is None:
                return None
            now = self._clock()
            self.database.articles[active.id] = dataclasses.replace(active, removed_at=now)
            self.database.log(active.id, "removed", now)
            self._changed()
            return active.id

    def take_down(self, article_id: str) -> bool:
        now = self._clock()
        with self.database.lock:
            stored = self.database.articles.get(article_id)
            if stored is None or stored.taken_down_at is not None:
                return False
            self.database.articles[article_id] = dataclasses.replace(
                stored, removed_at=stored.removed_at or now, taken_down_at=now
            )
            self.database.log(article_id, "taken_down", now)
            self._changed()
            return True

    def by_url(self, url: str) -> StoredArticle | None:
        with self.database.lock:
            matches = [
                a
                for a in self.database.articles.values()
                if a.url == url and (a.removed_at is None or a.taken_down_at is not None)
            ]
        return min(matches, key=lambda a: (a.removed_at is not None, a.added_at), default=None)

    def story_members(self, story: str) -> list[StoredArticle]:
        return [a for a in self.active_articles() if story in (a.story, a.id)]

    def changes_since(self, seq: int) -> StoreChanges:
        db = self.database
        with db.lock:
            check_not_pruned(seq, db.pruned)
            changes = db.changes[seq - db.pruned : seq - db.pruned + CHANGES_PER_READ]
            if not changes:
                return StoreChanges([], [], seq)
            ids = list(dict.fromkeys(article_id for article_id, _, _ in changes))
            articles = [db.articles[i] for i in ids]
        return split_changes(articles, ids, seq + len(changes))

    def last_change(self) -> int:
        return self.database.pruned + len(self.database.changes)

    def prune_changes(self, keep_seconds: float, keep_rows: int) -> int:
        db = self.database
        with db.lock:
            keep_rows = max(keep_rows, 1)
            cutoff = self._clock() - keep_seconds
            first_recent = next(
                (db.pruned + 1 + i for i, (_, _, at) in enumerate(db.changes) if at >= cutoff), None
            )
            oldest_kept = (
                db.pruned + len(db.changes) - keep_rows + 1 if len(db.changes) >= keep_rows else None
            )
            bound = prune_bound(oldest_kept, first_recent)
            if bound is None or bound <= db.pruned:
                return 0
            deleted = bound - db.pruned
            del db.changes[:deleted]
            db.pruned = bound
            return deleted

    def follow_changes(self, on_change: Callable[[], None]) -> None:
        """Every store on the database calls `on_change` after a change (as NOTIFY does)."""
        with self.database.lock:
            self.database.followers.append(on_change)
        on_change()  # as a listener (re)connecting does: changes may have been missed before

    def _changed(self) -> None:
        for follower in list(self.database.followers):
            follower()

    def _active(self, source: str) -> StoredArticle | None:
        return next(
            (a for a in self.database.articles.values() if a.source == source and a.removed_at is None), None
        )

    def get(self, article_id: str) -> StoredArticle | None:
        return self.database.articles.get(article_id)

    def by_source(self, source: str) -> StoredArticle | None:
        with self.database.lock:
            return self._active(source)

    def active_articles(self) -> list[StoredArticle]:
        with self.database.lock:
            active = [a for a in self.database.articles.values() if a.removed_at is None]
        return sorted(active, key=lambda a: (a.added_at, a.id))

    def dated_between(self, first: dt.date | None, last: dt.date | None) -> list[StoredArticle]:
        if first is None or last is None:
            return [a for a in self.active_articles() if a.date is None]
        return [a for a in self.active_articles() if a.date is not None and first <= a.date <= last]

    def active_sources(self) -> list[str]:
        return sorted(a.source for a in self.active_articles() if a.origin == "folder")

    def active_ids(self) -> set[str]:
        return {a.id for a in self.active_articles()}

    def remember_file(self, source: str, size: int, mtime_ns: int, article_id: str) -> None:
        self.database.files[source] = (size, mtime_ns, article_id)

    def save_vectors(self, article_id: str, model: str, vectors: Mapping[int, bytes]) -> None:
        with self.database.lock:
            article = self.database.articles.get(article_id)
            if article is None or article.removed_at is not None:
                return
            kept = self.database.vectors.get(article_id)
            kept = kept[1] if kept and kept[0] == model else {}
            self.database.vectors[article_id] = (model, {**kept, **vectors})

    def vectors_for(self, article_ids: Iterable[str], model: str) -> dict[str, dict[int, bytes]]:
        with self.database.lock:
            kept = {i: self.database.vectors.get(i) for i in article_ids}
            return {i: dict(v[1]) for i, v in kept.items() if v and v[0] == model and v[1]}

    def recorded_file(self, source: str, size: int, mtime_ns: int) -> str | None:
        remembered = self.database.files.get(source)
        return remembered[2] if remembered and remembered[:2] == (size, mtime_ns) else None

    def recorded_files(self) -> dict[str, tuple[int, int, str]]:
        with self.database.lock:
            return dict(self.database.files)


@dataclass
class MemoryAnnouncements:
    database: MemoryDatabase
    _clock: Callable[[], float]

    def claim(self, worker: str, lease_seconds: float) -> Claim | None:
        now = self._clock()
        with self.database.lock:
            taken = ANNOUNCEMENT.claim(
                self.database.announcements.values(),
                worker=worker,
                lease_until=now + lease_seconds,
                due=lambda row: (
                    (row.state in ("pending", "unsure") and row.not_before <= now)
                    or (row.state == "posting" and row.lease_until < now)
                ),
                order=lambda row: (row.created_at, row.article_id),
            )
            if not taken:
                return None
            before, row = taken[0]
            row.state = "posting"
            row.attempts += 1
            return Claim(
                row.article_id, before.attempts, row.lease_until, recovered=before.state != "pending"
            )

    def _claimed(self, article_id: str, worker: str) -> _Announcement | None:
        row = self.database.announcements.get(article_id)
        return row if ANNOUNCEMENT.holds(row, worker) and row.state == "posting" else None

    def finish(self, article_id: str, worker: str, message_ts: str) -> bool:
        with self.database.lock:
            row = self._claimed(article_id, worker)
            if row is None:
                return False
            row.state, row.message_ts, row.lease_until = "posted", message_ts, None
            return True

    def retry(
        self,
        article_id: str,
        worker: str,
        error: str,
        delay: float,
        *,
        unsure: bool = False,
        throttled: bool = False,
    ) -> bool:
        with self.database.lock:
            row = self._claimed(article_id, worker)
            if row is None:
                return False
            row.state = retry_state(unsure)
            row.not_before, row.last_error = self._clock() + delay, error
            row.claimed_by = row.lease_until = None
            row.attempts -= int(throttled)
            return True

    def fail(self, article_id: str, worker: str, error: str) -> bool:
        with self.database.lock:
            row = self._claimed(article_id, worker)
            if row is None:
                return False
            row.state, row.last_error, row.lease_until = "failed", error, None
            return True

    def state(self, article_id: str) -> AnnouncementState | None:
        row = self.database.announcements.get(article_id)
        return row.state if row else None

    def counts(self) -> dict[str, int]:
        with self.database.lock:
            states = [row.state for row in self.database.announcements.values()]
        return {state: states.count(state) for state in set(states)}

    def claim_story_change(self) -> tuple[str, str] | None:
        now = self._clock()
        with self.database.lock:
            for article_id, row in self.database.announcements.items():
                if row.story_changed and row.state == "posted" and row.not_before <= now:
                    row.story_changed = False
                    return article_id, row.message_ts
        return None

    def retry_story_change(self, article_id: str, delay: float) -> None:
        with self.database.lock:
            row = self.database.announcements[article_id]
            row.story_changed, row.not_before = True, self._clock() + delay


class MemoryFeeds:
    """The `Feeds` of a `memory_store`, on its database."""

    def __init__(self, database: MemoryDatabase, clock) -> None:
        self.database = database
        self._clock = clock

    def add(self, url: str, origin: FeedOrigin) -> bool:
        with self.database.lock:
            if url in self.database.feeds:
                return False
            self.database.feeds[url] = FeedRow(url, origin, added_at=self._clock())
            return True

    def remove(self, url: str) -> bool:
        with self.database.lock:
            self.database.items.pop(url, None)
            return self.database.feeds.pop(url, None) is not None

    def get(self, url: str) -> FeedRow | None:
        return self.database.feeds.get(url)

    def all(self) -> list[FeedRow]:
        with self.database.lock:
            return sorted(self.database.feeds.values(), key=lambda feed: (feed.added_at, feed.url))

    def _update(self, url: str, **changes) -> FeedRow | None:
        feed = self.database.feeds.get(url)
        if feed is not None:
            feed = self.database.feeds[url] = dataclasses.replace(feed, **changes)
        return feed

    def claim_due(self, owner: str, lease_seconds: float, busy: Collection[str] = ()) -> list[FeedRow]:
        now = self._clock()
        with self.database.lock:
            due = FEED.claim(
                self.database.feeds.values(),
                worker=owner,
                lease_until=now + lease_seconds,
                due=lambda feed: feed.next_poll_at <= now and feed.url not in busy,
                order=lambda feed: (feed.next_poll_at, feed.url),
                limit=None,
            )
            for feed, _ in due:
                self._update(feed.url, next_poll_at=now + lease_seconds, claimed_by=owner)
            return [feed for feed, _ in due]

    def give_back(self, owner: str) -> int:
        now = self._clock()
        with self.database.lock:
            mine = [feed.url for feed in self.database.feeds.values() if feed.claimed_by == owner]
            for url in mine:
                self._update(url, next_poll_at=now, claimed_by=None)
            return len(mine)

    def polled(
        self, url: str, *, etag: str | None, last_modified: str | None, delay: float, title: str | None
    ) -> bool:
        now = self._clock()
        with self.database.lock:
            feed = self.database.feeds.get(url)
            if feed is None:
                return False
            self._update(
                url,
                etag=etag,
                last_modified=last_modified,
                next_poll_at=now + delay,
                claimed_by=None,
                failures=0,
                failing_since=None,
                last_error=None,
                last_ok_at=now,
                title=title or feed.title,
            )
            return bool(feed.failures)

    def failed(self, url: str, error: str, delay: float) -> int:
        now = self._clock()
        with self.database.lock:
            feed = self.database.feeds.get(url)
            if feed is None:
                return 0
            return self._update(
                url,
                failures=feed.failures + 1,
                failing_since=feed.failing_since or now,
                last_error=error,
                next_poll_at=now + delay,
                claimed_by=None,
            ).failures

    def poll_soon(self, url: str) -> None:
        with self.database.lock:
            self._update(url, next_poll_at=0.0)

    def known_keys(self, feed_url: str) -> set[str]:
        with self.database.lock:
            return set(self.database.items.get(feed_url, {}))

    def add_items(self, feed_url: str, items: Iterable[FeedItem], state: ItemState) -> None:
        now = self._clock()
        with self.database.lock:
            known = self.database.items.setdefault(feed_url, {})
            for item in items:
                if item.key not in known:
                    kept = item if state == "pending" else dataclasses.replace(item, content="")
                    known[item.key] = _Item(kept, state, now)

    def pending_items(self, feed_url: str, limit: int) -> list[tuple[FeedItem, int]]:
        with self.database.lock:
            pending = [
                row for row in self.database.items.get(feed_url, {}).values() if row.state == "pending"
            ]
        pending.sort(key=lambda row: row.seen_at)  # stable: arrival order within one time
        return [(row.item, row.attempts) for row in pending[:limit]]

    def item_done(self, feed_url: str, key: str, article_id: str | None) -> None:
        with self.database.lock:
            row = self.database.items.get(feed_url, {}).get(key)
            if row is not None:
                row.state, row.article_id = "done", article_id
                row.item = dataclasses.replace(row.item, content="")

    def item_failed(self, feed_url: str, key: str, max_attempts: int) -> bool:
        with self.database.lock:
            row = self.database.items.get(feed_url, {}).get(key)
            if row is None:
                return False
            row.attempts += 1
            if row.attempts >= max_attempts:
                row.state = "given_up"
                row.item = dataclasses.replace(row.item, content="")
            return row.state == "given_up"
