"""Schema migrations: versioned, applied at start under a lock, so processes starting together apply
each one once.

A migration is data: a version, a name, and its SQL statements per dialect ("sqlite", "postgresql").
The `schema_version` table holds one row per applied version. At start, under the lock (SQLite: a
`BEGIN EXCLUSIVE` transaction; PostgreSQL: `pg_advisory_xact_lock` in the migrating transaction),
the missing migrations run in order, each with its row, in the same transaction: a crash applies
all of them or none.

A database made before migrations existed (SQLite tables without `schema_version`) is adopted:
migration 1 is today's schema, written with IF NOT EXISTS, so running it keeps every row and adds
only what an older file lacked; the database is then marked as version 1.

A database whose schema is newer than this app's (a newer replica migrated it) makes the app refuse
to start (`SchemaTooNew`), rather than write rows the newer schema does not expect.

To change the schema, append a `Migration` with the next version; never edit an applied one.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from bot.settings import SettingsError

log = logging.getLogger(__name__)

Dialect = Literal["sqlite", "postgresql"]

# pg_advisory_xact_lock key for migrating: any fixed 64-bit number no other lock of ours uses.
POSTGRES_MIGRATION_LOCK = 0x6D697374_72616C01


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: Mapping[Dialect, Sequence[str]]


class SchemaTooNew(SettingsError):
    """The database's schema is newer than this app knows: a newer version of the app migrated it."""


_ARTICLE_SOURCE_COLUMNS = (
    ("url", "TEXT", "TEXT"),
    ("outlet", "TEXT", "TEXT"),
    ("story", "TEXT", "TEXT"),  # the id of the story's first article (its own id when it is the first)
    ("origin", "TEXT NOT NULL DEFAULT 'folder'", "TEXT NOT NULL DEFAULT 'folder'"),
    ("date_source", "TEXT", "TEXT"),
    # Taken down by an operator: a feed listing it again does not bring it back.
    ("taken_down_at", "REAL", "DOUBLE PRECISION"),
)
_FEED_TABLES = """CREATE TABLE IF NOT EXISTS feeds (
    url TEXT PRIMARY KEY,
    origin TEXT NOT NULL,
    added_at {real} NOT NULL,
    title TEXT,
    etag TEXT,
    last_modified TEXT,
    next_poll_at {real} NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0,
    failing_since {real},
    last_error TEXT,
    last_ok_at {real}
)
;CREATE TABLE IF NOT EXISTS feed_items (
    feed_url TEXT NOT NULL,
    key TEXT NOT NULL,
    state TEXT NOT NULL,
    url TEXT,
    title TEXT,
    published TEXT,
    content TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    seen_at {real} NOT NULL,
    article_id TEXT,
    PRIMARY KEY (feed_url, key)
)
;CREATE INDEX IF NOT EXISTS feed_items_pending ON feed_items (feed_url, state) WHERE state = 'pending'"""
_SOURCE_INDEXES = (
    "CREATE INDEX IF NOT EXISTS articles_url ON articles (url)",
    "CREATE INDEX IF NOT EXISTS articles_story ON articles (story) WHERE removed_at IS NULL",
    "CREATE INDEX IF NOT EXISTS articles_taken_down ON articles (taken_down_at) WHERE taken_down_at IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS announcements_story_changed ON announcements (story_changed)"
    " WHERE story_changed = 1",
)


def _news_sources(dialect: Dialect) -> tuple[str, ...]:
    """Migration 2's statements: articles from feeds and links (url, outlet, story...), and the feeds."""
    real = "REAL" if dialect == "sqlite" else "DOUBLE PRECISION"
    columns = tuple(
        f"ALTER TABLE articles ADD COLUMN {name} {sqlite if dialect == 'sqlite' else postgresql}"
        for name, sqlite, postgresql in _ARTICLE_SOURCE_COLUMNS
    )
    story_changed = "ALTER TABLE announcements ADD COLUMN story_changed INTEGER NOT NULL DEFAULT 0"
    feeds = tuple(statement.strip() for statement in _FEED_TABLES.format(real=real).split("\n;"))
    return (*columns, story_changed, *_SOURCE_INDEXES, *feeds)


def _change_log(dialect: Dialect) -> tuple[str, ...]:
    """The change log: one row per article added (or restored), removed or taken down, in commit
    order (writers of articles are serialized: SQLite's write lock, PostgreSQL's advisory lock), so a
    replica following `seq` misses nothing. Existing active articles are logged as added."""
    seq = "INTEGER PRIMARY KEY AUTOINCREMENT" if dialect == "sqlite" else "BIGSERIAL PRIMARY KEY"
    real = "REAL" if dialect == "sqlite" else "DOUBLE PRECISION"
    # PostgreSQL has no rowid: feed items get a sequence for their order of arrival.
    item_order = ("ALTER TABLE feed_items ADD COLUMN seq BIGSERIAL",) if dialect == "postgresql" else ()
    return (
        f"CREATE TABLE changes (seq {seq}, article_id TEXT NOT NULL, kind TEXT NOT NULL, at {real} NOT NULL)",
        "INSERT INTO changes (article_id, kind, at)"
        " SELECT id, 'added', changed_at FROM articles WHERE removed_at IS NULL ORDER BY added_at, id",
        *item_order,
    )


def _channel_news(dialect: Dialect) -> tuple[str, ...]:
    """Migration 4's statements: channels' watches, their pause, and the outbox per (channel, article)."""
    real = "REAL" if dialect == "sqlite" else "DOUBLE PRECISION"
    return (
        f"""CREATE TABLE IF NOT EXISTS watches (
            channel TEXT NOT NULL,
            words TEXT NOT NULL,
            user_id TEXT NOT NULL,
            created_at {real} NOT NULL,
            PRIMARY KEY (channel, words)
        )""",
        f"""CREATE TABLE IF NOT EXISTS channels (
            channel TEXT PRIMARY KEY,
            paused_reason TEXT,
            paused_at {real},
            next_post_at {real} NOT NULL DEFAULT 0
        )""",
        f"""CREATE TABLE IF NOT EXISTS channel_posts (
            channel TEXT NOT NULL,
            article_id TEXT NOT NULL,
            story TEXT NOT NULL,
            reply INTEGER NOT NULL,
            state TEXT NOT NULL,
            created_at {real} NOT NULL,
            claimed_by TEXT,
            lease_until {real},
            attempts INTEGER NOT NULL DEFAULT 0,
            not_before {real} NOT NULL DEFAULT 0,
            message_ts TEXT,
            last_error TEXT,
            posted_at {real},
            PRIMARY KEY (channel, article_id)
        )""",
        # One top-level post per story and channel; later articles of the story go in its thread.
        "CREATE UNIQUE INDEX IF NOT EXISTS channel_posts_story ON channel_posts (channel, story) WHERE reply = 0",
        "CREATE INDEX IF NOT EXISTS channel_posts_due ON channel_posts (state, not_before)",
        f"""CREATE TABLE IF NOT EXISTS digests (
            channel TEXT PRIMARY KEY,
            frequency TEXT NOT NULL,
            hour INTEGER NOT NULL,
            minute INTEGER NOT NULL,
            timezone TEXT NOT NULL,
            weekday INTEGER,
            user_id TEXT NOT NULL,
            last_sent {real} NOT NULL,
            claimed_by TEXT,
            lease_until {real},
            claimed_end {real},
            not_before {real} NOT NULL DEFAULT 0
        )""",
        f"CREATE TABLE IF NOT EXISTS questions (question TEXT NOT NULL, answered INTEGER NOT NULL, asked_at {real} NOT NULL)",
        "CREATE INDEX IF NOT EXISTS questions_asked ON questions (asked_at)",
        f"""CREATE TABLE IF NOT EXISTS feedback (
            question TEXT NOT NULL,
            vote TEXT NOT NULL,
            reason TEXT,
            user_id TEXT NOT NULL,
            at {real} NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS feedback_at ON feedback (at)",
    )


def _passage_vectors(dialect: Dialect) -> tuple[str, ...]:
    """Passage embeddings, computed once at ingest: one float32 vector per searchable passage (by its
    position in the article) and model, so a start reads them instead of embedding again."""
    blob = "BLOB" if dialect == "sqlite" else "BYTEA"
    return (
        "CREATE TABLE passage_vectors (article_id TEXT NOT NULL, position INTEGER NOT NULL,"
        f" model TEXT NOT NULL, vector {blob} NOT NULL, PRIMARY KEY (article_id, position, model))",
    )


def _recounts(dialect: Dialect) -> tuple[str, ...]:
    """Migration 6's statements: on a story's top-level post, its recount (the edit naming the outlets
    that reported the story), wanted again after each reply; due while `recount_done` is behind."""
    real = "REAL" if dialect == "sqlite" else "DOUBLE PRECISION"
    columns = (
        "recount_wanted INTEGER NOT NULL DEFAULT 0",
        "recount_done INTEGER NOT NULL DEFAULT 0",
        "recount_claimed_by TEXT",
        f"recount_lease_until {real}",
        f"recount_not_before {real} NOT NULL DEFAULT 0",
    )
    return (
        *(f"ALTER TABLE channel_posts ADD COLUMN {column}" for column in columns),
        "CREATE INDEX channel_posts_recount ON channel_posts (recount_not_before)"
        " WHERE recount_wanted > recount_done",
    )


def _answers(dialect: Dialect) -> tuple[str, ...]:
    """Migration 7's statements: the answer queue, one row per question acknowledged (see
    bot/stores/answer_queue.py): what answering it later needs, its state, and who holds its claim."""
    real = "REAL" if dialect == "sqlite" else "DOUBLE PRECISION"
    return (
        f"""CREATE TABLE answers (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            text TEXT NOT NULL,
            user_id TEXT NOT NULL,
            channel TEXT NOT NULL,
            thread_ts TEXT,
            response_url TEXT,
            asked_at {real} NOT NULL,
            state TEXT NOT NULL,
            claimed_by TEXT,
            lease_until {real},
            attempts INTEGER NOT NULL DEFAULT 1,
            reason TEXT,
            recorded_at {real} NOT NULL
        )""",
        "CREATE INDEX answers_due ON answers (lease_until) WHERE state = 'answering'",
        "CREATE INDEX answers_recorded ON answers (recorded_at)",
    )


# The starting library (never announced, no copy of another story) is undated where its text gives no
# date: the day it was first seen is when the desk started, not when it was published.
_UNDATE_LIBRARY = (
    "UPDATE articles SET date = NULL, date_source = NULL WHERE date_source = 'first_seen'"
    " AND origin = 'folder' AND story IS NULL"
    " AND id IN (SELECT article_id FROM announcements WHERE state = 'skipped')"
)
# Who holds a feed's lease (bot/stores/feeds.py): a clean stop gives back its own, never another's.
_FEED_CLAIMER = ("ALTER TABLE feeds ADD COLUMN claimed_by TEXT",)


def _judgements(dialect: Dialect) -> tuple[str, ...]:
    """Migration 10's statements: the off-subject articles, left out or kept (bot/stores/judgements.py)."""
    real = "REAL" if dialect == "sqlite" else "DOUBLE PRECISION"
    return (
        f"""CREATE TABLE judgements (
            key TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            verdict TEXT NOT NULL,
            reason TEXT NOT NULL,
            origin TEXT NOT NULL,
            feed TEXT,
            kept INTEGER NOT NULL DEFAULT 0,
            article_id TEXT,
            judged_at {real} NOT NULL
        )""",
        "CREATE INDEX judgements_at ON judgements (judged_at)",
        # The story rule reads the articles near a date (bot/news/stories.py).
        "CREATE INDEX articles_date ON articles (date) WHERE removed_at IS NULL",
    )


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "articles, announcements, meta, files",
        {
            # Exactly the schema the app created before migrations existed (so it can be adopted).
            "sqlite": (
                """CREATE TABLE IF NOT EXISTS articles (
                    id TEXT PRIMARY KEY,
                    source TEXT NOT NULL,
                    title TEXT NOT NULL,
                    date TEXT,
                    language TEXT NOT NULL,
                    text TEXT NOT NULL,
                    added_at REAL NOT NULL,
                    changed_at REAL NOT NULL,
                    removed_at REAL
                )""",
                "CREATE INDEX IF NOT EXISTS articles_active_source ON articles (source) WHERE removed_at IS NULL",
                """CREATE TABLE IF NOT EXISTS announcements (
                    article_id TEXT PRIMARY KEY REFERENCES articles (id),
                    state TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    claimed_by TEXT,
                    lease_until REAL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    not_before REAL NOT NULL DEFAULT 0,
                    message_ts TEXT,
                    last_error TEXT,
                    posted_at REAL
                )""",
                "CREATE INDEX IF NOT EXISTS announcements_state ON announcements (state, not_before)",
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
                """CREATE TABLE IF NOT EXISTS files (
                    source TEXT PRIMARY KEY,
                    size INTEGER NOT NULL,
                    mtime_ns INTEGER NOT NULL,
                    article_id TEXT NOT NULL
                )""",
            ),
            "postgresql": (
                """CREATE TABLE articles (
                    id TEXT PRIMARY KEY,
                    source TEXT NOT NULL,
                    title TEXT NOT NULL,
                    date DATE,
                    language TEXT NOT NULL,
                    text TEXT NOT NULL,
                    added_at DOUBLE PRECISION NOT NULL,
                    changed_at DOUBLE PRECISION NOT NULL,
                    removed_at DOUBLE PRECISION
                )""",
                # Unique here: replicas write concurrently, and the database keeps the one-active-per-source rule.
                "CREATE UNIQUE INDEX articles_active_source ON articles (source) WHERE removed_at IS NULL",
                """CREATE TABLE announcements (
                    article_id TEXT PRIMARY KEY REFERENCES articles (id),
                    state TEXT NOT NULL,
                    created_at DOUBLE PRECISION NOT NULL,
                    claimed_by TEXT,
                    lease_until DOUBLE PRECISION,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    not_before DOUBLE PRECISION NOT NULL DEFAULT 0,
                    message_ts TEXT,
                    last_error TEXT,
                    posted_at DOUBLE PRECISION
                )""",
                "CREATE INDEX announcements_state ON announcements (state, not_before)",
                "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
                """CREATE TABLE files (
                    source TEXT PRIMARY KEY,
                    size BIGINT NOT NULL,
                    mtime_ns BIGINT NOT NULL,
                    article_id TEXT NOT NULL
                )""",
            ),
        },
    ),
    Migration(
        2,
        "news sources: url, outlet, story, origin, takedowns; feeds and their items",
        {"sqlite": _news_sources("sqlite"), "postgresql": _news_sources("postgresql")},
    ),
    Migration(
        3,
        "the change log followed by every replica's index; feed items in order (PostgreSQL)",
        {"sqlite": _change_log("sqlite"), "postgresql": _change_log("postgresql")},
    ),
    Migration(
        4,
        "channel news: watches, paused channels, the outbox per channel, digests; questions and feedback",
        {"sqlite": _channel_news("sqlite"), "postgresql": _channel_news("postgresql")},
    ),
    Migration(
        5,
        "passage embeddings by article, passage position and model",
        {"sqlite": _passage_vectors("sqlite"), "postgresql": _passage_vectors("postgresql")},
    ),
    Migration(
        6,
        "the recount of a story's top-level post (its outlets) after each reply, kept until done",
        {"sqlite": _recounts("sqlite"), "postgresql": _recounts("postgresql")},
    ),
    Migration(
        7,
        "the answer queue: questions acknowledged, kept until answered (or dropped), then pruned",
        {"sqlite": _answers("sqlite"), "postgresql": _answers("postgresql")},
    ),
    Migration(
        8,
        "the starting library's articles without a date in their text are undated, not first seen",
        {"sqlite": (_UNDATE_LIBRARY,), "postgresql": (_UNDATE_LIBRARY,)},
    ),
    Migration(
        9,
        "who holds a feed's lease, so a clean stop gives back its own",
        {"sqlite": _FEED_CLAIMER, "postgresql": _FEED_CLAIMER},
    ),
    Migration(
        10,
        "the articles judged off-subject: left out (so a feed does not bring them again) or kept;"
        " the articles by date, for the story rule",
        {"sqlite": _judgements("sqlite"), "postgresql": _judgements("postgresql")},
    ),
)


VERSION_TABLE = {
    "sqlite": "CREATE TABLE IF NOT EXISTS schema_version"
    " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)",
    "postgresql": "CREATE TABLE IF NOT EXISTS schema_version"
    " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)",
}
# A table every database made before migrations has: its presence without `schema_version` means adopt.
LEGACY_TABLE = "articles"


def latest_version(migrations: Sequence[Migration] = MIGRATIONS) -> int:
    return migrations[-1].version if migrations else 0


def migrate_sqlite(
    db: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS, *, clock=time.time
) -> list[int]:
    """Bring the SQLite database of `db` (autocommit mode) up to date; the versions applied.

    `BEGIN EXCLUSIVE` makes a second process wait (busy timeout) and then find nothing to do.
    Statements run one by one: `executescript` would commit the transaction first.
    """
    db.execute("BEGIN EXCLUSIVE")
    try:

        def value(sql: str, params: tuple = ()) -> Any:
            row = db.execute(sql, params).fetchone()
            return row[0] if row else None

        applied = _upgrade(
            "sqlite",
            lambda sql, params=(): db.execute(sql, params),
            value,
            has_table=lambda name: bool(
                value("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
            ),
            migrations=migrations,
            clock=clock,
            placeholder="?",
        )
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return applied


def migrate_postgres(
    connection, migrations: Sequence[Migration] = MIGRATIONS, *, clock=time.time
) -> list[int]:
    """Bring the PostgreSQL schema (the first of the search_path) up to date; the versions applied.

    `connection` is a psycopg connection with tuple rows.

    DDL is transactional in PostgreSQL: the lock, the migrations and their rows are one transaction,
    and the advisory lock goes with it (a process killed mid-way holds nothing).
    """
    with connection.transaction():
        # Waiting for another replica's migration, or a long one, is not a database that went away.
        connection.execute("SET LOCAL statement_timeout = 0")
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (POSTGRES_MIGRATION_LOCK,))

        def value(sql: str, params: tuple = ()) -> Any:
            row = connection.execute(sql, params).fetchone()
            return row[0] if row else None

        return _upgrade(
            "postgresql",
            lambda sql, params=(): connection.execute(sql, params),
            value,
            has_table=lambda name: value("SELECT to_regclass(%s) IS NOT NULL", (name,)) is True,
            migrations=migrations,
            clock=clock,
            placeholder="%s",
        )


def _upgrade(
    dialect: Dialect,
    execute: Callable[..., Any],
    value: Callable[..., Any],
    *,
    has_table: Callable[[str], bool],
    migrations: Sequence[Migration],
    clock,
    placeholder: str,
) -> list[int]:
    """The missing migrations, applied in order inside the caller's locked transaction."""
    adopting = not has_table("schema_version") and has_table(LEGACY_TABLE)
    execute(VERSION_TABLE[dialect])
    current = value("SELECT MAX(version) FROM schema_version") or 0
    latest = latest_version(migrations)
    if current > latest:
        raise SchemaTooNew(
            f"the database's schema is version {current}, newer than this app's {latest}: "
            "run the newer version of the app (or point DATABASE_URL at another database)."
        )
    insert = f"INSERT INTO schema_version (version, name, applied_at) VALUES ({', '.join([placeholder] * 3)})"
    applied = []
    for migration in migrations:
        if migration.version <= current:
            continue
        for statement in migration.statements[dialect]:
            execute(statement)
        name = migration.name + (" (adopted)" if adopting and migration.version == 1 else "")
        execute(insert, (migration.version, name, clock()))
        applied.append(migration.version)
    if adopting:
        log.info("Adopted the existing database as schema version 1")
    if applied:
        # An upgrade of a database holding data is worth a line; the schema of a new, empty one is not.
        level = logging.INFO if current or adopting else logging.DEBUG
        log.log(level, "Migrated the database to schema version %d (applied %s)", latest, applied)
    return applied
