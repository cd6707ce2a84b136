"""The SQLite store's connections (bot/stores/articles.py): one per thread, which another thread may close.

`SqliteStore.close` and a reopen close every thread's connection from the thread that calls them.
Closing a connection while its own thread runs a statement on it crashed the process (sqlite3 frees
what the statement still uses): here each call into SQLite, and `close`, hold the connection's lock.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from typing import Any


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
                from bot.stores.articles import (
                    StoreUnavailable,  # here: bot.stores.articles imports this module
                )

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
