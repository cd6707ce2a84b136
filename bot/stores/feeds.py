"""The feeds to poll and what each one listed, in the store's database (`Store.feeds`).

`SqlFeeds` implements `Feeds` (bot/stores/types.py) on either database, `tests.fakes.store.MemoryFeeds`
in memory. The contract suite in tests/stores runs on all three.

A feed remembers its conditional-GET validators (ETag, Last-Modified), when to poll it next, and its
run of failures (for the backoff and for /healthz). An item is known by its key (its normalised link,
else its GUID) so that a feed re-listing old items, or changing their GUIDs, brings nothing back.
Items not yet ingested keep their link, title and text, so they are retried without the feed.

With several replicas a feed is polled by one at a time: `claim_due` takes the due feeds with the
leased claim of bot/stores/claims.py, their `next_poll_at` moved past a lease and the claimer named in
`claimed_by` (PostgreSQL: rows another replica is claiming are skipped); feeds the caller is still
polling are left alone. The
poll's end (`polled`, `failed`) sets the real next time and ends the claim. A replica stopping
cleanly gives back the claims it has not finished (`give_back`: due now), and only its own; one that
dies while polling leaves the lease to run out, and another takes the feed then. Callers give
durations (a lease, a delay), never a time: "now" is the database's (PostgreSQL: the server's
clock; SQLite: the clock of the one host the file is on), so replicas with skewed clocks neither
poll a feed twice nor hold one back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from bot.news.sources.feeds import FeedItem
from bot.stores.claims import Lease, database_now, with_now
from bot.stores.types import Database, FeedOrigin, FeedRow, ItemState

# Every due feed (but those the caller is still polling), its lease in its next poll's time.
FEED = Lease(
    "feeds",
    ("url",),
    due="next_poll_at <= {now}",
    order="next_poll_at, url",
    until="next_poll_at",
    limit=None,
)


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


@dataclass(frozen=True)
class SqlFeeds:
    """Feeds and feed items on either database (bot/stores/types.py: `Feeds`)."""

    database: Database

    def _rows(self, sql: str, params: tuple = ()) -> list[Any]:
        with self.database.reading() as db:
            return db.execute(sql, params).fetchall()

    def add(self, url: str, origin: FeedOrigin) -> bool:
        """Poll `url` from now on; False when it was already a feed."""
        with self.database.transaction() as db:
            return bool(
                db.execute(
                    "INSERT INTO feeds (url, origin, added_at) VALUES (?, ?, ?) ON CONFLICT (url) DO NOTHING",
                    (url, origin, self.database.clock()),
                ).rowcount
            )

    def remove(self, url: str) -> bool:
        with self.database.transaction() as db:
            db.execute("DELETE FROM feed_items WHERE feed_url = ?", (url,))
            return bool(db.execute("DELETE FROM feeds WHERE url = ?", (url,)).rowcount)

    def get(self, url: str) -> FeedRow | None:
        rows = self._rows("SELECT * FROM feeds WHERE url = ?", (url,))
        return FeedRow(**dict(rows[0])) if rows else None

    def all(self) -> list[FeedRow]:
        return [FeedRow(**dict(row)) for row in self._rows("SELECT * FROM feeds ORDER BY added_at, url")]

    def claim_due(self, owner: str, lease_seconds: float, busy: Collection[str] = ()) -> list[FeedRow]:
        """The feeds due now but those in `busy` (the caller is still polling them), each taken by
        `owner` for `lease_seconds` (no other process polls it), as they were before. Now is the
        database's: replicas with skewed clocks agree."""
        busy = tuple(sorted(busy))
        where = f"url NOT IN ({', '.join('?' * len(busy))})" if busy else ""
        with self.database.reading() as db:
            due = f"{FEED.due} AND {where}" if where else FEED.due
            now = database_now(self.database, db)
            if not db.execute(*with_now(f"SELECT 1 FROM feeds WHERE {due} LIMIT 1", busy, now)).fetchone():
                return []  # the usual case, every tick: no write lock taken
        with self.database.transaction() as db:
            taken = FEED.claim(self.database, db, owner, lease_seconds, params=busy, where=where)
        return [FeedRow(**dict(row)) for row, _ in taken]

    def give_back(self, owner: str) -> int:
        """The feeds `owner` claimed and has not finished polling, due now (a clean stop); how many.
        A feed another process took since (`owner`'s lease ran out) stays with it."""
        with self.database.transaction() as db:
            return db.execute(
                "UPDATE feeds SET next_poll_at = ?, claimed_by = NULL WHERE claimed_by = ?",
                (self.database.now(db), owner),
            ).rowcount

    def polled(
        self, url: str, *, etag: str | None, last_modified: str | None, delay: float, title: str | None
    ) -> bool:
        """A good poll ended (its claim with it), the next one in `delay` seconds; True when the feed
        had been failing (it works again)."""
        with self.database.transaction() as db:
            row = db.execute(
                f"SELECT failures FROM feeds WHERE url = ?{self.database.for_update()}", (url,)
            ).fetchone()
            db.execute(
                "UPDATE feeds SET etag = ?, last_modified = ?, next_poll_at = ?, claimed_by = NULL,"
                " failures = 0, failing_since = NULL, last_error = NULL, last_ok_at = ?,"
                " title = COALESCE(?, title) WHERE url = ?",
                (etag, last_modified, self.database.now(db) + delay, self.database.clock(), title, url),
            )
            return bool(row and row["failures"])

    def failed(self, url: str, error: str, delay: float) -> int:
        """A failed poll ended (its claim with it), the next try in `delay` seconds; the number of
        failures in a row."""
        with self.database.transaction() as db:
            rows = db.execute(
                "UPDATE feeds SET failures = failures + 1, failing_since = COALESCE(failing_since, ?),"
                " last_error = ?, next_poll_at = ?, claimed_by = NULL WHERE url = ? RETURNING failures",
                (self.database.clock(), error, self.database.now(db) + delay, url),
            ).fetchall()
            return rows[0]["failures"] if rows else 0

    def poll_soon(self, url: str) -> None:
        with self.database.transaction() as db:
            db.execute("UPDATE feeds SET next_poll_at = 0 WHERE url = ?", (url,))

    # -- items ----------------------------------------------------------------------------------------

    def known_keys(self, feed_url: str) -> set[str]:
        return {
            row["key"] for row in self._rows("SELECT key FROM feed_items WHERE feed_url = ?", (feed_url,))
        }

    def add_items(self, feed_url: str, items: Iterable[FeedItem], state: ItemState) -> None:
        now = self.database.clock()
        with self.database.transaction() as db:
            db.executemany(
                "INSERT INTO feed_items (feed_url, key, state, url, title, published, content, seen_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (feed_url, key) DO NOTHING",
                [item_row(feed_url, item, state, now) for item in items],
            )

    def pending_items(self, feed_url: str, limit: int) -> list[tuple[FeedItem, int]]:
        """Items still to ingest, oldest seen first, with their attempts so far."""
        rows = self._rows(
            "SELECT * FROM feed_items WHERE feed_url = ? AND state = 'pending'"
            f" ORDER BY seen_at, {self.database.arrival} LIMIT ?",
            (feed_url, limit),
        )
        return [feed_item(row) for row in rows]

    def item_done(self, feed_url: str, key: str, article_id: str | None) -> None:
        with self.database.transaction() as db:
            db.execute(
                "UPDATE feed_items SET state = 'done', content = NULL, article_id = ? WHERE feed_url = ? AND key = ?",
                (article_id, feed_url, key),
            )

    def item_failed(self, feed_url: str, key: str, max_attempts: int) -> bool:
        """One more failed attempt; True when the item is given up."""
        with self.database.transaction() as db:
            rows = db.execute(
                "UPDATE feed_items SET attempts = attempts + 1,"
                " state = CASE WHEN attempts + 1 >= ? THEN 'given_up' ELSE state END,"
                " content = CASE WHEN attempts + 1 >= ? THEN NULL ELSE content END"
                " WHERE feed_url = ? AND key = ? RETURNING state",
                (max_attempts, max_attempts, feed_url, key),
            ).fetchall()
            return bool(rows and rows[0]["state"] == "given_up")
