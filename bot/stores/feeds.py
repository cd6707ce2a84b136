"""The feeds to poll and what each one listed, in the store's database (`ArticleStore.feeds`).

`FeedStore` is the protocol; `SqliteFeedStore` and `PostgresFeedStore` implement it on the article
store's database (each store makes its own, handing it its connections: one file, one WAL; one pool),
`tests.fakes.store.MemoryFeedStore` in memory. The contract suite in tests/stores runs on all three.

A feed remembers its conditional-GET validators (ETag, Last-Modified), when to poll it next, and its
run of failures (for the backoff and for /healthz). An item is known by its key (its normalised link,
else its GUID) so that a feed re-listing old items, or changing their GUIDs, brings nothing back.
Items not yet ingested keep their link, title and text, so they are retried without the feed.

With several replicas a feed is polled by one at a time: `claim_due` takes the due feeds by moving
their `next_poll_at` past a lease and naming the claimer in `claimed_by`, in one UPDATE (PostgreSQL:
rows another replica is claiming are skipped); feeds the caller is still polling are left alone. The
poll's end (`polled`, `failed`) sets the real next time and ends the claim. A replica stopping
cleanly gives back the claims it has not finished (`give_back`: due now), and only its own; one that
dies while polling leaves the lease to run out, and another takes the feed then. Callers give
durations (a lease, a delay), never a time: "now" is the database's (PostgreSQL: the server's
clock; SQLite: the clock of the one host the file is on), so replicas with skewed clocks neither
poll a feed twice nor hold one back.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Collection, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from bot.news.sources.feeds import FeedItem

FeedOrigin = Literal["setting", "cli", "slack"]
ItemState = Literal["pending", "done", "backlog", "given_up"]


@dataclass(frozen=True)
class FeedRow:
    url: str
    origin: FeedOrigin
    added_at: float
    title: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    next_poll_at: float = 0.0
    failures: int = 0
    failing_since: float | None = None
    last_error: str | None = None
    last_ok_at: float | None = None
    claimed_by: str | None = None  # the process polling it, until its poll ends or it gives it back

    @property
    def public_only(self) -> bool:
        """A feed given in Slack may only reach public addresses, its pages included."""
        return self.origin == "slack"


class FeedStore(Protocol):
    def add(self, url: str, origin: FeedOrigin) -> bool: ...
    def remove(self, url: str) -> bool: ...
    def get(self, url: str) -> FeedRow | None: ...
    def all(self) -> list[FeedRow]: ...
    def claim_due(self, owner: str, lease_seconds: float, busy: Collection[str] = ()) -> list[FeedRow]: ...
    def give_back(self, owner: str) -> int: ...
    def polled(
        self, url: str, *, etag: str | None, last_modified: str | None, delay: float, title: str | None
    ) -> bool: ...
    def failed(self, url: str, error: str, delay: float) -> int: ...
    def poll_soon(self, url: str) -> None: ...
    def known_keys(self, feed_url: str) -> set[str]: ...
    def add_items(self, feed_url: str, items: Iterable[FeedItem], state: ItemState) -> None: ...
    def pending_items(self, feed_url: str, limit: int) -> list[tuple[FeedItem, int]]: ...
    def item_done(self, feed_url: str, key: str, article_id: str | None) -> None: ...
    def item_failed(self, feed_url: str, key: str, max_attempts: int) -> bool: ...


def item_row(feed_url: str, item: FeedItem, state: ItemState, now: float) -> tuple:
    return (
        feed_url,
        item.key,
        state,
        item.url,
        item.title,
        item.published.isoformat() if item.published else None,
        item.content if state == "pending" else None,
        now,
    )


def feed_item(row: Any) -> tuple[FeedItem, int]:
    """A pending item of the table, with its attempts so far."""
    published = row["published"]
    return (
        FeedItem(
            url=row["url"],
            guid=row["key"].removeprefix("guid:"),  # `key` is the link, else "guid:" + the GUID
            title=row["title"] or "",
            published=dt.date.fromisoformat(published) if published else None,
            content=row["content"] or "",
        ),
        row["attempts"],
    )


class SqliteFeedStore:
    """Feeds and feed items in the SQLite store's file, on its connections (`SqliteStore.feeds`)."""

    def __init__(
        self,
        connection: Callable[[], sqlite3.Connection],
        transaction: Callable[[], AbstractContextManager[sqlite3.Connection]],
        clock: Callable[[], float],
    ) -> None:
        # The store's migrations made the tables (bot/stores/migrations.py).
        self._connection, self._transaction, self._clock = connection, transaction, clock

    def add(self, url: str, origin: FeedOrigin) -> bool:
        """Poll `url` from now on; False when it was already a feed."""
        with self._transaction() as db:
            return bool(
                db.execute(
                    "INSERT OR IGNORE INTO feeds (url, origin, added_at) VALUES (?, ?, ?)",
                    (url, origin, self._clock()),
                ).rowcount
            )

    def remove(self, url: str) -> bool:
        with self._transaction() as db:
            db.execute("DELETE FROM feed_items WHERE feed_url = ?", (url,))
            return bool(db.execute("DELETE FROM feeds WHERE url = ?", (url,)).rowcount)

    def get(self, url: str) -> FeedRow | None:
        row = self._connection().execute("SELECT * FROM feeds WHERE url = ?", (url,)).fetchone()
        return FeedRow(**dict(row)) if row else None

    def all(self) -> list[FeedRow]:
        rows = self._connection().execute("SELECT * FROM feeds ORDER BY added_at, url")
        return [FeedRow(**dict(row)) for row in rows]

    def claim_due(self, owner: str, lease_seconds: float, busy: Collection[str] = ()) -> list[FeedRow]:
        """The feeds due now but those in `busy` (the caller is still polling them), each taken by
        `owner` for `lease_seconds` (no other process polls it). Now is the store's clock: the one
        host's the file is on (as for announcement leases)."""
        now = self._clock()
        due = "next_poll_at <= ? AND url NOT IN (SELECT value FROM json_each(?))"
        params = (now, json.dumps(sorted(busy)))
        if not self._connection().execute(f"SELECT 1 FROM feeds WHERE {due} LIMIT 1", params).fetchone():
            return []  # the usual case, every tick: no write lock taken
        with self._transaction() as db:
            rows = db.execute(
                f"SELECT * FROM feeds WHERE {due} ORDER BY next_poll_at, url", params
            ).fetchall()
            db.execute(
                f"UPDATE feeds SET next_poll_at = ?, claimed_by = ? WHERE {due}",
                (now + lease_seconds, owner, *params),
            )
        return [FeedRow(**dict(row)) for row in rows]

    def give_back(self, owner: str) -> int:
        """The feeds `owner` claimed and has not finished polling, due now (a clean stop); how many.
        A feed another process took since (`owner`'s lease ran out) stays with it."""
        with self._transaction() as db:
            return db.execute(
                "UPDATE feeds SET next_poll_at = ?, claimed_by = NULL WHERE claimed_by = ?",
                (self._clock(), owner),
            ).rowcount

    def polled(
        self, url: str, *, etag: str | None, last_modified: str | None, delay: float, title: str | None
    ) -> bool:
        """A good poll ended (its claim with it), the next one in `delay` seconds; True when the feed
        had been failing (it works again)."""
        now = self._clock()
        with self._transaction() as db:
            row = db.execute("SELECT failures FROM feeds WHERE url = ?", (url,)).fetchone()
            db.execute(
                "UPDATE feeds SET etag = ?, last_modified = ?, next_poll_at = ?, claimed_by = NULL,"
                " failures = 0, failing_since = NULL, last_error = NULL, last_ok_at = ?,"
                " title = COALESCE(?, title) WHERE url = ?",
                (etag, last_modified, now + delay, now, title, url),
            )
            return bool(row and row["failures"])

    def failed(self, url: str, error: str, delay: float) -> int:
        """A failed poll ended (its claim with it), the next try in `delay` seconds; the number of
        failures in a row."""
        now = self._clock()
        with self._transaction() as db:
            db.execute(
                "UPDATE feeds SET failures = failures + 1, failing_since = COALESCE(failing_since, ?),"
                " last_error = ?, next_poll_at = ?, claimed_by = NULL WHERE url = ?",
                (now, error, now + delay, url),
            )
            row = db.execute("SELECT failures FROM feeds WHERE url = ?", (url,)).fetchone()
            return row["failures"] if row else 0

    def poll_soon(self, url: str) -> None:
        with self._transaction() as db:
            db.execute("UPDATE feeds SET next_poll_at = 0 WHERE url = ?", (url,))

    # -- items ----------------------------------------------------------------------------------------

    def known_keys(self, feed_url: str) -> set[str]:
        rows = self._connection().execute("SELECT key FROM feed_items WHERE feed_url = ?", (feed_url,))
        return {row["key"] for row in rows}

    def add_items(self, feed_url: str, items: Iterable[FeedItem], state: ItemState) -> None:
        now = self._clock()
        with self._transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO feed_items (feed_url, key, state, url, title, published, content, seen_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [item_row(feed_url, item, state, now) for item in items],
            )

    def pending_items(self, feed_url: str, limit: int) -> list[tuple[FeedItem, int]]:
        """Items still to ingest, oldest seen first, with their attempts so far."""
        rows = self._connection().execute(
            "SELECT * FROM feed_items WHERE feed_url = ? AND state = 'pending' ORDER BY seen_at, rowid LIMIT ?",
            (feed_url, limit),
        )
        return [feed_item(row) for row in rows]

    def item_done(self, feed_url: str, key: str, article_id: str | None) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE feed_items SET state = 'done', content = NULL, article_id = ? WHERE feed_url = ? AND key = ?",
                (article_id, feed_url, key),
            )

    def item_failed(self, feed_url: str, key: str, max_attempts: int) -> bool:
        """One more failed attempt; True when the item is given up."""
        with self._transaction() as db:
            db.execute(
                "UPDATE feed_items SET attempts = attempts + 1,"
                " state = CASE WHEN attempts + 1 >= ? THEN 'given_up' ELSE state END,"
                " content = CASE WHEN attempts + 1 >= ? THEN NULL ELSE content END"
                " WHERE feed_url = ? AND key = ?",
                (max_attempts, max_attempts, feed_url, key),
            )
            row = db.execute(
                "SELECT state FROM feed_items WHERE feed_url = ? AND key = ?", (feed_url, key)
            ).fetchone()
            return bool(row and row["state"] == "given_up")


class PostgresFeedStore:
    """Feeds and feed items in the PostgreSQL store's database, on its pool (`PostgresStore.feeds`)."""

    def __init__(
        self,
        cursor: Callable[[], AbstractContextManager[Any]],
        clock: Callable[[], float],
        now: Callable[[Any], float],
    ) -> None:
        # `cursor()`: a dict-row cursor in a transaction, committed at its end; `now(cursor)`: the
        # database server's time, which measures leases and next polls (`PostgresStore._now`).
        self._cursor, self._clock, self._now = cursor, clock, now

    def add(self, url: str, origin: FeedOrigin) -> bool:
        with self._cursor() as db:
            return bool(
                db.execute(
                    "INSERT INTO feeds (url, origin, added_at) VALUES (%s, %s, %s) ON CONFLICT (url) DO NOTHING",
                    (url, origin, self._clock()),
                ).rowcount
            )

    def remove(self, url: str) -> bool:
        with self._cursor() as db:
            db.execute("DELETE FROM feed_items WHERE feed_url = %s", (url,))
            return bool(db.execute("DELETE FROM feeds WHERE url = %s", (url,)).rowcount)

    def get(self, url: str) -> FeedRow | None:
        with self._cursor() as db:
            row = db.execute("SELECT * FROM feeds WHERE url = %s", (url,)).fetchone()
        return FeedRow(**row) if row else None

    def all(self) -> list[FeedRow]:
        with self._cursor() as db:
            rows = db.execute("SELECT * FROM feeds ORDER BY added_at, url").fetchall()
        return [FeedRow(**row) for row in rows]

    def claim_due(self, owner: str, lease_seconds: float, busy: Collection[str] = ()) -> list[FeedRow]:
        """The feeds due now by the server's clock but those in `busy`, each taken by `owner` for
        `lease_seconds`; feeds another replica is taking right now are skipped, not waited for.
        Replicas with skewed clocks agree."""
        with self._cursor() as db:
            now = self._now(db)
            rows = db.execute(
                "WITH due AS (SELECT url FROM feeds WHERE next_poll_at <= %(now)s"
                " AND url <> ALL(%(busy)s::text[]) FOR UPDATE SKIP LOCKED)"
                " UPDATE feeds AS f SET next_poll_at = %(until)s, claimed_by = %(owner)s"
                " FROM due WHERE f.url = due.url RETURNING f.*",
                {"now": now, "until": now + lease_seconds, "owner": owner, "busy": sorted(busy)},
            ).fetchall()
        return sorted((FeedRow(**row) for row in rows), key=lambda feed: (feed.added_at, feed.url))

    def give_back(self, owner: str) -> int:
        """The feeds `owner` claimed and has not finished polling, due now by the server's clock (a
        clean stop); how many. A feed another replica took since stays with it."""
        with self._cursor() as db:
            return db.execute(
                "UPDATE feeds SET next_poll_at = %s, claimed_by = NULL WHERE claimed_by = %s",
                (self._now(db), owner),
            ).rowcount

    def polled(
        self, url: str, *, etag: str | None, last_modified: str | None, delay: float, title: str | None
    ) -> bool:
        """A good poll ended (its claim with it), the next one in `delay` seconds by the server's
        clock; True when the feed had been failing (it works again)."""
        with self._cursor() as db:
            row = db.execute("SELECT failures FROM feeds WHERE url = %s FOR UPDATE", (url,)).fetchone()
            db.execute(
                "UPDATE feeds SET etag = %s, last_modified = %s, next_poll_at = %s, claimed_by = NULL,"
                " failures = 0, failing_since = NULL, last_error = NULL, last_ok_at = %s,"
                " title = COALESCE(%s, title) WHERE url = %s",
                (etag, last_modified, self._now(db) + delay, self._clock(), title, url),
            )
            return bool(row and row["failures"])

    def failed(self, url: str, error: str, delay: float) -> int:
        """A failed poll ended (its claim with it), the next try in `delay` seconds by the server's
        clock; the number of failures in a row."""
        with self._cursor() as db:
            row = db.execute(
                "UPDATE feeds SET failures = failures + 1, failing_since = COALESCE(failing_since, %s),"
                " last_error = %s, next_poll_at = %s, claimed_by = NULL WHERE url = %s RETURNING failures",
                (self._clock(), error, self._now(db) + delay, url),
            ).fetchone()
            return row["failures"] if row else 0

    def poll_soon(self, url: str) -> None:
        with self._cursor() as db:
            db.execute("UPDATE feeds SET next_poll_at = 0 WHERE url = %s", (url,))

    # -- items ----------------------------------------------------------------------------------------

    def known_keys(self, feed_url: str) -> set[str]:
        with self._cursor() as db:
            rows = db.execute("SELECT key FROM feed_items WHERE feed_url = %s", (feed_url,)).fetchall()
        return {row["key"] for row in rows}

    def add_items(self, feed_url: str, items: Iterable[FeedItem], state: ItemState) -> None:
        now = self._clock()
        with self._cursor() as db:
            db.executemany(
                "INSERT INTO feed_items (feed_url, key, state, url, title, published, content, seen_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (feed_url, key) DO NOTHING",
                [item_row(feed_url, item, state, now) for item in items],
            )

    def pending_items(self, feed_url: str, limit: int) -> list[tuple[FeedItem, int]]:
        """Items still to ingest, oldest seen first, with their attempts so far."""
        with self._cursor() as db:
            rows = db.execute(
                "SELECT * FROM feed_items WHERE feed_url = %s AND state = 'pending' ORDER BY seen_at, seq LIMIT %s",
                (feed_url, limit),
            ).fetchall()
        return [feed_item(row) for row in rows]

    def item_done(self, feed_url: str, key: str, article_id: str | None) -> None:
        with self._cursor() as db:
            db.execute(
                "UPDATE feed_items SET state = 'done', content = NULL, article_id = %s"
                " WHERE feed_url = %s AND key = %s",
                (article_id, feed_url, key),
            )

    def item_failed(self, feed_url: str, key: str, max_attempts: int) -> bool:
        """One more failed attempt; True when the item is given up."""
        with self._cursor() as db:
            row = db.execute(
                "UPDATE feed_items SET attempts = attempts + 1,"
                " state = CASE WHEN attempts + 1 >= %(max)s THEN 'given_up' ELSE state END,"
                " content = CASE WHEN attempts + 1 >= %(max)s THEN NULL ELSE content END"
                " WHERE feed_url = %(feed)s AND key = %(key)s RETURNING state",
                {"max": max_attempts, "feed": feed_url, "key": key},
            ).fetchone()
            return bool(row and row["state"] == "given_up")
