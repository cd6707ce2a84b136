"""The store: every article ever ingested, and the outbox of announcements to post.

`ArticleStore` is the interface the app depends on; `SqliteStore` is the implementation for a
single host, `bot.stores.postgres.PostgresStore` the one for several replicas on one database (chosen
by `open_store` from DATABASE_URL). Their schemas come from `bot.stores.migrations`.

Articles are keyed by their content-derived id. A file's path relative to the articles folder is its
`source`; at most one active article has a given source. When a file changes, its old article is
marked removed and the new content becomes a new article *without* an announcement: an edit is not
news. An announcement row is created in the same transaction as its article, so an article is never
recorded without its announcement decision.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import quote

from bot.stores.answer_queue import AnswerStore, SqliteAnswerStore
from bot.stores.channels import ChannelStore, SqliteChannelStore, retry_state
from bot.stores.feedback import FeedbackStore, SqliteFeedbackStore
from bot.stores.feeds import FeedStore, SqliteFeedStore
from bot.stores.migrations import migrate_sqlite
from bot.stores.sqlite_connection import Connection
from search import Article, SearchIndex, parse_article

log = logging.getLogger(__name__)

RecordOutcome = Literal["added", "updated", "known", "restored", "removed"]
Origin = Literal["folder", "file", "feed", "link"]  # the articles folder, `ingest FILE`, a feed, a link
# 'unsure': a post timed out or was cut off, so it may have gone out; it is retried like 'pending',
# but only after looking for it in the channel.
AnnouncementState = Literal["pending", "unsure", "posting", "posted", "skipped", "failed"]

BASELINE_KEY = "baseline_done"
PRUNED_KEY = "changes_pruned_through"  # meta: the highest `seq` pruned from the change log
POSTGRES_SCHEMES = ("postgresql://", "postgres://")
PROBE_KEY = "health_probe"


class StoreUnavailable(RuntimeError):
    """The store cannot record anything now: the database cannot be reached or did not answer in
    time, or its file was deleted, replaced or made read-only. The message says which and why.

    Nothing was recorded: the caller keeps the work and tries again once the store works.
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


ChangeKind = Literal["added", "removed", "taken_down"]
CHANGES_PER_READ = 1000
# The change log keeps a week of changes by the database's clock, and always its newest rows: a
# reader further behind (a replica's index, the channel posts' cursor) is told so (`ChangesPruned`).
CHANGES_KEEP_SECONDS = 7 * 24 * 3600.0
CHANGES_KEEP_ROWS = 10_000
VECTOR_IDS_PER_READ = 500  # article ids per query of `vectors_for` (SQLite's parameter limit)


@dataclass(frozen=True)
class StoreChanges:
    """What the change log holds after a mark: the articles it touched, as they are now."""

    active: list[StoredArticle]  # added or restored (and still active)
    inactive: list[str]  # removed or taken down (and still so)
    seq: int  # the mark to read from next time


class ChangesPruned(Exception):
    """The changes after `seq` are no longer all in the change log: those up to `through` were pruned.

    The reader must not apply the rest as if it were all: it starts again from the articles table, or
    reads on from `through` knowing what it skipped."""

    def __init__(self, seq: int, through: int) -> None:
        super().__init__(f"the changes after {seq} up to {through} were pruned from the change log")
        self.seq = seq
        self.through = through


@dataclass(frozen=True)
class Claim:
    """An announcement taken by one worker until `lease_until`; `attempts` counts earlier tries."""

    article_id: str
    attempts: int
    lease_until: float
    # Taken over from a worker whose lease ran out, or retried after an unsure post: it may be posted.
    recovered: bool = False


class ArticleStore(Protocol):
    reopened: int  # how many times the database was found replaced and opened again (see `problem`)
    # The other tables of the same database, each through its own store:
    feeds: FeedStore  # the feeds and their items
    channels: ChannelStore  # the channels' watches, posting slots, outbox and digests
    feedback: FeedbackStore  # the questions asked and their votes
    answers: AnswerStore  # the questions acknowledged, until answered

    def baseline_done(self) -> bool: ...
    def mark_baseline_done(self) -> None: ...
    def record(
        self,
        article: Article,
        *,
        announce: bool,
        origin: Origin = "folder",
        story: str | None = None,
        unsure: bool = False,
    ) -> RecordResult: ...
    def mark_removed(self, source: str) -> str | None: ...
    def take_down(self, article_id: str) -> bool: ...
    def by_url(self, url: str) -> StoredArticle | None: ...
    def story_members(self, story: str) -> list[StoredArticle]: ...
    def changes_since(self, seq: int) -> StoreChanges: ...
    def last_change(self) -> int: ...
    def prune_changes(self, keep_seconds: float, keep_rows: int) -> int: ...
    def follow_changes(self, on_change: Callable[[], None]) -> None: ...
    def claim_story_change(self) -> tuple[str, str] | None: ...
    def retry_story_change(self, article_id: str, delay: float) -> None: ...
    def get(self, article_id: str) -> StoredArticle | None: ...
    def by_source(self, source: str) -> StoredArticle | None: ...
    def active_articles(self) -> list[StoredArticle]: ...
    def active_sources(self) -> list[str]: ...
    def active_ids(self) -> set[str]: ...
    def remember_file(self, source: str, size: int, mtime_ns: int, article_id: str) -> None: ...
    def recorded_file(self, source: str, size: int, mtime_ns: int) -> str | None: ...
    def recorded_files(self) -> dict[str, tuple[int, int, str]]: ...
    def save_vectors(self, article_id: str, model: str, vectors: Mapping[int, bytes]) -> None: ...
    def vectors_for(self, article_ids: Iterable[str], model: str) -> dict[str, dict[int, bytes]]: ...
    def claim_announcement(self, worker: str, lease_seconds: float) -> Claim | None: ...
    def finish_announcement(self, article_id: str, worker: str, message_ts: str) -> bool: ...
    def retry_announcement(
        self,
        article_id: str,
        worker: str,
        error: str,
        delay: float,
        *,
        unsure: bool = False,
        throttled: bool = False,
    ) -> bool: ...
    def fail_announcement(self, article_id: str, worker: str, error: str) -> bool: ...
    def announcement_state(self, article_id: str) -> AnnouncementState | None: ...
    def counts(self) -> dict[str, int]: ...
    def problem(self) -> str | None: ...  # why it cannot record now (checked every few seconds)
    def close(self) -> None: ...


def sqlite_path(database_url: str) -> Path:
    """The file of a `sqlite:///relative/path.db` or `sqlite:////absolute/path.db` URL."""
    prefix = "sqlite:///"
    if not database_url.startswith(prefix) or len(database_url) == len(prefix):
        raise ValueError(
            "DATABASE_URL must look like sqlite:///data/bot.db or postgresql://user@host/db,"
            f" not {database_url!r}"
        )
    return Path(database_url[len(prefix) :])


def check_database_url(database_url: str) -> None:
    """ValueError, saying what is expected, unless `database_url` is a PostgreSQL or a SQLite URL."""
    if not database_url.startswith(POSTGRES_SCHEMES):
        sqlite_path(database_url)


def open_store(database_url: str) -> ArticleStore:
    """The store at `database_url`: PostgreSQL for postgresql:// (or postgres://), else a SQLite file
    whose folder is created when missing. Its schema is migrated first (`bot.stores.migrations`)."""
    if database_url.startswith(POSTGRES_SCHEMES):
        from bot.stores.postgres import PostgresStore

        return PostgresStore(database_url)
    path = sqlite_path(database_url)
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteStore(path)


class SqlStore:
    """What both SQL stores do alike: statements written once with SQLite's `?` placeholders, in
    SQL both dialects read. A subclass gives `_reading()` and `_writing()` (a connection or cursor in
    a transaction; `articles=True` for one that writes articles or the change log, which PostgreSQL
    serializes with a lock), `_now(db)` (the database's time, for leases and retry delays),
    `_log_change` and what its dialect does its own way: claims, the health probe, following changes.
    """

    _clock: Callable[[], float]

    def _reading(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _writing(self, *, articles: bool = False) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _now(self, db: Any) -> float:
        raise NotImplementedError

    def _log_change(self, db: Any, article_id: str, kind: ChangeKind, now: float) -> None:
        raise NotImplementedError

    def _one(self, sql: str, params: tuple = ()) -> Any:
        with self._reading() as db:
            return db.execute(sql, params).fetchone()

    def _all(self, sql: str, params: tuple = ()) -> list[Any]:
        with self._reading() as db:
            return db.execute(sql, params).fetchall()

    # -- baseline -------------------------------------------------------------------------------------

    def baseline_done(self) -> bool:
        return self._one("SELECT 1 AS done FROM meta WHERE key = ?", (BASELINE_KEY,)) is not None

    def mark_baseline_done(self) -> None:
        with self._writing() as db:
            db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                (BASELINE_KEY, str(self._clock())),
            )

    # -- articles -------------------------------------------------------------------------------------

    def record(
        self,
        article: Article,
        *,
        announce: bool,
        origin: Origin = "folder",
        story: str | None = None,
        unsure: bool = False,
    ) -> RecordResult:
        """Keep `article`; with `announce`, queue its announcement when it is new (not an update):
        'unsure' with `unsure` (it may have been posted: the channel's history is read first).

        With `story` (the first article of the story it copies), it is kept but not announced, and
        the story's announcement is marked to name one more outlet. An article an operator took down
        stays down ("removed").
        """
        now = self._clock()
        with self._writing(articles=True) as db:
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
                self._log_change(db, replaced_id, "removed", now)
            if existing is not None:
                db.execute(
                    "UPDATE articles SET source = ?, removed_at = NULL, changed_at = ? WHERE id = ?",
                    (article.source, now, article.id),
                )
                self._log_change(db, article.id, "added", now)
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
            self._log_change(db, article.id, "added", now)
            if story is not None:
                db.execute("UPDATE announcements SET story_changed = 1 WHERE article_id = ?", (story,))
            queued = "unsure" if unsure else "pending"
            state = queued if announce and not replaced_id and story is None else "skipped"
            db.execute(
                "INSERT INTO announcements (article_id, state, created_at) VALUES (?, ?, ?)",
                (article.id, state, now),
            )
            return RecordResult("updated" if replaced_id else "added", article.id, replaced_id)

    def mark_removed(self, source: str) -> str | None:
        """Mark the active article at `source` removed; its id, or None when there was none."""
        with self._writing(articles=True) as db:
            row = db.execute(
                "SELECT id FROM articles WHERE source = ? AND removed_at IS NULL", (source,)
            ).fetchone()
            if row is None:
                return None
            now = self._clock()
            db.execute("UPDATE articles SET removed_at = ? WHERE id = ?", (now, row["id"]))
            self._log_change(db, row["id"], "removed", now)
            return row["id"]

    def take_down(self, article_id: str) -> bool:
        """An operator removes the article: out of every answer, and never recorded again."""
        now = self._clock()
        with self._writing(articles=True) as db:
            done = db.execute(
                "UPDATE articles SET removed_at = COALESCE(removed_at, ?), taken_down_at = ?"
                " WHERE id = ? AND taken_down_at IS NULL",
                (now, now, article_id),
            ).rowcount
            if done:
                self._log_change(db, article_id, "taken_down", now)
            return bool(done)

    def by_url(self, url: str) -> StoredArticle | None:
        """The article at `url` (normalised), active or taken down; None when there is none."""
        row = self._one(
            "SELECT * FROM articles WHERE url = ? AND (removed_at IS NULL OR taken_down_at IS NOT NULL)"
            " ORDER BY removed_at IS NOT NULL, added_at LIMIT 1",
            (url,),
        )
        return stored_article(row) if row else None

    def story_members(self, story: str) -> list[StoredArticle]:
        """The active articles of a story, first one first."""
        rows = self._all(
            "SELECT * FROM articles WHERE (story = ? OR id = ?) AND removed_at IS NULL ORDER BY added_at, id",
            (story, story),
        )
        return [stored_article(row) for row in rows]

    def changes_since(self, seq: int) -> StoreChanges:
        """The articles added, removed or taken down after change `seq`, maybe by another process
        (a replica, `ingest`, `remove`): lets a server's index follow them. At most
        `CHANGES_PER_READ` changes a read: call again until `seq` stays. ChangesPruned when some
        changes after `seq` were pruned (see `prune_changes`)."""
        with self._reading() as db:
            changes = db.execute(
                "SELECT seq, article_id FROM changes WHERE seq > ? ORDER BY seq LIMIT ?",
                (seq, CHANGES_PER_READ),
            ).fetchall()
            # The mark is read after the rows (each statement sees the latest commits): a prune in
            # between costs a needless resync, never a gap.
            pruned = db.execute("SELECT value FROM meta WHERE key = ?", (PRUNED_KEY,)).fetchone()
            check_not_pruned(seq, pruned and int(pruned["value"]))
            if not changes:
                return StoreChanges([], [], seq)
            ids = list(dict.fromkeys(row["article_id"] for row in changes))
            rows = db.execute(
                f"SELECT * FROM articles WHERE id IN ({', '.join('?' * len(ids))})", ids
            ).fetchall()
        return split_changes([stored_article(row) for row in rows], ids, changes[-1]["seq"])

    def last_change(self) -> int:
        return self._one("SELECT COALESCE(MAX(seq), 0) AS n FROM changes")["n"]

    def prune_changes(self, keep_seconds: float, keep_rows: int) -> int:
        """Delete the changes older than `keep_seconds` by the database's clock, keeping the newest
        `keep_rows` (at least one: it marks where the log ends); the number deleted. The highest seq
        deleted is kept as the pruned mark: a reader behind it is told (`ChangesPruned`) instead of
        missing changes. As a write to the change log: never while a change is being written, nor
        twice at once."""
        with self._writing(articles=True) as db:
            oldest_kept = db.execute(
                "SELECT seq FROM changes ORDER BY seq DESC LIMIT 1 OFFSET ?", (max(keep_rows, 1) - 1,)
            ).fetchone()
            first_recent = db.execute(
                "SELECT MIN(seq) AS seq FROM changes WHERE at >= ?", (self._now(db) - keep_seconds,)
            ).fetchone()
            bound = prune_bound(oldest_kept and oldest_kept["seq"], first_recent["seq"])
            if bound is None:
                return 0
            deleted = db.execute("DELETE FROM changes WHERE seq <= ?", (bound,)).rowcount
            if deleted:
                db.execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (PRUNED_KEY, str(bound)),
                )
            return deleted

    def retry_story_change(self, article_id: str, delay: float) -> None:
        """Editing the announcement failed for a while: try again after `delay` seconds."""
        with self._writing() as db:
            db.execute(
                "UPDATE announcements SET story_changed = 1, not_before = ? WHERE article_id = ?",
                (self._now(db) + delay, article_id),
            )

    def get(self, article_id: str) -> StoredArticle | None:
        row = self._one("SELECT * FROM articles WHERE id = ?", (article_id,))
        return stored_article(row) if row else None

    def by_source(self, source: str) -> StoredArticle | None:
        row = self._one("SELECT * FROM articles WHERE source = ? AND removed_at IS NULL", (source,))
        return stored_article(row) if row else None

    def active_articles(self) -> list[StoredArticle]:
        rows = self._all("SELECT * FROM articles WHERE removed_at IS NULL ORDER BY added_at, id")
        return [stored_article(row) for row in rows]

    def active_sources(self) -> list[str]:
        """The sources of the active folder articles, without their text (for the periodic rescan)."""
        rows = self._all(
            "SELECT source FROM articles WHERE removed_at IS NULL AND origin = 'folder' ORDER BY source"
        )
        return [row["source"] for row in rows]

    def active_ids(self) -> set[str]:
        """The ids of the active articles, without their text (to check the saved index at start)."""
        return {row["id"] for row in self._all("SELECT id FROM articles WHERE removed_at IS NULL")}

    def remember_file(self, source: str, size: int, mtime_ns: int, article_id: str) -> None:
        """The file at `source`, with this size and mtime, holds `article_id`."""
        with self._writing() as db:
            db.execute(
                "INSERT INTO files (source, size, mtime_ns, article_id) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (source) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns,"
                " article_id = excluded.article_id",
                (source, size, mtime_ns, article_id),
            )

    def save_vectors(self, article_id: str, model: str, vectors: Mapping[int, bytes]) -> None:
        """Keep an active article's passage embeddings (float32 bytes by passage position) for
        `model`, replacing those of any other model; nothing for an article no longer active."""
        with self._writing(articles=True) as db:
            if not db.execute(
                "SELECT 1 FROM articles WHERE id = ? AND removed_at IS NULL", (article_id,)
            ).fetchone():
                return
            db.execute("DELETE FROM passage_vectors WHERE article_id = ? AND model <> ?", (article_id, model))
            db.executemany(
                "INSERT INTO passage_vectors (article_id, position, model, vector) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (article_id, position, model) DO UPDATE SET vector = excluded.vector",
                [(article_id, position, model, vector) for position, vector in vectors.items()],
            )

    def vectors_for(self, article_ids: Iterable[str], model: str) -> dict[str, dict[int, bytes]]:
        """The kept embeddings of `model` for these articles, by article and passage position."""
        found: dict[str, dict[int, bytes]] = {}
        ids = list(article_ids)
        for start in range(0, len(ids), VECTOR_IDS_PER_READ):
            chunk = ids[start : start + VECTOR_IDS_PER_READ]
            rows = self._all(
                "SELECT article_id, position, vector FROM passage_vectors"
                f" WHERE model = ? AND article_id IN ({', '.join('?' * len(chunk))})",
                (model, *chunk),
            )
            for row in rows:
                found.setdefault(row["article_id"], {})[row["position"]] = bytes(row["vector"])
        return found

    def recorded_file(self, source: str, size: int, mtime_ns: int) -> str | None:
        """The article id remembered for `source` when its size and mtime are still these, else None."""
        row = self._one(
            "SELECT article_id FROM files WHERE source = ? AND size = ? AND mtime_ns = ?",
            (source, size, mtime_ns),
        )
        return row["article_id"] if row else None

    def recorded_files(self) -> dict[str, tuple[int, int, str]]:
        """Every remembered file: (size, mtime, article id) by source, in one read (a start's scan)."""
        rows = self._all("SELECT source, size, mtime_ns, article_id FROM files")
        return {row["source"]: (row["size"], row["mtime_ns"], row["article_id"]) for row in rows}

    # -- announcements --------------------------------------------------------------------------------

    def _update_claimed(self, db: Any, assignments: str, values: tuple, article_id: str, worker: str) -> bool:
        """Apply `assignments` (with `values`) to the announcement while `worker` holds its claim;
        False otherwise."""
        return bool(
            db.execute(
                f"UPDATE announcements SET {assignments} WHERE article_id = ? AND state = 'posting' AND claimed_by = ?",
                (*values, article_id, worker),
            ).rowcount
        )

    def finish_announcement(self, article_id: str, worker: str, message_ts: str) -> bool:
        """Record the post; False when `worker` no longer holds the claim (it expired and moved on)."""
        with self._writing() as db:
            return self._update_claimed(
                db,
                "state = 'posted', message_ts = ?, posted_at = ?, lease_until = NULL",
                (message_ts, self._now(db)),
                article_id,
                worker,
            )

    def retry_announcement(
        self,
        article_id: str,
        worker: str,
        error: str,
        delay: float,
        *,
        unsure: bool = False,
        throttled: bool = False,
    ) -> bool:
        """Give the claim back, to be tried again after `delay` seconds (by any worker); `unsure`
        when the failed try may have posted it; `throttled` (it waited for the channel's posting slot
        or Slack's rate limit) is no failed attempt."""
        with self._writing() as db:
            return self._update_claimed(
                db,
                "state = ?, not_before = ?, last_error = ?, claimed_by = NULL, lease_until = NULL,"
                " attempts = attempts - ?",
                (retry_state(unsure), self._now(db) + delay, error, int(throttled)),
                article_id,
                worker,
            )

    def fail_announcement(self, article_id: str, worker: str, error: str) -> bool:
        """Give up on an announcement Slack will never accept (e.g. channel_not_found)."""
        with self._writing() as db:
            return self._update_claimed(
                db, "state = 'failed', last_error = ?, lease_until = NULL", (error,), article_id, worker
            )

    def announcement_state(self, article_id: str) -> AnnouncementState | None:
        row = self._one("SELECT state FROM announcements WHERE article_id = ?", (article_id,))
        return row["state"] if row else None

    def counts(self) -> dict[str, int]:
        """Announcements by state, for logs and tests."""
        rows = self._all("SELECT state, COUNT(*) AS n FROM announcements GROUP BY state")
        return {row["state"]: row["n"] for row in rows}


class SqliteStore(SqlStore):
    """SQLite in WAL mode; one connection per thread, short transactions, atomic claims."""

    def __init__(self, path: str | Path, *, clock=time.time) -> None:
        self.path = Path(path)
        self._clock = clock
        self._local = threading.local()
        self._connections: list[Connection] = []
        self._connections_lock = threading.Lock()
        self._closed = False
        self.reopened = 0  # how many times a file put back at the path was opened
        migrate_sqlite(self._connection(), clock=clock)
        self._identity = _file_identity(self.path)
        self.feeds = SqliteFeedStore(self._connection, self._transaction, clock)
        self.channels = SqliteChannelStore(self)
        self.feedback = SqliteFeedbackStore(self)
        self.answers = SqliteAnswerStore(self)

    # -- connections ----------------------------------------------------------------------------------

    def _connection(self) -> Connection:
        """This thread's connection; a new one when it has none, or its own was closed by a reopen."""
        db = getattr(self._local, "db", None)
        if db is None or db.closed:
            db = self._open_connection()
            self._local.db = db
        return db

    def _open_connection(self) -> Connection:
        self._refuse_if_closed()
        if hasattr(self, "_identity") and _file_identity(self.path) != self._identity:
            raise StoreUnavailable(self._file_problem() or f"the database file {self.path} changed")
        db = self._connect(create=not hasattr(self, "_identity"))
        try:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA busy_timeout=30000")
            _use_wal(db)
            db.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error as error:  # e.g. "disk I/O error" when the file was just deleted
            db.close()
            raise StoreUnavailable(f"cannot open the database file {self.path}: {error}") from None
        with self._connections_lock:
            if self._closed:
                db.close()
            self._refuse_if_closed()
            self._connections.append(db)
        return db

    def _refuse_if_closed(self) -> None:
        if self._closed:
            raise StoreUnavailable(f"the store of {self.path} was closed (the app is stopping)")

    def _connect(self, *, create: bool) -> Connection:
        """A connection to the file; after the first, never one that creates a file gone missing."""
        target = f"file:{quote(str(self.path.absolute()))}" + ("" if create else "?mode=rw")
        try:
            return sqlite3.connect(
                target,
                uri=True,
                timeout=30,
                isolation_level=None,
                check_same_thread=False,
                factory=Connection,
            )
        except sqlite3.Error as error:
            raise StoreUnavailable(f"cannot open the database file {self.path}: {error}") from None

    def _transaction(self):
        return _Transaction(self)

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        yield self._connection()

    def _writing(self, *, articles: bool = False) -> _Transaction:
        """For the shared statements: `_transaction()`, as every one takes the file's write lock."""
        return self._transaction()

    def _now(self, db: sqlite3.Connection) -> float:
        """The one host's clock: the file is on it."""
        return self._clock()

    def _log_change(self, db: sqlite3.Connection, article_id: str, kind: ChangeKind, now: float) -> None:
        """One row of the change log; an article leaving takes its passage embeddings with it."""
        db.execute("INSERT INTO changes (article_id, kind, at) VALUES (?, ?, ?)", (article_id, kind, now))
        if kind != "added":
            db.execute("DELETE FROM passage_vectors WHERE article_id = ?", (article_id,))

    def _drop_connection(self) -> None:
        """Close this thread's connection; the next use opens a new one."""
        db = getattr(self._local, "db", None)
        self._local.db = None
        with self._connections_lock:
            if db in self._connections:
                db.close()
                self._connections.remove(db)

    # -- failure detection ----------------------------------------------------------------------------

    def problem(self) -> str | None:
        """Why the store cannot record now, or None when a write goes through to the file at its path.

        SQLite keeps writing into a deleted or replaced file without an error, and every write would
        be lost: the path must still lead to the file opened. A database put back at the path (a
        restored backup) is reopened. A read-only file or a full disk shows in a small write.
        """
        reason = self._file_problem()
        if _file_identity(self.path) not in (None, self._identity) and self._reopen():
            reason = self._file_problem()
        if reason:
            return reason
        try:
            with self._transaction() as db:
                db.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (PROBE_KEY, str(self._clock()))
                )
        except StoreUnavailable as error:
            return str(error)
        return None

    def _file_problem(self) -> str | None:
        identity = _file_identity(self.path)
        if identity is None:
            return f"the database file {self.path} was deleted; put it back (or restart to start afresh)"
        if identity != self._identity:
            return f"the database file {self.path} was replaced by another file"
        if not os.access(self.path, os.W_OK) or not os.access(self.path.parent, os.W_OK):
            return f"the database file {self.path} (or its folder) is read-only"
        return None

    def _ensure_same_file(self) -> None:
        reason = self._file_problem()
        if reason:
            raise StoreUnavailable(reason)

    def _reopen(self) -> bool:
        """Open the database now at the path (a backup put back); False when it is not a store of ours.

        An empty file, or one that is no database, is told from its first bytes, and the connections
        to the old file are kept: they go on reading (writes are refused while the path leads elsewhere).
        """
        if not _holds_a_database(self.path):
            return False
        with self._connections_lock:
            # The old connections are closed first, their -wal file emptied into the old file: it must
            # never be applied to the file put back (SQLite leaves the -wal of a deleted file behind).
            _empty_wal(self._connections)
            for old in self._connections:
                old.close()
            self._connections.clear()
        try:
            db = sqlite3.connect(self.path, timeout=5, isolation_level=None)
            try:
                if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'articles'").fetchone() is None:
                    return False  # an empty file, another database
                migrate_sqlite(db, clock=self._clock)
            finally:
                db.close()
        except sqlite3.Error:
            return False
        self._identity = _file_identity(self.path)
        self.reopened += 1
        log.warning("The database file %s was put back or replaced: working on it from now on", self.path)
        return True

    def close(self) -> None:
        """Close every thread's connection, each once the statement it runs (if any) is done; from
        then on, the store refuses any use with StoreUnavailable."""
        with self._connections_lock:
            self._closed = True
            for db in self._connections:
                db.close()
            self._connections.clear()
        self._local = threading.local()

    # -- changes --------------------------------------------------------------------------------------

    def follow_changes(self, on_change: Callable[[], None]) -> None:
        """Nothing tells a SQLite reader of another process's writes: the change log is polled."""

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

    # -- announcements --------------------------------------------------------------------------------

    def claim_announcement(self, worker: str, lease_seconds: float) -> Claim | None:
        """Take the oldest due announcement (pending or unsure, or posting with an expired lease)."""
        now = self._clock()
        with self._transaction() as db:
            row = db.execute(
                "SELECT article_id, attempts, state FROM announcements"
                " WHERE (state IN ('pending', 'unsure') AND not_before <= ?)"
                " OR (state = 'posting' AND lease_until < ?)"
                " ORDER BY created_at, article_id LIMIT 1",
                (now, now),
            ).fetchone()
            if row is None:
                return None
            lease_until = now + lease_seconds
            claimed = db.execute(
                "UPDATE announcements SET state = 'posting', claimed_by = ?, lease_until = ?,"
                " attempts = attempts + 1"
                " WHERE article_id = ? AND ((state IN ('pending', 'unsure') AND not_before <= ?)"
                " OR (state = 'posting' AND lease_until < ?))",
                (worker, lease_until, row["article_id"], now, now),
            ).rowcount
            if not claimed:
                return None
            recovered = row["state"] in ("posting", "unsure")
            return Claim(row["article_id"], row["attempts"], lease_until, recovered=recovered)


def _use_wal(db: sqlite3.Connection, attempts: int = 50) -> None:
    """Switch to WAL mode. SQLite answers "database is locked" at once, without waiting for the busy
    timeout, when another process switches a new file at the same moment: try again briefly."""
    for attempt in range(attempts):
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == attempts - 1:
                raise
            time.sleep(0.1)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error): writers queue up instead of failing mid-way.

    StoreUnavailable, rather than a silent loss, when the file is not the one opened (checked before
    and after, as a write into a deleted file succeeds) or SQLite cannot write (read-only, disk I/O);
    the thread's connection is then dropped, as SQLite keeps one opened read-only that way for good.
    """

    def __init__(self, store: SqliteStore) -> None:
        self.store = store
        self.db = store._connection()

    def __enter__(self) -> sqlite3.Connection:
        self.store._ensure_same_file()
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            raise self._unavailable(error) from None
        return self.db

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self.db.execute("ROLLBACK" if exc_type else "COMMIT")
        except sqlite3.Error as error:
            if exc_type is None:
                raise self._unavailable(error) from None
        if exc_type is None:
            self.store._ensure_same_file()
        elif issubclass(exc_type, sqlite3.OperationalError) or exc_type is sqlite3.DatabaseError:
            raise self._unavailable(exc) from None

    def _unavailable(self, error: BaseException) -> StoreUnavailable:
        self.store._drop_connection()
        return StoreUnavailable(f"the database refuses writes: {error}")


def check_not_pruned(seq: int, pruned: int | None) -> None:
    """ChangesPruned when changes after `seq` were pruned: the pruned mark `pruned` is past it."""
    if pruned is not None and pruned > seq:
        raise ChangesPruned(seq, pruned)


def prune_bound(oldest_kept: int | None, first_recent: int | None) -> int | None:
    """The highest seq to prune, or None: below `oldest_kept` (the oldest of the newest rows to keep;
    None when the log holds no more) and below `first_recent` (the first change within the retention
    time; None when there is none). Only a prefix of the log goes: all after it is still there."""
    if oldest_kept is None:
        return None
    return oldest_kept - 1 if first_recent is None else min(oldest_kept, first_recent) - 1


def split_changes(articles: list[StoredArticle], ids: list[str], seq: int) -> StoreChanges:
    """The touched articles `ids` split by what they are now, in the order of their changes."""
    by_id = {article.id: article for article in articles}
    active = [by_id[i] for i in ids if i in by_id and by_id[i].removed_at is None]
    return StoreChanges(active, [i for i in ids if i in by_id and by_id[i].removed_at is not None], seq)


def _empty_wal(connections: list[sqlite3.Connection]) -> None:
    """Checkpoint the -wal file into the database the connections have open, and truncate it."""
    if connections:
        with contextlib.suppress(sqlite3.Error):
            connections[0].execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _holds_a_database(path: Path) -> bool:
    """Whether the file at `path` begins as an SQLite database does; read without SQLite, which would
    apply the old file's -wal file to it."""
    try:
        with path.open("rb") as file:
            return file.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def stored_article(row: Any) -> StoredArticle:
    """The article of a row of `articles` (SQLite keeps its date as ISO text, PostgreSQL as a date)."""
    fields = dict(row)
    if isinstance(fields["date"], str):
        fields["date"] = dt.date.fromisoformat(fields["date"]) if fields["date"] else None
    return StoredArticle(**fields)


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
