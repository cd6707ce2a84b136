"""The feeds to poll and what each one listed, in the same SQLite file as the articles.

A feed remembers its conditional-GET validators (ETag, Last-Modified), when to poll it next, and its
run of failures (for the backoff and for /healthz). An item is known by its key (its normalised link,
else its GUID) so that a feed re-listing old items, or changing their GUIDs, brings nothing back.
Items not yet ingested keep their link, title and text, so they are retried without the feed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from bot.sources.feeds import FeedItem
from bot.store import SqliteStore

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

    @property
    def public_only(self) -> bool:
        """A feed given in Slack may only reach public addresses, its pages included."""
        return self.origin == "slack"


class SqliteFeedStore:
    """Feeds and feed items; shares the article store's connections (one file, one WAL)."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store  # its migrations made the tables (bot/migrations.py)

    def add(self, url: str, origin: FeedOrigin) -> bool:
        """Poll `url` from now on; False when it was already a feed."""
        with self.store._transaction() as db:
            return bool(
                db.execute(
                    "INSERT OR IGNORE INTO feeds (url, origin, added_at) VALUES (?, ?, ?)",
                    (url, origin, self.store._clock()),
                ).rowcount
            )

    def remove(self, url: str) -> bool:
        with self.store._transaction() as db:
            db.execute("DELETE FROM feed_items WHERE feed_url = ?", (url,))
            return bool(db.execute("DELETE FROM feeds WHERE url = ?", (url,)).rowcount)

    def get(self, url: str) -> FeedRow | None:
        row = self.store._connection().execute("SELECT * FROM feeds WHERE url = ?", (url,)).fetchone()
        return FeedRow(**dict(row)) if row else None

    def all(self) -> list[FeedRow]:
        rows = self.store._connection().execute("SELECT * FROM feeds ORDER BY added_at, url")
        return [FeedRow(**dict(row)) for row in rows]

    def due(self, now: float) -> list[FeedRow]:
        rows = self.store._connection().execute(
            "SELECT * FROM feeds WHERE next_poll_at <= ? ORDER BY next_poll_at, url", (now,)
        )
        return [FeedRow(**dict(row)) for row in rows]

    def polled(
        self, url: str, *, etag: str | None, last_modified: str | None, next_poll_at: float, title: str | None
    ) -> bool:
        """A good poll; True when the feed had been failing (it works again)."""
        with self.store._transaction() as db:
            row = db.execute("SELECT failures FROM feeds WHERE url = ?", (url,)).fetchone()
            db.execute(
                "UPDATE feeds SET etag = ?, last_modified = ?, next_poll_at = ?, failures = 0,"
                " failing_since = NULL, last_error = NULL, last_ok_at = ?, title = COALESCE(?, title)"
                " WHERE url = ?",
                (etag, last_modified, next_poll_at, self.store._clock(), title, url),
            )
            return bool(row and row["failures"])

    def failed(self, url: str, error: str, next_poll_at: float) -> int:
        """A failed poll; the number of failures in a row."""
        with self.store._transaction() as db:
            db.execute(
                "UPDATE feeds SET failures = failures + 1, failing_since = COALESCE(failing_since, ?),"
                " last_error = ?, next_poll_at = ? WHERE url = ?",
                (self.store._clock(), error, next_poll_at, url),
            )
            row = db.execute("SELECT failures FROM feeds WHERE url = ?", (url,)).fetchone()
            return row["failures"] if row else 0

    def poll_soon(self, url: str) -> None:
        with self.store._transaction() as db:
            db.execute("UPDATE feeds SET next_poll_at = 0 WHERE url = ?", (url,))

    # -- items ----------------------------------------------------------------------------------------

    def known_keys(self, feed_url: str) -> set[str]:
        rows = self.store._connection().execute("SELECT key FROM feed_items WHERE feed_url = ?", (feed_url,))
        return {row["key"] for row in rows}

    def add_items(self, feed_url: str, items: Iterable[FeedItem], state: ItemState) -> None:
        now = self.store._clock()
        with self.store._transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO feed_items (feed_url, key, state, url, title, published, content, seen_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        feed_url,
                        item.key,
                        state,
                        item.url,
                        item.title,
                        item.published.isoformat() if item.published else None,
                        item.content if state == "pending" else None,
                        now,
                    )
                    for item in items
                ],
            )

    def pending_items(self, feed_url: str, limit: int) -> list[tuple[FeedItem, int]]:
        """Items still to ingest, oldest seen first, with their attempts so far."""
        rows = self.store._connection().execute(
            "SELECT * FROM feed_items WHERE feed_url = ? AND state = 'pending' ORDER BY seen_at, rowid LIMIT ?",
            (feed_url, limit),
        )
        return [
            (
                FeedItem(
                    url=row["url"],
                    guid=row["key"],
                    title=row["title"] or "",
                    published=dt.date.fromisoformat(row["published"]) if row["published"] else None,
                    content=row["content"] or "",
                ),
                row["attempts"],
            )
            for row in rows
        ]

    def item_done(self, feed_url: str, key: str, article_id: str | None) -> None:
        with self.store._transaction() as db:
            db.execute(
                "UPDATE feed_items SET state = 'done', content = NULL, article_id = ? WHERE feed_url = ? AND key = ?",
                (article_id, feed_url, key),
            )

    def item_failed(self, feed_url: str, key: str, max_attempts: int) -> bool:
        """One more failed attempt; True when the item is given up."""
        with self.store._transaction() as db:
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
