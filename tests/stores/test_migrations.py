"""Schema migrations: a fresh database, adopting one made before migrations, two processes starting
together, and an app older than the database."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest

from bot.server.http import serve
from bot.settings import Settings
from bot.stores.migrations import (
    MIGRATIONS,
    Migration,
    SchemaTooNew,
    latest_version,
    migrate_postgres,
    migrate_sqlite,
)
from bot.stores.store import open_postgres, open_sqlite
from search import parse_article
from tests.app.test_app import free_port

ROOT = Path(__file__).resolve().parents[2]
NEWS = "date 2024-03-01\nMistral AI opens an office in Singapore\n\nMistral AI said on Friday it will hire 40 engineers in Singapore."

# The schema as bot/stores/articles.py created it before migrations existed (commit 6575596), unchanged.
LEGACY_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    title TEXT NOT NULL,
    date TEXT,
    language TEXT NOT NULL,
    text TEXT NOT NULL,
    added_at REAL NOT NULL,
    changed_at REAL NOT NULL,
    removed_at REAL
);
CREATE INDEX IF NOT EXISTS articles_active_source ON articles (source) WHERE removed_at IS NULL;
CREATE TABLE IF NOT EXISTS announcements (
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
);
CREATE INDEX IF NOT EXISTS announcements_state ON announcements (state, not_before);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    source TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    article_id TEXT NOT NULL
);
"""


def sqlite_versions(path: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT version, name FROM schema_version ORDER BY version").fetchall()


def postgres_versions(url: str) -> list[tuple[int, str]]:
    with psycopg.connect(url) as db:
        return db.execute("SELECT version, name FROM schema_version ORDER BY version").fetchall()


def sqlite_objects(path: Path) -> set[tuple[str, str]]:
    with sqlite3.connect(path) as db:
        return set(db.execute("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"))


def test_a_fresh_sqlite_database_gets_every_migration(tmp_path):
    open_sqlite(tmp_path / "bot.db").close()
    assert sqlite_versions(tmp_path / "bot.db") == [(m.version, m.name) for m in MIGRATIONS]
    open_sqlite(tmp_path / "bot.db").close()
    assert len(sqlite_versions(tmp_path / "bot.db")) == latest_version()


def test_the_first_migration_is_the_schema_the_app_made_before_migrations(tmp_path):
    with sqlite3.connect(tmp_path / "legacy.db") as db:
        db.executescript(LEGACY_SCHEMA)
    with sqlite3.connect(tmp_path / "new.db", isolation_level=None) as db:
        migrate_sqlite(db, MIGRATIONS[:1])
    assert sqlite_objects(tmp_path / "new.db") - {("table", "schema_version")} == sqlite_objects(
        tmp_path / "legacy.db"
    )


def test_a_database_made_before_migrations_is_adopted_with_every_row(tmp_path):
    path = tmp_path / "bot.db"
    article = parse_article(NEWS, "singapore.txt")
    with sqlite3.connect(path) as db:
        db.executescript(LEGACY_SCHEMA)
        db.execute(
            "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, 10.0, 10.0, NULL)",
            (article.id, article.source, article.title, "2024-03-01", article.language, article.text),
        )
        db.execute(
            "INSERT INTO announcements (article_id, state, created_at, attempts, message_ts)"
            " VALUES (?, 'posted', 10.0, 1, '1.1')",
            (article.id,),
        )
        db.execute("INSERT INTO meta VALUES ('baseline_done', '10.0')")
        db.execute("INSERT INTO files VALUES ('singapore.txt', 120, 77, ?)", (article.id,))
    store = open_sqlite(path)
    assert store.articles.by_source("singapore.txt").text == article.text
    assert store.announcements.state(article.id) == "posted"
    assert store.articles.baseline_done()
    assert store.articles.recorded_file("singapore.txt", 120, 77) == article.id
    assert store.announcements.claim("w1", lease_seconds=30) is None
    store.close()
    assert sqlite_versions(path)[0] == (1, MIGRATIONS[0].name + " (adopted)")


def test_an_older_database_without_the_files_table_is_adopted_and_completed(tmp_path):
    path = tmp_path / "bot.db"
    with sqlite3.connect(path) as db:
        db.executescript(LEGACY_SCHEMA.split("CREATE TABLE IF NOT EXISTS files")[0])
    store = open_sqlite(path)
    store.articles.remember_file("a.txt", 1, 2, "id")
    assert store.articles.recorded_file("a.txt", 1, 2) == "id"
    store.close()


def slow_second_migration(pause_sql: str, dialect: str) -> tuple[Migration, ...]:
    """The real migrations and a test one that takes a while and fails if it runs twice."""
    return (
        *MIGRATIONS,
        Migration(
            latest_version() + 1,
            "probe",
            {dialect: ("CREATE TABLE probe (n INTEGER)", pause_sql, "INSERT INTO probe VALUES (1)")},
        ),
    )


def migrate_together(migrate, connections) -> list[list[int]]:
    """Run `migrate` on each connection from its own thread, all released at once; what each applied."""
    start = threading.Barrier(len(connections))
    applied: list[list[int]] = []
    errors: list[BaseException] = []

    def run(db):
        start.wait()
        try:
            applied.append(migrate(db))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(db,)) for db in connections]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return sorted(applied)


def test_two_processes_migrating_one_sqlite_database_at_once_apply_each_migration_once(tmp_path):
    migrations = slow_second_migration("SELECT pause(0.3)", "sqlite")
    connections = []
    for _ in range(3):
        db = sqlite3.connect(tmp_path / "bot.db", timeout=30, isolation_level=None, check_same_thread=False)
        db.create_function("pause", 1, time.sleep)
        connections.append(db)
    applied = migrate_together(lambda db: migrate_sqlite(db, migrations), connections)
    every = [m.version for m in migrations]
    assert applied == [[], [], every]
    assert connections[0].execute("SELECT COUNT(*) FROM probe").fetchone()[0] == 1
    assert [v for v, _ in sqlite_versions(tmp_path / "bot.db")] == every
    for db in connections:
        db.close()


def test_two_processes_migrating_one_postgres_database_at_once_apply_each_migration_once(postgres_url):
    migrations = slow_second_migration("SELECT pg_sleep(0.3)", "postgresql")
    connections = [psycopg.connect(postgres_url) for _ in range(3)]
    applied = migrate_together(lambda db: migrate_postgres(db, migrations), connections)
    every = [m.version for m in migrations]
    assert applied == [[], [], every]
    assert [v for v, _ in postgres_versions(postgres_url)] == every
    for db in connections:
        db.close()


def test_a_fresh_postgres_schema_gets_every_migration_once(postgres_url):
    open_postgres(postgres_url).close()
    open_postgres(postgres_url).close()
    assert postgres_versions(postgres_url) == [(m.version, m.name) for m in MIGRATIONS]


def test_a_store_older_than_its_postgres_schema_refuses_to_open(postgres_url):
    open_postgres(postgres_url).close()
    with psycopg.connect(postgres_url) as db:
        db.execute("INSERT INTO schema_version VALUES (99, 'from the future', 0)")
    with pytest.raises(SchemaTooNew, match=f"schema is version 99, newer than this app's {latest_version()}"):
        open_postgres(postgres_url)


def test_an_app_older_than_its_database_refuses_to_start_with_one_line(tmp_path):
    path = tmp_path / "bot.db"
    open_sqlite(path).close()
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO schema_version VALUES (99, 'from the future', 0)")
    article = tmp_path / "news.txt"
    article.write_text(NEWS, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "ingest", str(article)],
        capture_output=True,
        text=True,
        env={"DATABASE_URL": f"sqlite:///{path}", "ARTICLES_DIR": str(tmp_path / "articles"), "PATH": ""},
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"python -m bot ingest: the database's schema is version 99, newer than this app's {latest_version()}:"
        " run the newer version of the app (or point DATABASE_URL at another database)."
    ]
    assert result.stdout == ""
    assert not (tmp_path / "articles" / "news.txt").exists()


def test_serve_refuses_a_database_newer_than_the_app_with_one_line(
    tmp_path, articles_dir, fake_slack, capsys
):
    path = tmp_path / "bot.db"
    open_sqlite(path).close()
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO schema_version VALUES (?, 'from the future', 0)", (latest_version() + 1,))
    settings = Settings(
        _env_file=None,
        slack_bot_token="xoxb-1",
        slack_signing_secret="s",
        slack_api_url=fake_slack.url,
        port=free_port(),
        articles_dir=str(articles_dir),
        database_url=f"sqlite:///{path}",
    )
    with pytest.raises(SystemExit) as stopped:
        serve(settings)
    assert stopped.value.code == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(
        f"Cannot start: DATABASE_URL cannot be used: the database's schema is version {latest_version() + 1}"
    )
    assert f"newer than this app's {latest_version()}" in line


STARTER = """
import sys, time
from pathlib import Path
from bot.stores.store import open_store
go = Path(sys.argv[2])
print("ready", flush=True)
while not go.exists():
    time.sleep(0.01)
open_store(sys.argv[1]).close()
"""


def start_together(database_url: str, tmp_path: Path, count: int = 4) -> list[subprocess.CompletedProcess]:
    """`count` real processes opening the store at `database_url` at the same moment."""
    go = tmp_path / "go"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", STARTER, database_url, str(go)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    for process in processes:
        assert process.stdout.readline() == "ready\n"
    go.touch()
    return [(p.wait(timeout=60), p.stderr.read()) for p in processes]


def test_processes_starting_together_on_a_new_sqlite_file_migrate_it_once(tmp_path):
    path = tmp_path / "bot.db"
    assert start_together(f"sqlite:///{path}", tmp_path) == [(0, "")] * 4
    assert [v for v, _ in sqlite_versions(path)] == [m.version for m in MIGRATIONS]


def test_processes_starting_together_on_an_empty_postgres_schema_migrate_it_once(postgres_url, tmp_path):
    assert start_together(postgres_url, tmp_path) == [(0, "")] * 4
    assert [v for v, _ in postgres_versions(postgres_url)] == [m.version for m in MIGRATIONS]


def test_migrations_are_numbered_one_after_another():
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))


def test_the_starting_library_loses_its_first_seen_dates_news_keeps_them(tmp_path):
    """Migration 8: a seed without a date line, given the day of the first start, is undated again;
    news (announced) and copies of a story keep the day they were first seen."""
    path = tmp_path / "bot.db"
    with sqlite3.connect(path, isolation_level=None) as db:
        migrate_sqlite(db, [m for m in MIGRATIONS if m.version < 8])
        rows = [
            ("seed", "folder", None, "skipped"),
            ("news", "folder", None, "posted"),
            ("copy", "feed", "news", "skipped"),
            ("dated", "folder", None, "skipped"),
        ]
        for article_id, origin, story, state in rows:
            source = "text" if article_id == "dated" else "first_seen"
            db.execute(
                "INSERT INTO articles (id, source, title, date, language, text, added_at, changed_at,"
                " origin, story, date_source) VALUES (?, ?, ?, '2026-12-06', 'en', 'x', 0, 0, ?, ?, ?)",
                (article_id, f"{article_id}.txt", article_id, origin, story, source),
            )
            db.execute(
                "INSERT INTO announcements (article_id, state, created_at) VALUES (?, ?, 0)",
                (article_id, state),
            )
    store = open_sqlite(path)
    dates = {
        a: (store.articles.get(a).date, store.articles.get(a).date_source)
        for a in ("seed", "news", "copy", "dated")
    }
    store.close()
    first_seen = (dt.date(2026, 12, 6), "first_seen")
    assert dates == {
        "seed": (None, None),
        "news": first_seen,
        "copy": first_seen,
        "dated": (dt.date(2026, 12, 6), "text"),
    }
