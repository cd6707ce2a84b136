import sqlite3
import threading

import pytest

from bot.store import SqliteStore, StoreUnavailable, index_from_store, open_store, sqlite_path
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
    assert (tmp_path / "data" / "sub" / "bot.db").is_file()
    store.close()
    assert sqlite_path("sqlite:////var/lib/bot.db").as_posix() == "/var/lib/bot.db"
    with pytest.raises(ValueError, match="DATABASE_URL"):
        sqlite_path("postgresql://db/bot")


def test_uses_write_ahead_logging(store):
    assert store._connection().execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_keeps_every_field_of_an_article_and_finds_it_by_source(store):
    article = parse_article(NEWS, "singapore.txt")
    assert store.record(article, announce=True).outcome == "added"
    stored = store.by_source("singapore.txt")
    assert stored.id == article.id
    assert (stored.title, stored.date, stored.language, stored.text) == (
        article.title,
        article.date,
        article.language,
        article.text,
    )
    assert stored.added_at == stored.changed_at
    assert store.announcement_state(article.id) == "pending"


def test_same_content_under_another_name_is_known(store):
    store.record(parse_article(NEWS, "a.txt"), announce=True)
    result = store.record(parse_article(NEWS, "b.txt"), announce=True)
    assert result.outcome == "known"
    assert [s.source for s in store.active_articles()] == ["a.txt"]
    assert store.active_sources() == ["a.txt"]


def test_new_content_at_the_same_source_is_an_update_without_announcement(store):
    first = parse_article(NEWS, "a.txt")
    store.record(first, announce=True)
    second = parse_article(EDITED, "a.txt")
    result = store.record(second, announce=True)
    assert (result.outcome, result.replaced_id) == ("updated", first.id)
    assert store.get(first.id).removed_at is not None
    assert store.announcement_state(second.id) == "skipped"
    assert [s.id for s in store.active_articles()] == [second.id]


def test_removed_article_comes_back_without_a_second_announcement(store):
    article = parse_article(NEWS, "a.txt")
    store.record(article, announce=True)
    assert store.mark_removed("a.txt") == article.id
    assert store.active_articles() == []
    assert store.mark_removed("a.txt") is None
    assert store.record(parse_article(NEWS, "b.txt"), announce=True).outcome == "restored"
    assert store.by_source("b.txt").id == article.id
    assert store.counts() == {"pending": 1}


def test_index_is_rebuilt_from_the_store_after_a_restart(tmp_path):
    path = tmp_path / "bot.db"
    first = SqliteStore(path)
    article = parse_article(NEWS, "a.txt")
    first.record(article, announce=False)
    first.close()
    index = index_from_store(SqliteStore(path))
    assert index.get(article.id).title == article.title
    assert index.search("Singapore engineers", limit=1)[0].citation.article_id == article.id


def test_a_claim_is_taken_once_and_finished_only_by_its_holder(store):
    article = parse_article(NEWS, "a.txt")
    store.record(article, announce=True)
    claim = store.claim_announcement("w1", lease_seconds=60)
    assert (claim.article_id, claim.attempts, claim.recovered) == (article.id, 0, False)
    assert store.claim_announcement("w2", lease_seconds=60) is None
    assert not store.finish_announcement(article.id, "w2", "1.1")
    assert store.finish_announcement(article.id, "w1", "1.1")
    assert store.announcement_state(article.id) == "posted"


def test_an_expired_claim_can_be_recovered_by_another_worker(tmp_path):
    now = [1000.0]
    store = SqliteStore(tmp_path / "bot.db", clock=lambda: now[0])
    store.record(parse_article(NEWS, "a.txt"), announce=True)
    store.claim_announcement("crashed", lease_seconds=30)
    now[0] += 31
    claim = store.claim_announcement("w2", lease_seconds=30)
    assert claim.recovered and claim.attempts == 1
    assert not store.finish_announcement(claim.article_id, "crashed", "1.1")


def test_retry_waits_until_its_time(tmp_path):
    now = [1000.0]
    store = SqliteStore(tmp_path / "bot.db", clock=lambda: now[0])
    store.record(parse_article(NEWS, "a.txt"), announce=True)
    claim = store.claim_announcement("w1", lease_seconds=30)
    assert store.retry_announcement(claim.article_id, "w1", "ratelimited", delay=5)
    assert store.claim_announcement("w1", lease_seconds=30) is None
    now[0] += 5
    again = store.claim_announcement("w1", lease_seconds=30)
    assert (again.article_id, again.recovered) == (claim.article_id, False)


def test_many_threads_claiming_take_each_announcement_once(store):
    for n in range(20):
        store.record(parse_article(f"Mistral AI news number {n} about models.", f"{n}.txt"), announce=True)
    taken: list[str] = []

    def work(name):
        while claim := store.claim_announcement(name, lease_seconds=60):
            taken.append(claim.article_id)
            store.finish_announcement(claim.article_id, name, "1.1")

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(taken) == 20 == len(set(taken))
    assert store.counts() == {"posted": 20}


def test_a_failed_write_leaves_nothing_half_done(store, monkeypatch):
    article = parse_article(NEWS, "a.txt")
    store.record(article, announce=True)
    store._connection().execute("DROP TABLE announcements")
    with pytest.raises(StoreUnavailable):
        store.record(parse_article(EDITED, "b.txt"), announce=True)
    assert [s.id for s in store.active_articles()] == [article.id]


def test_a_deleted_database_refuses_writes_instead_of_losing_them(tmp_path):
    store = SqliteStore(tmp_path / "bot.db")
    store.record(parse_article(NEWS, "a.txt"), announce=True)
    assert store.problem() is None
    (tmp_path / "bot.db").unlink()
    assert "deleted" in store.problem()
    with pytest.raises(StoreUnavailable):
        store.record(parse_article(EDITED, "b.txt"), announce=True)
    assert not (tmp_path / "bot.db").exists(), "no empty database is created in its place"
    store.close()


def test_a_database_put_back_is_reopened(tmp_path):
    path = tmp_path / "bot.db"
    store = SqliteStore(path)
    first = store.record(parse_article(NEWS, "a.txt"), announce=True)
    with sqlite3.connect(path) as db:
        db.execute("VACUUM INTO ?", (str(tmp_path / "backup.db"),))
    path.unlink()
    assert store.problem() is not None
    (tmp_path / "backup.db").rename(path)
    assert store.problem() is None and store.reopened == 1
    second = store.record(parse_article(EDITED, "b.txt"), announce=True)
    with sqlite3.connect(path) as db:
        ids = {row[0] for row in db.execute("SELECT id FROM articles")}
    assert ids == {first.article_id, second.article_id}
    store.close()


def test_another_file_in_its_place_is_not_taken_for_the_store(tmp_path):
    path = tmp_path / "bot.db"
    store = SqliteStore(path)
    path.unlink()
    path.write_bytes(b"")
    assert "replaced" in store.problem()
    with pytest.raises(StoreUnavailable):
        store.record(parse_article(NEWS, "a.txt"), announce=True)
    store.close()
