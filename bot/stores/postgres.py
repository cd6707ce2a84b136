"""The PostgreSQL store: the `ArticleStore` for several replicas sharing one database.

Same rules as the SQLite store (see `bot.stores.articles`), with PostgreSQL's tools for concurrent writers:
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
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from bot.stores.answer_queue import PostgresAnswerStore
from bot.stores.articles import (
    PROBE_KEY,
    ChangeKind,
    Claim,
    SqlStore,
    StoreUnavailable,
)
from bot.stores.feedback import PostgresFeedbackStore
from bot.stores.feeds import PostgresFeedStore
from bot.stores.migrations import migrate_postgres
from bot.stores.postgres_channels import PostgresChannelStore

log = logging.getLogger(__name__)

# pg_advisory_xact_lock key serializing writes to articles (distinct from the migration lock).
ARTICLES_LOCK = 0x6D697374_72616C02
CHANNEL = "articles_changed"  # NOTIFY channel of the change log (its payload: the change's seq)
LISTEN_RETRY_SECONDS = 1.0
DUE = "(state IN ('pending', 'unsure') AND not_before <= %(now)s) OR (state = 'posting' AND lease_until < %(now)s)"


class PostgresStore(SqlStore):
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
        self._closed = False
        self._listener: ChangeListener | None = None
        self.feeds = PostgresFeedStore(self._cursor, clock, self._now)
        self.channels = PostgresChannelStore(self)
        self.feedback = PostgresFeedbackStore(self)
        self.answers = PostgresAnswerStore(self)

    # -- connections ----------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        """A pooled connection in a transaction: committed at the end, rolled back on error.

        After `close`, StoreUnavailable; a connection taken before is closed once given back."""
        if self._closed:
            raise StoreUnavailable(f"the store on {self._where} was closed (the app is stopping)")
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

    def _reading(self) -> AbstractContextManager[QmarkCursor]:
        return self._shared()

    def _writing(self, *, articles: bool = False) -> AbstractContextManager[QmarkCursor]:
        return self._shared(write_articles=articles)

    def _log_change(self, db: QmarkCursor, article_id: str, kind: ChangeKind, now: float) -> None:
        """One row of the change log, and its NOTIFY (sent when the transaction commits)."""
        seq = db.execute(
            "INSERT INTO changes (article_id, kind, at) VALUES (?, ?, ?) RETURNING seq",
            (article_id, kind, now),
        ).fetchone()["seq"]
        if kind != "added":  # an article leaving takes its passage embeddings with it
            db.execute("DELETE FROM passage_vectors WHERE article_id = ?", (article_id,))
        db.execute("SELECT pg_notify(?, ?)", (CHANNEL, str(seq)))

    def close(self) -> None:
        self._closed = True
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

    # -- changes --------------------------------------------------------------------------------------

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


class QmarkCursor:
    """A cursor taking SQL written with SQLite's `?` placeholders, as psycopg's `%s`: the statements
    both stores share are written once that way (none has a literal `?` or `%`)."""

    def __init__(self, cursor: psycopg.Cursor) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: tuple = ()) -> psycopg.Cursor:
        return self._cursor.execute(sql.replace("?", "%s"), params)

    def executemany(self, sql: str, params: Iterable[tuple]) -> None:
        self._cursor.executemany(sql.replace("?", "%s"), params)


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
