"""The PostgreSQL database: several replicas sharing one server.

`PostgresDatabase` gives the repositories pooled connections in a transaction, the server's clock
and PostgreSQL's way of writing the few clauses the dialects differ on:
- claims skip the rows another replica is claiming (`FOR UPDATE SKIP LOCKED`, bot/stores/claims.py);
- writes to articles take one transaction-scoped advisory lock, as SQLite's `BEGIN IMMEDIATE`
  serializes them, so two replicas recording the same file cannot both insert it, and the change
  log's sequence numbers commit in order (a reader following `seq` never skips one still in flight);
- each change is also sent with NOTIFY (delivered at commit): a listener thread per replica, on its
  own connection, wakes the index's follower at once; the change log poll is the safety net;
- leases, retry delays, a feed's next poll and the change log's pruning are measured on the
  server's clock, so replicas with skewed clocks agree.

Statements are written with SQLite's `?` placeholders (`QmarkCursor`). Connections come from a
psycopg_pool pool, checked before use (a restarted server costs a reconnect, not an error). A
database that is down or does not answer raises `StoreUnavailable` within the connect, pool and
statement timeouts: nothing hangs.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from bot.stores.migrations import migrate_postgres
from bot.stores.types import PROBE_KEY, StoreUnavailable

log = logging.getLogger(__name__)

# pg_advisory_xact_lock key serializing writes to articles (distinct from the migration lock).
ARTICLES_LOCK = 0x6D697374_72616C02
CHANNEL = "articles_changed"  # NOTIFY channel of the change log (its payload: the change's seq)
LISTEN_RETRY_SECONDS = 1.0
SERVER_NOW = "extract(epoch FROM clock_timestamp())::float8"


class PostgresDatabase:
    """PostgreSQL through a small connection pool; one short transaction per call."""

    arrival = "seq"  # the column ordering rows by their arrival (feed items: PostgreSQL has no rowid)
    reopened = 0  # a server is never "put back" under us as a SQLite file can be

    def __init__(
        self,
        database_url: str,
        *,
        clock: Callable[[], float] = time.time,
        max_connections: int = 4,
        connect_timeout: float = 5,
        statement_timeout: float = 15,
    ) -> None:
        self.clock = clock
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
    def transaction(self, *, articles: bool = False) -> Iterator[QmarkCursor]:
        """A cursor in a transaction for statements written with `?`; `articles` takes the lock
        serializing writes to articles and the change log."""
        with self._cursor(write_articles=articles) as cursor:
            yield QmarkCursor(cursor)

    def reading(self) -> contextlib.AbstractContextManager[QmarkCursor]:
        return self.transaction()

    def now(self, db: Any) -> float:
        """The time for leases: the database server's (one clock for every replica)."""
        if not self._db_clock:
            return self.clock()
        return db.execute(f"SELECT {SERVER_NOW} AS now").fetchone()["now"]

    @property
    def now_sql(self) -> str | None:
        """The server's clock, read in the statement itself (unless a test moves the clock)."""
        return SERVER_NOW if self._db_clock else None

    def skip_locked(self, of: str) -> str:
        return f" FOR UPDATE OF {of} SKIP LOCKED"

    def for_update(self) -> str:
        return " FOR UPDATE"

    def greatest(self, first: str, second: str) -> str:
        return f"GREATEST({first}, {second})"

    def changed(self, db: Any, seq: int) -> None:
        """NOTIFY the listeners of every replica (sent when the transaction commits)."""
        db.execute("SELECT pg_notify(?, ?)", (CHANNEL, str(seq)))

    def follow(self, on_change: Callable[[], None]) -> None:
        """Call `on_change` (from a listener thread) as soon as any replica commits a change."""
        if self._listener is None:
            self._listener = ChangeListener(self._conninfo, on_change).start()

    def close(self) -> None:
        self._closed = True
        if self._listener is not None:
            self._listener.stop()
        self._pool.close()

    def problem(self) -> str | None:
        """Why the store cannot record now (the server down, or not answering), or None."""
        try:
            with self._cursor() as cursor:
                cursor.execute(
                    "INSERT INTO meta (key, value) VALUES (%s, %s)"
                    " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                    (PROBE_KEY, str(self.clock())),
                )
        except StoreUnavailable as error:
            return str(error)
        return None


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
