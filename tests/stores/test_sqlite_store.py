"""What only the SQLite store does; the behaviour every store shares is in tests/stores/test_contract.py."""

import sqlite3

import pytest

from bot.stores.sqlite import SqliteDatabase
from bot.stores.store import open_sqlite, open_store, sqlite_path
from bot.stores.types import StoreUnavailable
from search import parse_article

NEWS = "date 2024-03-01\nMistral AI opens an office in Singapore\n\nMistral AI said on Friday it will hire 40 engineers in Singapore."
EDITED = NEWS.replace("40 engineers", "60 engineers")


@pytest.fixture
def store(tmp_path):
    store = open_sqlite(tmp_path / "bot.db")
    yield store
    store.close()


def test_database_url_gives_a_file_whose_folder_is_created(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = open_store("sqlite:///data/sub/bot.db")
    assert isinstance(store.database, SqliteDatabase)
    assert (tmp_path / "data" / "sub" / "bot.db").is_file()
    store.close()
    assert sqlite_path("sqlite:////var/lib/bot.db").as_posix() == "/var/lib/bot.db"
    with pytest.raises(ValueError, match="DATABASE_URL"):
        sqlite_path("mysql://db/bot")


def test_uses_write_ahead_logging(store):
    assert store.database._connection().execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_failed_write_leaves_nothing_half_done(store, monkeypatch):
    article = parse_article(NEWS, "a.txt")
    store.articles.record(article, announce=True)
    store.database._connection().execute("DROP TABLE announcements")
    with pytest.raises(StoreUnavailable):
        store.articles.record(parse_article(EDITED, "b.txt"), announce=True)
    assert [s.id for s in store.articles.active_articles()] == [article.id]


def test_a_deleted_database_refuses_writes_instead_of_losing_them(tmp_path):
    store = open_sqlite(tmp_path / "bot.db")
    store.articles.record(parse_article(NEWS, "a.txt"), announce=True)
    assert store.problem() is None
    (tmp_path / "bot.db").unlink()
    assert "deleted" in store.problem()
    with pytest.raises(StoreUnavailable):
        store.articles.record(parse_article(EDITED, "b.txt"), announce=True)
    assert not (tmp_path / "bot.db").exists(), "no empty database is created in its place"
    store.close()


def test_a_database_put_back_is_reopened(tmp_path):
    path = tmp_path / "bot.db"
    store = open_sqlite(path)
    first = store.articles.record(parse_article(NEWS, "a.txt"), announce=True)
    with sqlite3.connect(path) as db:
        db.execute("VACUUM INTO ?", (str(tmp_path / "backup.db"),))
    path.unlink()
    assert store.problem() is not None
    (tmp_path / "backup.db").rename(path)
    assert store.problem() is None and store.reopened == 1
    second = store.articles.record(parse_article(EDITED, "b.txt"), announce=True)
    with sqlite3.connect(path) as db:
        ids = {row[0] for row in db.execute("SELECT id FROM articles")}
    assert ids == {first.article_id, second.article_id}
    store.close()


def test_another_file_in_its_place_is_not_taken_for_the_store(tmp_path):
    path = tmp_path / "bot.db"
    store = open_sqlite(path)
    path.unlink()
    path.write_bytes(b"")
    assert "replaced" in store.problem()
    with pytest.raises(StoreUnavailable):
        store.articles.record(parse_article(NEWS, "a.txt"), announce=True)
    store.close()
