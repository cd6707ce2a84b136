"""The store: every article ever ingested, and the outbox of announcements to post.

`ArticleStore` is the interface the app depends on; `SqliteStore` is the one implementation for a
single host (a PostgreSQL store for several replicas can follow, with the same claim-by-UPDATE rule).

Articles are keyed by their content-derived id. A file's path relative to the articles folder is its
`source`; at most one active article has a given source. When a file changes, its old article is
marked removed and the new content becomes a new article *without* an announcement: an edit is not
news. An announcement row is created in the same transaction as its article, so an article is never
recorded without its announcement decision.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from search import Article, SearchIndex, parse_article

RecordOutcome = Literal["added", "updated", "known", "restored", "removed"]
Origin = Literal["folder", "file", "feed", "link"]  # the articles folder, `ingest FILE`, a feed, a link
AnnouncementState = Literal["pending", "posting", "posted", "skipped", "failed"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    title TEXT NOT NULL,
    date TEXT,
    language TEXT NOT NULL,
    text TEXT NOT NULL,
    added_at REAL NOT NULL,
    changed_at REAL NOT NULL,
    removed_at REAL
);
CREATE INDEX IF NOT EXISTS articles_active_source ON articles (source) WHERE removed_at IS NULL;
CREATE TABLE IF NOT EXISTS announcements (
    article_id TEXT PRIMARY KEY REFERENCES articles (id),
    state TEXT NOT NULL,
    created_at REAL NOT NULL,
    claimed_by TEXT,
    lease_until REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before REAL NOT NULL DEFAULT 0,
    message_ts TEXT,
    last_error TEXT,
    posted_at REAL
);
CREATE INDEX IF NOT EXISTS announcements_state ON announcements (state, not_before);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    source TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    article_id TEXT NOT NULL
);
"""
BASELINE_KEY = "baseline_done"

# Added for news sources (issue 9): applied to stores made before them by `_migrate`.
SOURCE_COLUMNS = {
    "articles": {
        "url": "TEXT",
        "outlet": "TEXT",
        "story": "TEXT",  # the id of the story's first article; the article's own id when it is the first
        "origin": "TEXT NOT NULL DEFAULT 'folder'",
        "date_source": "TEXT",
        "taken_down_at": "REAL",  # removed by an operator: a feed listing it again does not bring it back
    },
    "announcements": {"story_changed": "INTEGER NOT NULL DEFAULT 0"},  # "Also reported by" to add
}
SOURCE_INDEXES = """
CREATE INDEX IF NOT EXISTS articles_url ON articles (url);
CREATE INDEX IF NOT EXISTS articles_story ON articles (story) WHERE removed_at IS NULL;
CREATE INDEX IF NOT EXISTS articles_taken_down ON articles (taken_down_at) WHERE taken_down_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS announcements_story_changed ON announcements (story_changed) WHERE story_changed = 1;
"""


@dataclass(frozen=True)
class StoredArticle:
    id: str
    source: str
    title: str
    date: dt.date | None
    language: str
    text: str
    added_at: float
    changed_at: float
    removed_at: float | None = None
    url: str | None = None
    outlet: str | None = None
    story: str | None = None
    origin: Origin = "folder"
    date_source: str | None = None
    taken_down_at: float | None = None

    @property
    def story_id(self) -> str:
        return self.story or self.id


@dataclass(frozen=True)
class RecordResult:
    outcome: RecordOutcome
    article_id: str
    replaced_id: str | None = None  # the article this one replaced at the same source


@dataclass(frozen=True)
class StoreChanges:
    added: list[StoredArticle]
    taken_down: list[str]
    rowid: int
    taken_down_at: float


@dataclass(frozen=True)
class Claim:
    """An announcement taken by one worker until `lease_until`; `attempts` counts earlier tries."""

    article_id: str
    attempts: int
    lease_until: float
    recovered: bool = False  # taken over from a worker whose lease ran out: it may have posted


class ArticleStore(Protocol):
    def baseline_done(self) -> bool: ...
    def mark_baseline_done(self) -> None: ...
    def record(
        self, article: Article, *, announce: bool, origin: Origin = "folder", story: str | None = None
    ) -> RecordResult: ...
    def mark_removed(self, source: str) -> str | None: ...
    def take_down(self, article_id: str) -> bool: ...
    def by_url(self, url: str) -> StoredArticle | None: ...
    def story_members(self, story: str) -> list[StoredArticle]: ...
    def changes_since(self, rowid: int, taken_down_at: float) -> StoreChanges: ...
    def last_rowid(self) -> int: ...
    def claim_story_change(self) -> tuple[str, str] | None: ...
    def retry_story_change(self, article_id: str, delay: float) -> None: ...
    def get(self, article_id: str) -> StoredArticle | None: ...
    def by_source(self, source: str) -> StoredArticle | None: ...
    def active_articles(self) -> list[StoredArticle]: ...
    def active_sources(self) -> list[str]: ...
    def remember_file(self, source: str, size: int, mtime_ns: int, article_id: str) -> None: ...
    def recorded_file(self, source: str, size: int, mtime_ns: int) -> str | None: ...
    def claim_announcement(self, worker: str, lease_seconds: float) -> Claim | None: ...
    def finish_announcement(self, article_id: str, worker: str, message_ts: str) -> bool: ...
    def retry_announcement(self, article_id: str, worker: str, error: str, delay: float) -> bool: ...
    def fail_announcement(self, article_id: str, worker: str, error: str) -> bool: ...
    def announcement_state(self, article_id: str) -> AnnouncementState | None: ...
    def close(self) -> None: ...


def sqlite_path(database_url: str) -> Path:
    """The file of a `sqlite:///relative/path.db` or `sqlite:////absolute/path.db` URL."""
    prefix = "sqlite:///"
    if not database_url.startswith(prefix) or len(database_url) == len(prefix):
        raise ValueError(f"DATABASE_URL must look like sqlite:///data/bot.db, not {database_url!r}")
    return Path(database_url[len(prefix) :])


def open_store(database_url: str) -> SqliteStore:
    """The store at `database_url`; its folder is created when missing."""
    path = sqlite_path(database_url)
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteStore(path)


class SqliteStore:
    """SQLite in WAL mode; one connection per thread, short transactions, atomic claims."""

    def __init__(self, path: str | Path, *, clock=time.time) -> None:
        self.path = Path(path)
        self._clock = clock
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._connection().executescript(SCHEMA)
        self._migrate()

    # -- connections ----------------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=30000")
            self._local.db = db
            with self._connections_lock:
                self._connections.append(db)
        return db

    def _transaction(self):
        return _Transaction(self._connection())

    def _migrate(self) -> None:
        """Add the columns later versions need to a store made by an earlier one."""
        db = self._connection()
        for table, columns in SOURCE_COLUMNS.items():
            present = {row["name"] for row in db.execute(f"PRAGMA table_info({table})")}
            for name, kind in columns.items():
                if name not in present:
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
        db.executescript(SOURCE_INDEXES)

    def close(self) -> None:
        with self._connections_lock:
            for db in self._connections:
                db.close()
            self._connections.clear()
        self._local = threading.local()

    # -- baseline -------------------------------------------------------------------------------------

    def baseline_done(self) -> bool:
        row = self._connection().execute("SELECT value FROM meta WHERE key = ?", (BASELINE_KEY,)).fetchone()
        return row is not None

    def mark_baseline_done(self) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (BASELINE_KEY, str(self._clock()))
            )

    # -- articles -------------------------------------------------------------------------------------

    def record(
        self, article: Article, *, announce: bool, origin: Origin = "folder", story: str | None = None
    ) -> RecordResult:
        """Keep `article`; with `announce`, queue its announcement when it is new (not an update).

        With `story` (the first article of the story it copies), it is kept but not announced, and
        the story's announcement is marked to name one more outlet. An article an operator took down
        stays down ("removed").
        """
        now = self._clock()
        with self._transaction() as db:
            existing = db.execute(
                "SELECT source, removed_at, taken_down_at FROM articles WHERE id = ?", (article.id,)
            ).fetchone()
            if existing is not None and existing["taken_down_at"] is not None:
                return RecordResult("removed", article.id)
            if existing is not None and existing["removed_at"] is None:
                return RecordResult("known", article.id)
            previous = db.execute(
                "SELECT id FROM articles WHERE source = ? AND removed_at IS NULL AND id != ?",
                (article.source, article.id),
            ).fetchone()
            replaced_id = previous["id"] if previous else None
            if replaced_id:
                db.execute("UPDATE articles SET removed_at = ? WHERE id = ?", (now, replaced_id))
            if existing is not None:
                db.execute(
                    "UPDATE articles SET source = ?, removed_at = NULL, changed_at = ? WHERE id = ?",
                    (article.source, now, article.id),
                )
                return RecordResult("restored", article.id, replaced_id)
            db.execute(
                "INSERT INTO articles (id, source, title, date, language, text, added_at, changed_at,"
                " url, outlet, story, origin, date_source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    article.id,
                    article.source,
                    article.title,
                    article.date.isoformat() if article.date else None,
                    article.language,
                    article.text,
                    now,
                    now,
                    article.url,
                    article.outlet,
                    story or article.id,
                    origin,
                    article.date_source,
                ),
            )
            if story is not None:
                db.execute("UPDATE announcements SET story_changed = 1 WHERE article_id = ?", (story,))
            state = "pending" if announce and not replaced_id and story is None else "skipped"
            db.execute(
                "INSERT INTO announcements (article_id, state, created_at) VALUES (?, ?, ?)",
                (article.id, state, now),
            )
            return RecordResult("updated" if replaced_id else "added", article.id, replaced_id)

    def mark_removed(self, source: str) -> str | None:
        """Mark the active article at `source` removed; its id, or None when there was none."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT id FROM articles WHERE source = ? AND removed_at IS NULL", (source,)
            ).fetchone()
            if row is None:
                return None
            db.execute("UPDATE articles SET removed_at = ? WHERE id = ?", (self._clock(), row["id"]))
            return row["id"]

    def take_down(self, article_id: str) -> bool:
        """An operator removes the article: out of every answer, and never recorded again."""
        now = self._clock()
        with self._transaction() as db:
            return bool(
                db.execute(
                    "UPDATE articles SET removed_at = COALESCE(removed_at, ?), taken_down_at = ?"
                    " WHERE id = ? AND taken_down_at IS NULL",
                    (now, now, article_id),
                ).rowcount
            )

    def by_url(self, url: str) -> StoredArticle | None:
        """The article at `url` (normalised), active or taken down; None when there is none."""
        row = (
            self._connection()
            .execute(
                "SELECT * FROM articles WHERE url = ? AND (removed_at IS NULL OR taken_down_at IS NOT NULL)"
                " ORDER BY removed_at IS NOT NULL, added_at LIMIT 1",
                (url,),
            )
            .fetchone()
        )
        return _stored(row) if row else None

    def story_members(self, story: str) -> list[StoredArticle]:
        """The active articles of a story, first one first."""
        rows = self._connection().execute(
            "SELECT * FROM articles WHERE (story = ? OR id = ?) AND removed_at IS NULL ORDER BY added_at, id",
            (story, story),
        )
        return [_stored(row) for row in rows]

    def changes_since(self, rowid: int, taken_down_at: float) -> StoreChanges:
        """What happened since the marks, maybe in another process: articles added, ids taken down.

        Lets a server's index follow `ingest` and `remove` run from the command line.
        """
        db = self._connection()
        rows = db.execute(
            "SELECT rowid AS n, * FROM articles WHERE rowid > ? ORDER BY rowid", (rowid,)
        ).fetchall()
        downs = db.execute(
            "SELECT id, taken_down_at FROM articles WHERE taken_down_at > ? ORDER BY taken_down_at",
            (taken_down_at,),
        ).fetchall()
        return StoreChanges(
            added=[_stored(row) for row in rows if row["removed_at"] is None],
            taken_down=[row["id"] for row in downs],
            rowid=rows[-1]["n"] if rows else rowid,
            taken_down_at=downs[-1]["taken_down_at"] if downs else taken_down_at,
        )

    def last_rowid(self) -> int:
        row = self._connection().execute("SELECT MAX(rowid) AS n FROM articles").fetchone()
        return row["n"] or 0

    def claim_story_change(self) -> tuple[str, str] | None:
        """A posted announcement whose story gained an outlet: (article id, message ts); taken once."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT article_id, message_ts FROM announcements"
                " WHERE story_changed = 1 AND state = 'posted' AND not_before <= ? LIMIT 1",
                (self._clock(),),
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE announcements SET story_changed = 0 WHERE article_id = ?", (row["article_id"],)
            )
            return row["article_id"], row["message_ts"]

    def retry_story_change(self, article_id: str, delay: float) -> None:
        """Editing the announcement failed for a while: try again after `delay` seconds."""
        with self._transaction() as db:
            db.execute(
                "UPDATE announcements SET story_changed = 1, not_before = ? WHERE article_id = ?",
                (self._clock() + delay, article_id),
            )

    def get(self, article_id: str) -> StoredArticle | None:
        row = self._connection().execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()
        return _stored(row) if row else None

    def by_source(self, source: str) -> StoredArticle | None:
        row = (
            self._connection()
            .execute("SELECT * FROM articles WHERE source = ? AND removed_at IS NULL", (source,))
            .fetchone()
        )
        return _stored(row) if row else None

    def active_articles(self) -> list[StoredArticle]:
        rows = self._connection().execute(
            "SELECT * FROM articles WHERE removed_at IS NULL ORDER BY added_at, id"
        )
        return [_stored(row) for row in rows]

    def active_sources(self) -> list[str]:
        """The sources of the active folder articles, without their text (for the periodic rescan)."""
        rows = self._connection().execute(
            "SELECT source FROM articles WHERE removed_at IS NULL AND origin = 'folder' ORDER BY source"
        )
        return [row["source"] for row in rows]

    def remember_file(self, source: str, size: int, mtime_ns: int, article_id: str) -> None:
        """The file at `source`, with this size and mtime, holds `article_id`."""
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO files (source, size, mtime_ns, article_id) VALUES (?, ?, ?, ?)",
                (source, size, mtime_ns, article_id),
            )

    def recorded_file(self, source: str, size: int, mtime_ns: int) -> str | None:
        """The article id remembered for `source` when its size and mtime are still these, else None."""
        row = (
            self._connection()
            .execute(
                "SELECT article_id FROM files WHERE source = ? AND size = ? AND mtime_ns = ?",
                (source, size, mtime_ns),
            )
            .fetchone()
        )
        return row["article_id"] if row else None

    # -- announcements --------------------------------------------------------------------------------

    def claim_announcement(self, worker: str, lease_seconds: float) -> Claim | None:
        """Take the oldest due announcement (pending, or posting with an expired lease) for `worker`."""
        now = self._clock()
        with self._transaction() as db:
            row = db.execute(
                "SELECT article_id, attempts, state FROM announcements"
                " WHERE (state = 'pending' AND not_before <= ?) OR (state = 'posting' AND lease_until < ?)"
                " ORDER BY created_at, article_id LIMIT 1",
                (now, now),
            ).fetchone()
            if row is None:
                return None
            lease_until = now + lease_seconds
            claimed = db.execute(
                "UPDATE announcements SET state = 'posting', claimed_by = ?, lease_until = ?,"
                " attempts = attempts + 1"
                " WHERE article_id = ? AND ((state = 'pending' AND not_before <= ?)"
                " OR (state = 'posting' AND lease_until < ?))",
                (worker, lease_until, row["article_id"], now, now),
            ).rowcount
            if not claimed:
                return None
            return Claim(row["article_id"], row["attempts"], lease_until, recovered=row["state"] == "posting")

    def finish_announcement(self, article_id: str, worker: str, message_ts: str) -> bool:
        """Record the post; False when `worker` no longer holds the claim (it expired and moved on)."""
        with self._transaction() as db:
            return bool(
                db.execute(
                    "UPDATE announcements SET state = 'posted', message_ts = ?, posted_at = ?, lease_until = NULL"
                    " WHERE article_id = ? AND state = 'posting' AND claimed_by = ?",
                    (message_ts, self._clock(), article_id, worker),
                ).rowcount
            )

    def retry_announcement(self, article_id: str, worker: str, error: str, delay: float) -> bool:
        """Give the claim back, to be tried again after `delay` seconds (by any worker)."""
        with self._transaction() as db:
            return bool(
                db.execute(
                    "UPDATE announcements SET state = 'pending', not_before = ?, last_error = ?,"
                    " claimed_by = NULL, lease_until = NULL"
                    " WHERE article_id = ? AND state = 'posting' AND claimed_by = ?",
                    (self._clock() + delay, error, article_id, worker),
                ).rowcount
            )

    def fail_announcement(self, article_id: str, worker: str, error: str) -> bool:
        """Give up on an announcement Slack will never accept (e.g. channel_not_found)."""
        with self._transaction() as db:
            return bool(
                db.execute(
                    "UPDATE announcements SET state = 'failed', last_error = ?, lease_until = NULL"
                    " WHERE article_id = ? AND state = 'posting' AND claimed_by = ?",
                    (error, article_id, worker),
                ).rowcount
            )

    def announcement_state(self, article_id: str) -> AnnouncementState | None:
        row = (
            self._connection()
            .execute("SELECT state FROM announcements WHERE article_id = ?", (article_id,))
            .fetchone()
        )
        return row["state"] if row else None

    def counts(self) -> dict[str, int]:
        """Announcements by state, for logs and tests."""
        rows = self._connection().execute("SELECT state, COUNT(*) AS n FROM announcements GROUP BY state")
        return {row["state"]: row["n"] for row in rows}


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error): writers queue up instead of failing mid-way."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type, exc, tb) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


def _stored(row: sqlite3.Row) -> StoredArticle:
    return StoredArticle(
        id=row["id"],
        source=row["source"],
        title=row["title"],
        date=dt.date.fromisoformat(row["date"]) if row["date"] else None,
        language=row["language"],
        text=row["text"],
        added_at=row["added_at"],
        changed_at=row["changed_at"],
        removed_at=row["removed_at"],
        url=row["url"],
        outlet=row["outlet"],
        story=row["story"],
        origin=row["origin"],
        date_source=row["date_source"],
        taken_down_at=row["taken_down_at"],
    )


def article_of(stored: StoredArticle) -> Article:
    """The article again, reparsed from its stored text (the loader's rules may have improved)."""
    article = parse_article(stored.text, stored.source)
    return article.model_copy(
        update={
            "title": stored.title,
            "date": article.date or stored.date,
            "url": stored.url,
            "outlet": stored.outlet,
            "date_source": stored.date_source,
        }
    )


def index_from_store(store: ArticleStore, index: SearchIndex | None = None) -> SearchIndex:
    """An index of every active stored article, so a restart need not re-read the folder."""
    index = index if index is not None else SearchIndex()
    for stored in store.active_articles():
        index.add(article_of(stored))
    return index
