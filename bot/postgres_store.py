"""The PostgreSQL store: the `ArticleStore` for several replicas sharing one database.

Same rules as the SQLite store (see `bot.store`), with PostgreSQL's tools for concurrent writers:
- claims take the oldest due announcement with `FOR UPDATE SKIP LOCKED` and a lease, so replicas
  claiming at once take different rows and never wait on each other;
- writes to articles take one transaction-scoped advisory lock, as SQLite's `BEGIN IMMEDIATE`
  serializes them, so two replicas recording the same file cannot both insert it, and the change
  log's sequence numbers commit in order (a reader following `seq` never skips one still in flight);
- each change is also sent with NOTIFY (delivered at commit): a listener thread per replica, on its
  own connection, wakes the index's follower at once; the change log poll is the safety net;
- leases (announcements, feeds) and a feed's next poll are measured on the database's clock, so
  replicas with skewed clocks agree on when a lease has run out and when a feed is due;
- the change log is pruned by the database's clock too (`prune_changes`).

Connections come from a psycopg_pool pool, checked before use (a restarted server costs a reconnect,
not an error). A database that is down or does not answer raises `StoreUnavailable` within the
connect, pool and statement timeouts: nothing hangs.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from bot.feed_store import PostgresFeedStore
from bot.feedback_store import PostgresFeedbackStore
from bot.migrations import migrate_postgres
from bot.postgres_channel_store import PostgresChannelStore
from bot.store import (
    BASELINE_KEY,
    CHANGES_PER_READ,
    PROBE_KEY,
    PRUNED_KEY,
    AnnouncementState,
    ChangeKind,
    Claim,
    Origin,
    RecordResult,
    StoreChanges,
    StoredArticle,
    StoreUnavailable,
    check_not_pruned,
    prune_bound,
    split_changes,
)
from search import Article

log = logging.getLogger(__name__)

# pg_advisory_xact_lock key serializing writes to articles (distinct from the migration lock).
ARTICLES_LOCK = 0x6D697374_72616C02
CHANNEL = "articles_changed"  # NOTIFY channel of the change log (its payload: the change's seq)
LISTEN_RETRY_SECONDS = 1.0
DUE = "(state IN ('pending', 'unsure') AND not_before <= %(now)s) OR (state = 'posting' AND lease_until < %(now)s)"


class PostgresStore:
    """PostgreSQL through a small connection pool; one short transaction per call."""

    def __init__(
        self,
        database_url: str,
        *,
        clock=time.time,
        max_connections: int = 4,
        connect_timeout: float = 5,
        statement_timeout: float = 15,
    ) -> None:
        self._clock = clock
        self._db_clock = clock is time.time  # leases on the server's clock, unless a test moves one
        conninfo, self._where = _connection_settings(database_url, connect_timeout, statement_timeout)
        # One plain connection first: it fails fast with the server's own reason, and migrates.
        try:
            with psycopg.connect(conninfo) as db:
                migrate_postgres(db, clock=clock)
        except psycopg.OperationalError as error:
            raise StoreUnavailable(f"{self._where} is unreachable: {_reason(error)}") from None
        self._pool = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=max_connections,
            timeout=connect_timeout + 1,  # for a free connection, or a new one while the server is down
            check=ConnectionPool.check_connection,
            name="store",
            open=True,
        )
        self._conninfo = conninfo
        self._listener: ChangeListener | None = None
        self.feeds = PostgresFeedStore(self._cursor, clock, self._now)
        self.channels = PostgresChannelStore(self)
        self.feedback = PostgresFeedbackStore(self)

    # -- connections ----------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        """A pooled connection in a transaction: committed at the end, rolled back on error."""
        try:
            with self._pool.connection() as db:
                yield db
        except PoolTimeout:
            raise StoreUnavailable(
                f"{self._where} is unreachable or overloaded: no connection within {self._pool.timeout:g} s"
            ) from None
        except psycopg.errors.QueryCanceled:
            raise StoreUnavailable(f"{self._where} did not answer within the statement timeout") from None
        except psycopg.OperationalError as error:
            raise StoreUnavailable(f"{self._where} failed: {_reason(error)}") from None

    @contextlib.contextmanager
    def _cursor(self, *, write_articles: bool = False) -> Iterator[psycopg.Cursor]:
        with self._connection() as db, db.cursor(row_factory=dict_row) as cursor:
            if write_articles:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", (ARTICLES_LOCK,))
            yield cursor

    @contextlib.contextmanager
    def _shared(self, *, write_articles: bool = False) -> Iterator[QmarkCursor]:
        """A cursor for the statements shared with the SQLite store (their `?` placeholders)."""
        with self._cursor(write_articles=write_articles) as cursor:
            yield QmarkCursor(cursor)

    def _one(self, sql: str, params: dict | tuple = ()) -> dict | None:
        with self._cursor() as cursor:
            return cursor.execute(sql, params).fetchone()

    def close(self) -> None:
        if self._listener is not None:
            self._listener.stop()
        self._pool.close()

    def _now(self, db: psycopg.Cursor) -> float:
        """The time for leases: the database server's (one clock for every replica)."""
        if not self._db_clock:
            return self._clock()
        return db.execute("SELECT extract(epoch FROM clock_timestamp())::float8 AS now").fetchone()["now"]

    reopened = 0  # a server is never "put back" under us as a SQLite file can be

    def problem(self) -> str | None:
        """Why the store cannot record now (the server down, or not answering), or None."""
        try:
            with self._cursor() as cursor:
                cursor.execute(
                    "INSERT INTO meta (key, value) VALUES (%s, %s)"
                    " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                    (PROBE_KEY, str(self._clock())),
                )
        except StoreUnavailable as error:
            return str(error)
        return None

    # -- baseline -------------------------------------------------------------------------------------

    def baseline_done(self) -> bool:
        return self._one("SELECT 1 AS done FROM meta WHERE key = %s", (BASELINE_KEY,)) is not None

    def mark_baseline_done(self) -> None:
        with self._cursor() as cursor:
            cursor.execute(
                "INSERT INTO meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO NOTHING",
                (BASELINE_KEY, str(self._clock())),
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
        with self._cursor(write_articles=True) as db:
            existing = db.execute(
                "SELECT source, removed_at, taken_down_at FROM articles WHERE id = %s", (article.id,)
            ).fetchone()
            if existing is not None and existing["taken_down_at"] is not None:
                return RecordResult("removed", article.id)
            if existing is not None and existing["removed_at"] is None:
                return RecordResult("known", article.id)
            previous = db.execute(
                "SELECT id FROM articles WHERE source = %s AND removed_at IS NULL AND id != %s",
                (article.source, article.id),
            ).fetchone()
            replaced_id = previous["id"] if previous else None
            if replaced_id:
                db.execute("UPDATE articles SET removed_at = %s WHERE id = %s", (now, replaced_id))
                _log_change(db, replaced_id, "removed", now)
            if existing is not None:
                db.execute(
                    "UPDATE articles SET source = %s, removed_at = NULL, changed_at = %s WHERE id = %s",
                    (article.source, now, article.id),
                )
                _log_change(db, article.id, "added", now)
                return RecordResult("restored", article.id, replaced_id)
            db.execute(
                "INSERT INTO articles (id, source, title, date, language, text, added_at, changed_at,"
                " url, outlet, story, origin, date_source)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    article.id,
                    article.source,
                    article.title,
                    article.date,
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
            _log_change(db, article.id, "added", now)
            if story is not None:
                db.execute("UPDATE announcements SET story_changed = 1 WHERE article_id = %s", (story,))
            state = "pending" if announce and not replaced_id and story is None else "skipped"
            db.execute(
                "INSERT INTO announcements (article_id, state, created_at) VALUES (%s, %s, %s)",
                (article.id, state, now),
            )
            return RecordResult("updated" if replaced_id else "added", article.id, replaced_id)

    def mark_removed(self, source: str) -> str | None:
        """Mark the active article at `source` removed; its id, or None when there was none."""
        now = self._clock()
        with self._cursor(write_articles=True) as db:
            row = db.execute(
                "UPDATE articles SET removed_at = %s WHERE source = %s AND removed_at IS NULL RETURNING id",
                (now, source),
            ).fetchone()
            if row is None:
                return None
            _log_change(db, row["id"], "removed", now)
            return row["id"]

    def take_down(self, article_id: str) -> bool:
        """An operator removes the article: out of every answer, and never recorded again."""
        now = self._clock()
        with self._cursor(write_articles=True) as db:
            done = db.execute(
                "UPDATE articles SET removed_at = COALESCE(removed_at, %s), taken_down_at = %s"
                " WHERE id = %s AND taken_down_at IS NULL",
                (now, now, article_id),
            ).rowcount
            if done:
                _log_change(db, article_id, "taken_down", now)
            return bool(done)

    def by_url(self, url: str) -> StoredArticle | None:
        """The article at `url` (normalised), active or taken down; None when there is none."""
        row = self._one(
            "SELECT * FROM articles WHERE url = %s AND (removed_at IS NULL OR taken_down_at IS NOT NULL)"
            " ORDER BY removed_at IS NOT NULL, added_at LIMIT 1",
            (url,),
        )
        return StoredArticle(**row) if row else None

    def story_members(self, story: str) -> list[StoredArticle]:
        """The active articles of a story, first one first."""
        with self._cursor() as db:
            rows = db.execute(
                "SELECT * FROM articles WHERE (story = %s OR id = %s) AND removed_at IS NULL"
                " ORDER BY added_at, id",
                (story, story),
            ).fetchall()
        return [StoredArticle(**row) for row in rows]

    def changes_since(self, seq: int) -> StoreChanges:
        """The articles added, removed or taken down after change `seq`, maybe by another replica
        (see `SqliteStore.changes_since`)."""
        with self._cursor() as db:
            changes = db.execute(
                "SELECT seq, article_id FROM changes WHERE seq > %s ORDER BY seq LIMIT %s",
                (seq, CHANGES_PER_READ),
            ).fetchall()
            # Read after the rows (each statement sees the latest commits): see `SqliteStore`.
            pruned = db.execute("SELECT value FROM meta WHERE key = %s", (PRUNED_KEY,)).fetchone()
            check_not_pruned(seq, pruned and int(pruned["value"]))
            if not changes:
                return StoreChanges([], [], seq)
            ids = list(dict.fromkeys(row["article_id"] for row in changes))
            rows = db.execute("SELECT * FROM articles WHERE id = ANY(%s)", (ids,)).fetchall()
        return split_changes([StoredArticle(**row) for row in rows], ids, changes[-1]["seq"])

    def last_change(self) -> int:
        row = self._one("SELECT COALESCE(MAX(seq), 0) AS n FROM changes")
        return row["n"]

    def prune_changes(self, keep_seconds: float, keep_rows: int) -> int:
        """Delete the changes older than `keep_seconds` by the database's clock, keeping the newest
        `keep_rows` (see `SqliteStore.prune_changes`). Under the articles lock: never while a change
        is being written, nor twice at once by two replicas."""
        with self._cursor(write_articles=True) as db:
            oldest_kept = db.execute(
                "SELECT seq FROM changes ORDER BY seq DESC LIMIT 1 OFFSET %s", (max(keep_rows, 1) - 1,)
            ).fetchone()
            first_recent = db.execute(
                "SELECT MIN(seq) AS seq FROM changes WHERE at >= %s", (self._now(db) - keep_seconds,)
            ).fetchone()
            bound = prune_bound(oldest_kept and oldest_kept["seq"], first_recent["seq"])
            if bound is None:
                return 0
            deleted = db.execute("DELETE FROM changes WHERE seq <= %s", (bound,)).rowcount
            if deleted:
                db.execute(
                    "INSERT INTO meta (key, value) VALUES (%s, %s)"
                    " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                    (PRUNED_KEY, str(bound)),
                )
            return deleted

    def follow_changes(self, on_change: Callable[[], None]) -> None:
        """Call `on_change` (from a listener thread) as soon as any replica commits a change."""
        if self._listener is None:
            self._listener = ChangeListener(self._conninfo, on_change).start()

    def claim_story_change(self) -> tuple[str, str] | None:
        """A posted announcement whose story gained an outlet: (article id, message ts); taken once."""
        with self._cursor() as db:
            row = db.execute(
                "WITH due AS (SELECT article_id FROM announcements"
                " WHERE story_changed = 1 AND state = 'posted' AND not_before <= %s"
                " LIMIT 1 FOR UPDATE SKIP LOCKED)"
                " UPDATE announcements AS a SET story_changed = 0 FROM due WHERE a.article_id = due.article_id"
                " RETURNING a.article_id, a.message_ts",
                (self._now(db),),
            ).fetchone()
        return (row["article_id"], row["message_ts"]) if row else None

    def retry_story_change(self, article_id: str, delay: float) -> None:
        """Editing the announcement failed for a while: try again after `delay` seconds."""
        with self._cursor() as db:
            db.execute(
                "UPDATE announcements SET story_changed = 1, not_before = %s WHERE article_id = %s",
                (self._now(db) + delay, article_id),
            )

    def get(self, article_id: str) -> StoredArticle | None:
        row = self._one("SELECT * FROM articles WHERE id = %s", (article_id,))
        return StoredArticle(**row) if row else None

    def by_source(self, source: str) -> StoredArticle | None:
        row = self._one("SELECT * FROM articles WHERE source = %s AND removed_at IS NULL", (source,))
        return StoredArticle(**row) if row else None

    def active_articles(self) -> list[StoredArticle]:
        with self._cursor() as db:
            rows = db.execute("SELECT * FROM articles WHERE removed_at IS NULL ORDER BY added_at, id")
            return [StoredArticle(**row) for row in rows]

    def active_sources(self) -> list[str]:
        """The sources of the active folder articles, without their text (for the periodic rescan)."""
        with self._cursor() as db:
            rows = db.execute(
                "SELECT source FROM articles WHERE removed_at IS NULL AND origin = 'folder' ORDER BY source"
            )
            return [row["source"] for row in rows]

    def active_ids(self) -> set[str]:
        """The ids of the active articles, without their text (to check the saved index at start)."""
        with self._cursor() as db:
            return {row["id"] for row in db.execute("SELECT id FROM articles WHERE removed_at IS NULL")}

    def remember_file(self, source: str, size: int, mtime_ns: int, article_id: str) -> None:
        """The file at `source`, with this size and mtime, holds `article_id`."""
        with self._cursor() as db:
            db.execute(
                "INSERT INTO files (source, size, mtime_ns, article_id) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (source) DO UPDATE SET size = EXCLUDED.size, mtime_ns = EXCLUDED.mtime_ns,"
                " article_id = EXCLUDED.article_id",
                (source, size, mtime_ns, article_id),
            )

    def save_vectors(self, article_id: str, model: str, vectors: Mapping[int, bytes]) -> None:
        """Keep an active article's passage embeddings (float32 bytes by passage position) for
        `model`, replacing those of any other model; nothing for an article no longer active."""
        with self._cursor(write_articles=True) as db:
            active = db.execute(
                "SELECT 1 FROM articles WHERE id = %s AND removed_at IS NULL", (article_id,)
            ).fetchone()
            if not active:
                return
            db.execute(
                "DELETE FROM passage_vectors WHERE article_id = %s AND model <> %s", (article_id, model)
            )
            db.executemany(
                "INSERT INTO passage_vectors (article_id, position, model, vector) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (article_id, position, model) DO UPDATE SET vector = EXCLUDED.vector",
                [(article_id, position, model, vector) for position, vector in vectors.items()],
            )

    def vectors_for(self, article_ids: Iterable[str], model: str) -> dict[str, dict[int, bytes]]:
        """The kept embeddings of `model` for these articles, by article and passage position."""
        found: dict[str, dict[int, bytes]] = {}
        with self._cursor() as db:
            rows = db.execute(
                "SELECT article_id, position, vector FROM passage_vectors"
                " WHERE model = %s AND article_id = ANY(%s)",
                (model, list(article_ids)),
            )
            for row in rows:
                found.setdefault(row["article_id"], {})[row["position"]] = bytes(row["vector"])
        return found

    def recorded_file(self, source: str, size: int, mtime_ns: int) -> str | None:
        """The article id remembered for `source` when its size and mtime are still these, else None."""
        row = self._one(
            "SELECT article_id FROM files WHERE source = %s AND size = %s AND mtime_ns = %s",
            (source, size, mtime_ns),
        )
        return row["article_id"] if row else None

    # -- announcements --------------------------------------------------------------------------------

    def claim_announcement(self, worker: str, lease_seconds: float) -> Claim | None:
        """Take the oldest due announcement (pending or unsure, or posting with an expired lease);
        rows another replica is claiming right now are skipped, not waited for."""
        with self._cursor() as db:
            now = self._now(db)
            row = db.execute(
                f"WITH due AS (SELECT article_id, attempts, state FROM announcements WHERE {DUE}"
                " ORDER BY created_at, article_id LIMIT 1 FOR UPDATE SKIP LOCKED)"
                " UPDATE announcements AS a SET state = 'posting', claimed_by = %(worker)s,"
                " lease_until = %(lease_until)s, attempts = a.attempts + 1"
                " FROM due WHERE a.article_id = due.article_id"
                " RETURNING a.article_id, due.attempts, due.state AS was",
                {"now": now, "worker": worker, "lease_until": now + lease_seconds},
            ).fetchone()
        if row is None:
            return None
        recovered = row["was"] in ("posting", "unsure")
        return Claim(row["article_id"], row["attempts"], now + lease_seconds, recovered=recovered)

    def _update_claimed(self, assignments: str, params: dict) -> bool:
        """Apply `assignments` to the announcement while `worker` holds its claim; False otherwise.
        `%(now)s` is the database's time (see `_now`)."""
        with self._cursor() as db:
            params = {**params, "now": self._now(db)}
            return bool(
                db.execute(
                    f"UPDATE announcements SET {assignments}"
                    " WHERE article_id = %(article_id)s AND state = 'posting' AND claimed_by = %(worker)s",
                    params,
                ).rowcount
            )

    def finish_announcement(self, article_id: str, worker: str, message_ts: str) -> bool:
        """Record the post; False when `worker` no longer holds the claim (it expired and moved on)."""
        return self._update_claimed(
            "state = 'posted', message_ts = %(ts)s, posted_at = %(now)s, lease_until = NULL",
            {"article_id": article_id, "worker": worker, "ts": message_ts},
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
        when the failed try may have posted it; `throttled` is no failed attempt."""
        return self._update_claimed(
            "state = %(state)s, not_before = %(now)s + %(delay)s, last_error = %(error)s,"
            " claimed_by = NULL, lease_until = NULL, attempts = attempts - %(throttled)s",
            {
                "article_id": article_id,
                "worker": worker,
                "state": "unsure" if unsure else "pending",
                "delay": delay,
                "error": error,
                "throttled": int(throttled),
            },
        )

    def fail_announcement(self, article_id: str, worker: str, error: str) -> bool:
        """Give up on an announcement Slack will never accept (e.g. channel_not_found)."""
        return self._update_claimed(
            "state = 'failed', last_error = %(error)s, lease_until = NULL",
            {"article_id": article_id, "worker": worker, "error": error},
        )

    def announcement_state(self, article_id: str) -> AnnouncementState | None:
        row = self._one("SELECT state FROM announcements WHERE article_id = %s", (article_id,))
        return row["state"] if row else None

    def counts(self) -> dict[str, int]:
        """Announcements by state, for logs and tests."""
        with self._cursor() as db:
            rows = db.execute("SELECT state, COUNT(*) AS n FROM announcements GROUP BY state")
            return {row["state"]: row["n"] for row in rows}


class QmarkCursor:
    """A cursor taking SQL written with SQLite's `?` placeholders, as psycopg's `%s`: the statements
    both stores share are written once that way (none has a literal `?` or `%`)."""

    def __init__(self, cursor: psycopg.Cursor) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: tuple = ()) -> psycopg.Cursor:
        return self._cursor.execute(sql.replace("?", "%s"), params)

    def executemany(self, sql: str, params: Iterable[tuple]) -> None:
        self._cursor.executemany(sql.replace("?", "%s"), params)


def _log_change(db: psycopg.Cursor, article_id: str, kind: ChangeKind, now: float) -> None:
    """One row of the change log, and its NOTIFY (sent when the transaction commits)."""
    seq = db.execute(
        "INSERT INTO changes (article_id, kind, at) VALUES (%s, %s, %s) RETURNING seq",
        (article_id, kind, now),
    ).fetchone()["seq"]
    if kind != "added":  # an article leaving takes its passage embeddings with it
        db.execute("DELETE FROM passage_vectors WHERE article_id = %s", (article_id,))
    db.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(seq)))


class ChangeListener:
    """LISTEN on the change log's channel from a thread with its own connection; `on_change` for each
    notification. A lost connection is opened again (after a pause), then `on_change` once, as
    changes may have been missed meanwhile (the caller reads the change log, so nothing is lost)."""

    def __init__(self, conninfo: str, on_change: Callable[[], None]) -> None:
        self.conninfo = conninfo
        self.on_change = on_change
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="change-listener", daemon=True)

    def start(self) -> ChangeListener:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True) as db:
                    db.execute(f"LISTEN {CHANNEL}")
                    self.on_change()
                    while not self._stop.is_set():
                        # A short timeout: `stop` is noticed within it, and a dead server by the
                        # connection's keepalives.
                        for _ in db.notifies(timeout=0.5, stop_after=100):
                            self.on_change()
            except psycopg.Error as error:
                if not self._stop.is_set():
                    log.warning("Listening for changes failed (%s); listening again shortly", _reason(error))
                    self._stop.wait(LISTEN_RETRY_SECONDS)
            except Exception:
                log.exception("The change listener failed unexpectedly; listening again shortly")
                self._stop.wait(LISTEN_RETRY_SECONDS)


def _connection_settings(
    database_url: str, connect_timeout: float, statement_timeout: float
) -> tuple[str, str]:
    """The libpq connection string with our timeouts (the URL's own parameters win), and the server's
    name for messages (host, port and database: never the password)."""
    params = {
        "connect_timeout": max(1, round(connect_timeout)),
        "application_name": "mistral-news-bot",
        # A server that vanishes without closing the connection (a network split, a host gone) is
        # noticed by TCP (unacknowledged data, unanswered keepalives), not waited on forever.
        "tcp_user_timeout": int((connect_timeout + statement_timeout) * 1000),
        "keepalives": 1,
        "keepalives_idle": 10,
        "keepalives_interval": 5,
        "keepalives_count": 3,
        **conninfo_to_dict(database_url),
    }
    params["options"] = (
        f"{params.get('options', '')} -c statement_timeout={int(statement_timeout * 1000)}".strip()
    )
    where = f"PostgreSQL at {params.get('host', 'localhost')}:{params.get('port', 5432)}/{params.get('dbname', '')}"
    return make_conninfo("", **params), where


def _reason(error: Exception) -> str:
    """The first line of a driver error (libpq messages run over several)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
