import logging
import shutil
import time

import pytest

from bot.news.folder import Ingestor
from bot.news.watcher import FolderWatcher
from bot.stores.store import open_sqlite
from search import SearchIndex
from tests.polling import wait_until

NEWS = "Mistral AI opens an office in Singapore\n\nMistral AI said on Friday it will hire 40 engineers in Singapore."
OTHER = (
    "Mistral AI and Nvidia\n\nMistral AI released a 12 billion parameter model built with Nvidia on Thursday."
)


@pytest.fixture
def store(tmp_path):
    store = open_sqlite(tmp_path / "bot.db")
    store.articles.mark_baseline_done()
    yield store
    store.close()


@pytest.fixture
def folder(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    return folder


@pytest.fixture
def ingestor(store, folder):
    return Ingestor(store, SearchIndex(), folder)


def all_rows(store):
    return store.database._connection().execute("SELECT id, text FROM articles").fetchall()


def test_a_new_file_is_ingested_from_its_event_before_any_rescan(store, folder, ingestor):
    with FolderWatcher(ingestor):
        (folder / "a.txt").write_text(NEWS, "utf-8")
        wait_until(lambda: store.articles.by_source("a.txt") is not None, timeout=20)
    assert ingestor.index.article_count == 1


def test_a_file_in_a_subfolder_is_ingested(store, folder, ingestor):
    with FolderWatcher(ingestor):
        (folder / "2024").mkdir()
        (folder / "2024" / "a.md").write_text(NEWS, "utf-8")
        wait_until(lambda: store.articles.by_source("2024/a.md") is not None)


def test_a_file_being_written_is_read_only_when_complete(store, folder, ingestor):
    words = NEWS.split(" ")
    with FolderWatcher(ingestor, settle_seconds=0.5):
        with (folder / "slow.txt").open("w", encoding="utf-8") as file:
            for word in words:
                file.write(word + " ")
                file.flush()
                time.sleep(0.1)
        wait_until(lambda: store.articles.by_source("slow.txt") is not None)
    assert [row["text"] for row in all_rows(store)] == ["".join(word + " " for word in words)]


def test_a_deleted_file_leaves_the_index_and_the_store(store, folder, ingestor):
    with FolderWatcher(ingestor):
        (folder / "a.txt").write_text(NEWS, "utf-8")
        wait_until(lambda: store.articles.by_source("a.txt") is not None)
        article_id = store.articles.by_source("a.txt").id
        (folder / "a.txt").unlink()
        wait_until(lambda: store.articles.by_source("a.txt") is None)
    assert article_id not in ingestor.index
    assert store.articles.get(article_id).removed_at is not None


def test_a_file_renamed_into_the_folder_is_ingested(tmp_path, store, folder, ingestor):
    with FolderWatcher(ingestor):
        (folder / ".a.txt.part").write_text(NEWS, "utf-8")
        (folder / ".a.txt.part").rename(folder / "a.txt")
        wait_until(lambda: store.articles.by_source("a.txt") is not None)
    assert [row["id"] for row in all_rows(store)] == [store.articles.by_source("a.txt").id]


def test_the_rescan_finds_what_events_missed(store, folder, ingestor):
    with FolderWatcher(ingestor, use_events=False, rescan_seconds=0.3):
        (folder / "a.txt").write_text(NEWS, "utf-8")
        wait_until(lambda: store.articles.by_source("a.txt") is not None)
        (folder / "a.txt").unlink()
        wait_until(lambda: store.articles.by_source("a.txt") is None)


def test_bad_files_do_not_stop_the_watcher(tmp_path, store, folder, ingestor):
    (tmp_path / "outside.txt").write_text(OTHER, "utf-8")
    with FolderWatcher(ingestor) as watcher:
        (folder / "empty.txt").write_bytes(b"")
        (folder / "binary.txt").write_bytes(b"\x00\x01\x02" * 1000)
        (folder / "link.txt").symlink_to(tmp_path / "outside.txt")
        (folder / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")
        with (folder / "huge.txt").open("wb") as file:
            file.truncate(50 * 1024 * 1024)
        (folder / "good.txt").write_text(NEWS, "utf-8")
        wait_until(lambda: store.articles.by_source("good.txt") is not None)
        assert watcher._thread.is_alive()
    assert [s.source for s in store.articles.active_articles()] == ["good.txt"]


def test_stop_ends_the_threads(ingestor):
    watcher = FolderWatcher(ingestor).start()
    observer = watcher._observer
    watcher.stop()
    assert not watcher._thread.is_alive()
    assert not observer.is_alive()


def test_files_in_hidden_folders_are_ignored_by_events_and_rescans(store, folder, ingestor, caplog):
    with caplog.at_level(logging.INFO), FolderWatcher(ingestor, settle_seconds=0.1, rescan_seconds=0.3):
        (folder / ".Trash").mkdir()
        (folder / ".Trash" / "old.txt").write_text(NEWS, "utf-8")
        (folder / ".venv" / "lib").mkdir(parents=True)
        (folder / ".venv" / "lib" / "notes.md").write_text(OTHER, "utf-8")
        (folder / "news.txt").write_text(NEWS, "utf-8")
        wait_until(lambda: store.articles.by_source("news.txt") is not None)
        # Written after the hidden files were settled: by the time it is read, they were looked at.
        (folder / "later.txt").write_text(OTHER, "utf-8")
        wait_until(lambda: store.articles.by_source("later.txt") is not None)
    assert sorted(s.source for s in store.articles.active_articles()) == ["later.txt", "news.txt"]
    assert not [r for r in caplog.records if ".Trash" in r.getMessage() or ".venv" in r.getMessage()]
    assert [path.name for path in ingestor.article_files()] == ["later.txt", "news.txt"]


def test_a_file_moved_to_the_trash_folder_is_removed(store, folder, ingestor):
    with FolderWatcher(ingestor, settle_seconds=0.1, rescan_seconds=3600):
        (folder / "a.txt").write_text(NEWS, "utf-8")
        wait_until(lambda: store.articles.by_source("a.txt") is not None)
        (folder / ".Trash").mkdir()
        (folder / "a.txt").rename(folder / ".Trash" / "a.txt")
        wait_until(lambda: store.articles.by_source("a.txt") is None)
    assert store.articles.active_articles() == []


def test_a_folder_deleted_and_made_again_is_watched_again(store, folder, ingestor):
    # No rescan in the test's time: only events can bring the new file in.
    with FolderWatcher(ingestor, settle_seconds=0.1, rescan_seconds=3600):
        (folder / "a.txt").write_text(NEWS, "utf-8")
        wait_until(lambda: store.articles.by_source("a.txt") is not None)
        shutil.rmtree(folder)
        wait_until(lambda: store.articles.by_source("a.txt") is None)
        folder.mkdir()
        (folder / "b.txt").write_text(OTHER, "utf-8")
        wait_until(lambda: store.articles.by_source("b.txt") is not None, timeout=10)
        (folder / "c.txt").write_text(NEWS, "utf-8")
        wait_until(lambda: store.articles.by_source("c.txt") is not None, timeout=10)


def test_a_folder_replaced_by_another_is_watched_and_rescanned(tmp_path, store, folder, ingestor):
    with FolderWatcher(ingestor, settle_seconds=0.1, rescan_seconds=3600):
        (folder / "a.txt").write_text(NEWS, "utf-8")
        wait_until(lambda: store.articles.by_source("a.txt") is not None)
        replacement = tmp_path / "replacement"
        replacement.mkdir()
        (replacement / "b.txt").write_text(OTHER, "utf-8")
        folder.rename(tmp_path / "old")
        replacement.rename(folder)
        wait_until(lambda: store.articles.by_source("b.txt") is not None, timeout=10)
        wait_until(lambda: store.articles.by_source("a.txt") is None, timeout=10)
        (folder / "c.txt").write_text(NEWS, "utf-8")
        wait_until(lambda: store.articles.by_source("c.txt") is not None, timeout=10)
