"""An in-memory `ArticleStore` for fast unit tests of the layers above the store.

It keeps the same rules as the real stores (the contract suite in tests/stores runs against all of
them); one lock plays the part of the database's transactions. Several `MemoryStore`s opened on one
`MemoryDatabase` share it, as several processes share one database file or server.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass, field

from bot.store import (
    AnnouncementState,
    Claim,
    RecordResult,
    StoredArticle,
)
from search import Article


@dataclass
class _Announcement:
    state: AnnouncementState
    created_at: float
    claimed_by: str | None = None
    lease_until: float | None = None
    attempts: int = 0
    not_before: float = 0.0
    message_ts: str | None = None
    last_error: str | None = None


@dataclass
class MemoryDatabase:
    """The shared state: articles, announcements, remembered files and the baseline mark."""

    articles: dict[str, StoredArticle] = field(default_factory=dict)
    announcements: dict[str, _Announcement] = field(default_factory=dict)
    files: dict[str, tuple[int, int, str]] = field(default_factory=dict)
    baseline_done: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


class MemoryStore:
    def __init__(self, database: MemoryDatabase | None = None, *, clock=time.time) -> None:
        self.database = database if database is not None else MemoryDatabase()
        self._clock = clock

    reopened = 0

    def close(self) -> None:
        """Nothing to release; the database lives as long as its holder keeps it."""

    def problem(self) -> str | None:
        """A database in memory is always there."""
        return None

    def baseline_done(self) -> bool:
        return self.database.baseline_done

    def mark_baseline_done(self) -> None:
        self.database.baseline_done = True

    def record(self, article: Article, *, announce: bool) -> RecordResult:
        now = self._clock()
        db = self.database
        with db.lock:
            existing = db.articles.get(article.id)
            if existing is not None and existing.removed_at is None:
                return RecordResult("known", article.id)
            previous = self._active(article.source)
            replaced_id = previous.id if previous is not None and previous.id != article.id else None
            if replaced_id:
                db.articles[replaced_id] = dataclasses.replace(previous, removed_at=now)
            if existing is not None:
                db.articles[article.id] = dataclasses.replace(
                    existing, source=article.source, removed_at=None, changed_at=now
                )
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
            )
            state = "pending" if announce and not replaced_id else "skipped"
            db.announcements[article.id] = _Announcement(state, created_at=now)
            return RecordResult("updated" if replaced_id else "added", article.id, replaced_id)

    def mark_removed(self, source: str) -> str | None:
        with self.database.lock:
            active = self._active(source)
            if active is None:
                return None
            self.database.articles[active.id] = dataclasses.replace(active, removed_at=self._clock())
            return active.id

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

    def active_sources(self) -> list[str]:
        return sorted(a.source for a in self.active_articles())

    def active_ids(self) -> set[str]:
        return {a.id for a in self.active_articles()}

    def remember_file(self, source: str, size: int, mtime_ns: int, article_id: str) -> None:
        self.database.files[source] = (size, mtime_ns, article_id)

    def recorded_file(self, source: str, size: int, mtime_ns: int) -> str | None:
        remembered = self.database.files.get(source)
        return remembered[2] if remembered and remembered[:2] == (size, mtime_ns) else None

    def claim_announcement(self, worker: str, lease_seconds: float) -> Claim | None:
        now = self._clock()
        with self.database.lock:
            due = [
                (row.created_at, article_id, row)
                for article_id, row in self.database.announcements.items()
                if (row.state in ("pending", "unsure") and row.not_before <= now)
                or (row.state == "posting" and row.lease_until < now)
            ]
            if not due:
                return None
            _, article_id, row = min(due, key=lambda item: item[:2])
            claim = Claim(article_id, row.attempts, now + lease_seconds, recovered=row.state != "pending")
            row.state, row.claimed_by, row.lease_until = "posting", worker, claim.lease_until
            row.attempts += 1
            return claim

    def _claimed(self, article_id: str, worker: str) -> _Announcement | None:
        row = self.database.announcements.get(article_id)
        return row if row is not None and row.state == "posting" and row.claimed_by == worker else None

    def finish_announcement(self, article_id: str, worker: str, message_ts: str) -> bool:
        with self.database.lock:
            row = self._claimed(article_id, worker)
            if row is None:
                return False
            row.state, row.message_ts, row.lease_until = "posted", message_ts, None
            return True

    def retry_announcement(
        self, article_id: str, worker: str, error: str, delay: float, *, unsure: bool = False
    ) -> bool:
        with self.database.lock:
            row = self._claimed(article_id, worker)
            if row is None:
                return False
            row.state = "unsure" if unsure else "pending"
            row.not_before, row.last_error = self._clock() + delay, error
            row.claimed_by = row.lease_until = None
            return True

    def fail_announcement(self, article_id: str, worker: str, error: str) -> bool:
        with self.database.lock:
            row = self._claimed(article_id, worker)
            if row is None:
                return False
            row.state, row.last_error, row.lease_until = "failed", error, None
            return True

    def announcement_state(self, article_id: str) -> AnnouncementState | None:
        row = self.database.announcements.get(article_id)
        return row.state if row else None

    def counts(self) -> dict[str, int]:
        with self.database.lock:
            states = [row.state for row in self.database.announcements.values()]
        return {state: states.count(state) for state in set(states)}
