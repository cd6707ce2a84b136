"""What only the SQLite store does; the behaviour every store shares is in tests/stores/test_contract.py."""

import sqlite3

import pytest

from bot.store import SqliteStore, open_store, sqlite_path
from search import parse_article

NEWS = "date 2024-03-01\nMistral AI opens an office in Singapore\n\nMistral AI said on Friday it will hire 40 engineers in Singapore."
EDITED = NEWS.replace("40 engineers", "60 engineers")


@pytest.fixture
def store(tmp_path):
    store = SqliteStore(tmp_path / "bot.db")
    yield store
    store.close()


def test_database_url_gives_a_file_whose_folder_is_created(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = open_store("sqlite:///data/sub/bot.db")
    assert isinstance(store, SqliteStore)
    assert (tmp_path / "data" / "sub" / "bot.db").is_file()
    store.close()
    assert sqlite_path("sqlite:////var/lib/bot.db").as_posix() == "/var/lib/bot.db"
    with pytest.raises(ValueError, match="DATABASE_URL"):
        sqlite_path("mysql://db/bot")


def test_uses_write_ahead_logging(store):
    assert store._connection().execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_failed_write_leaves_nothing_half_done(store, monkeypatch):
    article = parse_article(NEWS, "a.txt")
    store.record(article, announce=True)
    store._connection().execute("DROP TABLE announcements")
    with pytest.raises(sqlite3.OperationalError):
        store.record(parse_article(EDITED, "b.txt"), announce=True)
    assert [s.id for s in store.active_articles()] == [article.id]
