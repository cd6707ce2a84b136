"""The store: one repository per concern over one database, made by `open_store(DATABASE_URL)`.

PostgreSQL for postgresql:// (several replicas on one server), else a SQLite file (one host). Each
database's schema is migrated first (bot/stores/migrations.py). Callers use the repositories:
`store.articles`, `.announcements`, `.channels`, `.feeds`, `.feedback`, `.answers`, `.judgements`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from bot.stores.announcements import SqlAnnouncements
from bot.stores.answer_queue import SqlAnswers
from bot.stores.articles import SqlArticles
from bot.stores.channels import SqlChannels
from bot.stores.feedback import SqlFeedback
from bot.stores.feeds import SqlFeeds
from bot.stores.judgements import SqlJudgements
from bot.stores.sqlite import SqliteDatabase
from bot.stores.types import (
    Announcements,
    Answers,
    Articles,
    Channels,
    Database,
    Feedback,
    Feeds,
    Judgements,
)

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


@dataclass(frozen=True)
class Store:
    """The repositories of one database; `problem` and `close` are the database's."""

    database: Database
    articles: Articles
    announcements: Announcements
    channels: Channels
    feeds: Feeds
    feedback: Feedback
    answers: Answers
    judgements: Judgements

    @classmethod
    def on(cls, database: Database) -> Store:
        """The SQL repositories on `database`."""
        return cls(
            database,
            SqlArticles(database),
            SqlAnnouncements(database),
            SqlChannels(database),
            SqlFeeds(database),
            SqlFeedback(database),
            SqlAnswers(database),
            SqlJudgements(database),
        )

    @property
    def reopened(self) -> int:
        """How many times the database was found replaced and opened again (see `problem`)."""
        return self.database.reopened

    def problem(self) -> str | None:
        """Why the store cannot record now (checked every few seconds), or None."""
        return self.database.problem()

    def close(self) -> None:
        self.database.close()


def open_sqlite(path: str | Path, *, clock=time.time) -> Store:
    return Store.on(SqliteDatabase(path, clock=clock))


def open_postgres(database_url: str, *, clock=time.time, **settings) -> Store:
    """PostgreSQL's driver is loaded here: a SQLite deployment never imports it."""
    from bot.stores.postgres import PostgresDatabase

    return Store.on(PostgresDatabase(database_url, clock=clock, **settings))


def sqlite_path(database_url: str) -> Path:
    """The file of a `sqlite:///relative/path.db` or `sqlite:////absolute/path.db` URL."""
    prefix = "sqlite:///"
    if not database_url.startswith(prefix) or len(database_url) == len(prefix):
        raise ValueError(
            "DATABASE_URL must look like sqlite:///data/bot.db or postgresql://user@host/db,"
            f" not {database_url!r}"
        )
    return Path(database_url[len(prefix) :])


def check_database_url(database_url: str) -> None:
    """ValueError, saying what is expected, unless `database_url` is a PostgreSQL or a SQLite URL."""
    if not database_url.startswith(POSTGRES_SCHEMES):
        sqlite_path(database_url)


def open_store(database_url: str) -> Store:
    """The store at `database_url`: PostgreSQL for postgresql:// (or postgres://), else a SQLite file
    whose folder is created when missing."""
    if database_url.startswith(POSTGRES_SCHEMES):
        return open_postgres(database_url)
    path = sqlite_path(database_url)
    path.parent.mkdir(parents=True, exist_ok=True)
    return open_sqlite(path)
