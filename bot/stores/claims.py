"""The one leased claim every kind of queued work uses: announcements, story edits, channel posts,
recounts, digests, answers and feeds.

A claim takes the oldest due rows of a table for a worker until a lease runs out, in the caller's
transaction: one SELECT of the due rows (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so replicas claiming
at once take different rows and never wait on each other; SQLite: its write lock serializes
claims), then one UPDATE per row naming the holder and the lease's end. "Now" is the database's
(`database_now`), so replicas with skewed clocks agree on when a lease ran out. A worker moves
its row on (finish, retry, give back) only while it holds it: `update_held` says whether it did.
A process names itself in its claims with `worker_name`.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from typing import Any

from bot.stores.types import Database


def worker_name() -> str:
    """This process's name in the claims it takes: host, pid and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Lease:
    """One kind of claim: the rows of `table` meeting `due` (SQL over `{now}`, the database's time),
    oldest by `order`, keyed by `key` (within `scope`), held by the worker named in the column
    `holder` until the time in the column `until`; `take` (SQL assignments) is applied to each.
    `select` (from `table` as `alias`, with `joins`) is what the caller learns of each row, as it was;
    `lock` names the rows PostgreSQL locks (`alias` or `table` by default)."""

    table: str
    key: tuple[str, ...]
    due: str
    order: str
    holder: str | None = "claimed_by"  # None: taken once, by the change `take` makes (story edits)
    until: str | None = "lease_until"
    scope: str = ""  # a condition every row of this kind meets (e.g. "reply = 0")
    held: str = ""  # a condition a row meets while held, besides naming its holder
    take: str = ""
    select: str = "*"
    alias: str = ""
    joins: str = ""
    lock: str = ""
    limit: int | None = 1

    def claim(
        self,
        database: Database,
        db: Any,
        worker: str | None,
        lease_seconds: float,
        *,
        params: tuple = (),
        take_params: tuple = (),
        where: str = "",
        now: float | None = None,
    ) -> list[tuple[Any, float]]:
        """Take the due rows (also meeting `where`; `params` for both) for `worker` for `lease_seconds`,
        in the caller's transaction `db`; `now` when the caller's time measures them (digests). The rows
        as they were, each with its lease's end."""
        now_is = database_now(database, db) if now is None else now
        due = f"{self.due} AND {where}" if where else self.due
        rows = db.execute(
            *with_now(
                f"SELECT {self.select} FROM {self.table} {self.alias} {self.joins} WHERE {due}"
                f" ORDER BY {self.order}{f' LIMIT {self.limit}' if self.limit else ''}"
                f"{database.skip_locked(self.lock or self.alias or self.table)}",
                params,
                now_is,
            )
        ).fetchall()
        assignments = [self.take] if self.take else []
        values: tuple = take_params
        if self.holder is not None and self.until is not None:
            assignments.insert(0, f"{self.holder} = ?, {self.until} = {{now}} + ?")
            values = (worker, lease_seconds, *take_params)
        # The lease's end as the database wrote it; "0" for a kind taken once (no lease).
        update = (
            f"UPDATE {self.table} SET {', '.join(assignments)} WHERE {self._where()}"
            f" RETURNING {self.until or '0'} AS lease_until"
        )
        taken = []
        for row in rows:
            held = db.execute(
                *with_now(update, (*values, *(row[column] for column in self.key)), now_is)
            ).fetchall()  # to the end: SQLite finishes an UPDATE ... RETURNING only then
            taken.append((row, held[0]["lease_until"]))
        return taken

    def update_held(self, db: Any, key: tuple, worker: str, assignments: str, values: tuple = ()) -> bool:
        """Apply `assignments` (with `values`) to the row `key` while `worker` holds it, in the
        caller's transaction `db`; False when it no longer does (its lease ran out and another
        worker took it)."""
        return bool(
            db.execute(
                f"UPDATE {self.table} SET {assignments} WHERE {self._where()} AND {self.holder} = ?"
                f"{f' AND {self.held}' if self.held else ''}",
                (*values, *key, worker),
            ).rowcount
        )

    def move(self, database: Database, key: tuple, worker: str, assignments: str, values: tuple = ()) -> bool:
        """`update_held` in a transaction of its own."""
        with database.transaction() as db:
            return self.update_held(db, key, worker, assignments, values)

    def _where(self) -> str:
        return " AND ".join(
            [*(f"{column} = ?" for column in self.key), *([self.scope] if self.scope else [])]
        )


def database_now(database: Database, db: Any) -> str | float:
    """The database's time for a statement: its own SQL where it has one (PostgreSQL's server
    clock, read in the statement itself), else the value of `now`."""
    return database.now_sql or database.now(db)


def with_now(sql: str, params: tuple, now: str | float) -> tuple[str, tuple]:
    """`sql` and `params` with each `{now}` in `sql` the time `now`: SQL written in, or a value bound
    in its place. The statement's text stays the same from call to call, so it is prepared once."""
    if isinstance(now, str):
        return sql.replace("{now}", now), params
    parts = sql.split("{now}")
    bound: list = []
    for part in parts[:-1]:
        taken = part.count("?")
        bound += [*params[:taken], now]
        params = params[taken:]
    return "?".join(parts), (*bound, *params)
