"""The SQLite database: one file on one host, in WAL mode, with one connection per thread.

`SqliteDatabase` gives the repositories their connections and transactions (`BEGIN IMMEDIATE`: a
write takes the file's write lock, which serializes claims and the change log), the host's clock,
and SQLite's way of writing the few clauses the dialects differ on. It guards the file: SQLite keeps
writing into a deleted or replaced file without an error, so every write checks that the path still
leads to the file opened, and a database put back at the path (a restored backup) is reopened.

Closing a connection while its own thread runs a statement on it crashed the process (sqlite3 frees
what the statement still uses): `close` and a reopen close every thread's connection from the thread
that calls them, so each call into SQLite, and `close`, hold the connection's lock (`Connection`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bot.stores.migrations import migrate_sqlite
from bot.stores.types import PROBE_KEY, StoreUnavailable

log = logging.getLogger(__name__)


class SqliteDatabase:
    """SQLite in WAL mode; one connection per thread, short transactions."""

    arrival = "rowid"  # the column ordering rows by their arrival (feed items)
    now_sql = None  # "now" is bound as a value: the clock of the one host the file is on

    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.clock = clock
        self._local = threading.local()
        self._connections: list[Connection] = []
        self._connections_lock = threading.Lock()
        self._closed = False
        self.reopened = 0  # how many times a file put back at the path was opened
        migrate_sqlite(self._connection(), clock=clock)
        self._identity = _file_identity(self.path)

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

    @contextlib.contextmanager
    def reading(self) -> Iterator[Connection]:
        yield self._connection()

    def transaction(self, *, articles: bool = False) -> _Transaction:
        """`BEGIN IMMEDIATE` ... `COMMIT`: every write takes the file's write lock, so `articles` asks
        for nothing more."""
        return _Transaction(self)

    def now(self, db: Any) -> float:
        """The one host's clock: the file is on it."""
        return self.clock()

    def skip_locked(self, of: str) -> str:
        """Nothing: a transaction locks the whole database."""
        return ""

    def for_update(self) -> str:
        return ""

    def greatest(self, first: str, second: str) -> str:
        return f"MAX({first}, {second})"

    def changed(self, db: Any, seq: int) -> None:
        """Nothing tells a SQLite reader of another process's writes: the change log is polled."""

    def follow(self, on_change: Callable[[], None]) -> None:
        """Nothing to follow: readers poll the change log."""

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
            with self.transaction() as db:
                db.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (PROBE_KEY, str(self.clock()))
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
                migrate_sqlite(db, clock=self.clock)
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

    def __init__(self, database: SqliteDatabase) -> None:
        self.database = database
        self.db = database._connection()

    def __enter__(self) -> sqlite3.Connection:
        self.database._ensure_same_file()
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
            self.database._ensure_same_file()
        elif issubclass(exc_type, sqlite3.OperationalError) or exc_type is sqlite3.DatabaseError:
            raise self._unavailable(exc) from None

    def _unavailable(self, error: BaseException) -> StoreUnavailable:
        self.database._drop_connection()
        return StoreUnavailable(f"the database refuses writes: {error}")


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


class Connection(sqlite3.Connection):
    """Closed by any thread, never under a statement (see the module's docstring); a call after the
    close raises StoreUnavailable, as the store does once closed."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.in_use = threading.RLock()
        self.closed = False

    def run(self, call: Callable[..., Any], *args: Any) -> Any:
        """`call(*args)`, unless the connection was closed."""
        with self.in_use:
            if self.closed:
                raise StoreUnavailable("the database connection was closed (the store closed or reopened)")
            return call(*args)

    def cursor(self, factory=None) -> Cursor:
        return self.run(super().cursor, factory or Cursor)

    def execute(self, sql: str, parameters=()) -> Cursor:
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, parameters) -> Cursor:
        return self.cursor().executemany(sql, parameters)

    def close(self) -> None:
        with self.in_use:
            self.closed = True
            super().close()


class Cursor(sqlite3.Cursor):
    """A cursor whose statements, fetches and steps run through its connection's `run`."""

    connection: Connection

    def execute(self, sql: str, parameters=()) -> Cursor:
        return self.connection.run(super().execute, sql, parameters)

    def executemany(self, sql: str, parameters) -> Cursor:
        return self.connection.run(super().executemany, sql, parameters)

    def fetchone(self) -> Any:
        return self.connection.run(super().fetchone)

    def fetchall(self) -> list[Any]:
        return self.connection.run(super().fetchall)

    def __next__(self) -> Any:
        return self.connection.run(super().__next__)
