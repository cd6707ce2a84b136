"""Every article ever ingested, the files they came from, their embeddings, and the change log.

Articles are keyed by their content-derived id. A file's path relative to the articles folder is its
`source`; at most one active article has a given source. When a file changes, its old article is
marked removed and the new content becomes a new article *without* an announcement: an edit is not
news. Recording is one unit of work: the article, its announcement decision and its row of the
change log are written in one transaction, so an article is never recorded without them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.stores.types import (
    CHANGES_PER_READ,
    Articles,
    ChangeKind,
    Database,
    Origin,
    RecordResult,
    StoreChanges,
    StoredArticle,
    check_not_pruned,
    prune_bound,
    split_changes,
)
from search import Article, SearchIndex, parse_article

BASELINE_KEY = "baseline_done"
PRUNED_KEY = "changes_pruned_through"  # meta: the highest `seq` pruned from the change log
VECTOR_IDS_PER_READ = 500  # article ids per query of `vectors_for` (SQLite's parameter limit)


@dataclass(frozen=True)
class SqlArticles:
    """The articles' tables on either database (bot/stores/types.py: `Articles`)."""

    database: Database

    def _one(self, sql: str, params: tuple = ()) -> Any:
        with self.database.reading() as db:
            return db.execute(sql, params).fetchone()

    def _all(self, sql: str, params: tuple = ()) -> list[Any]:
        with self.database.reading() as db:
            return db.execute(sql, params).fetchall()

    def _log_change(self, db: Any, article_id: str, kind: ChangeKind, now: float) -> None:
        """One row of the change log, told to the followers; an article leaving takes its passage
        embeddings with it."""
        seq = db.execute(
            "INSERT INTO changes (article_id, kind, at) VALUES (?, ?, ?) RETURNING seq",
            (article_id, kind, now),
        ).fetchall()[0]["seq"]
        if kind != "added":
            db.execute("DELETE FROM passage_vectors WHERE article_id = ?", (article_id,))
        self.database.changed(db, seq)

    def follow_changes(self, on_change: Callable[[], None]) -> None:
        """Call `on_change` when another process changes the articles, where the database tells
        (PostgreSQL's NOTIFY); else readers poll the change log."""
        self.database.follow(on_change)

    # -- baseline -------------------------------------------------------------------------------------

    def baseline_done(self) -> bool:
        return self._one("SELECT 1 AS done FROM meta WHERE key = ?", (BASELINE_KEY,)) is not None

    def mark_baseline_done(self) -> None:
        with self.database.transaction() as db:
            db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                (BASELINE_KEY, str(self.database.clock())),
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
        now = self.database.clock()
        with self.database.transaction(articles=True) as db:
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
        with self.database.transaction(articles=True) as db:
            row = db.execute(
                "SELECT id FROM articles WHERE source = ? AND removed_at IS NULL", (source,)
            ).fetchone()
            if row is None:
                return None
            now = self.database.clock()
            db.execute("UPDATE articles SET removed_at = ? WHERE id = ?", (now, row["id"]))
            self._log_change(db, row["id"], "removed", now)
            return row["id"]

    def take_down(self, article_id: str) -> bool:
        """An operator removes the article: out of every answer, and never recorded again."""
        now = self.database.clock()
        with self.database.transaction(articles=True) as db:
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
        with self.database.reading() as db:
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
        with self.database.transaction(articles=True) as db:
            oldest_kept = db.execute(
                "SELECT seq FROM changes ORDER BY seq DESC LIMIT 1 OFFSET ?", (max(keep_rows, 1) - 1,)
            ).fetchone()
            first_recent = db.execute(
                "SELECT MIN(seq) AS seq FROM changes WHERE at >= ?", (self.database.now(db) - keep_seconds,)
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

    def get(self, article_id: str) -> StoredArticle | None:
        row = self._one("SELECT * FROM articles WHERE id = ?", (article_id,))
        return stored_article(row) if row else None

    def by_source(self, source: str) -> StoredArticle | None:
        row = self._one("SELECT * FROM articles WHERE source = ? AND removed_at IS NULL", (source,))
        return stored_article(row) if row else None

    def active_articles(self) -> list[StoredArticle]:
        rows = self._all("SELECT * FROM articles WHERE removed_at IS NULL ORDER BY added_at, id")
        return [stored_article(row) for row in rows]

    def dated_between(self, first: dt.date | None, last: dt.date | None) -> list[StoredArticle]:
        """The active articles dated from `first` to `last`, both included (None: the undated ones)."""
        if first is None or last is None:
            where, params = "date IS NULL", ()
        else:
            where, params = "date >= ? AND date <= ?", (first.isoformat(), last.isoformat())
        rows = self._all(
            f"SELECT * FROM articles WHERE removed_at IS NULL AND {where} ORDER BY added_at, id", params
        )
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
        with self.database.transaction() as db:
            db.execute(
                "INSERT INTO files (source, size, mtime_ns, article_id) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (source) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns,"
                " article_id = excluded.article_id",
                (source, size, mtime_ns, article_id),
            )

    def save_vectors(self, article_id: str, model: str, vectors: Mapping[int, bytes]) -> None:
        """Keep an active article's passage embeddings (float32 bytes by passage position) for
        `model`, replacing those of any other model; nothing for an article no longer active."""
        with self.database.transaction(articles=True) as db:
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


def index_from_store(articles: Articles, index: SearchIndex | None = None) -> SearchIndex:
    """An index of every active stored article, so a restart need not re-read the folder."""
    index = index if index is not None else SearchIndex()
    for stored in articles.active_articles():
        index.add(article_of(stored))
    return index
