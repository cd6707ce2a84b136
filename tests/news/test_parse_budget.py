"""A file whose parse takes longer than the budget is refused, once, and ingestion goes on."""

import logging
import threading

import pytest

from bot.news.folder import Ingestor
from bot.news.watcher import FolderWatcher
from bot.stores.store import open_sqlite
from search import SearchIndex
from tests.news.parsers import SLOW_MARK, parse_crashing, parse_slowly
from tests.polling import wait_until

NEWS = "Mistral AI opens an office in Singapore\n\nMistral AI said on Friday it will hire 40 engineers in Singapore."
SLOW = f"Mistral AI and Nvidia\n\nMistral AI released a model built with Nvidia. {SLOW_MARK}"
BUDGET = 1.0


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
    ingestor = Ingestor(store, SearchIndex(), folder, parse=parse_slowly, parse_seconds=BUDGET)
    yield ingestor
    ingestor.close()


def skip_lines(caplog, name):
    return [r.getMessage() for r in caplog.records if name in r.getMessage() and "Skipped" in r.getMessage()]


def test_a_slow_file_is_refused_with_one_line_and_the_next_file_is_read(folder, ingestor, caplog):
    (folder / "a-slow.txt").write_text(SLOW, "utf-8")
    (folder / "b-news.txt").write_text(NEWS, "utf-8")
    with caplog.at_level(logging.INFO):
        reports = ingestor.scan()
    assert [(r.source, r.outcome) for r in reports] == [("a-slow.txt", "skipped"), ("b-news.txt", "added")]
    assert "longer than 1 s" in reports[0].reason
    assert len(skip_lines(caplog, "a-slow.txt")) == 1
    assert ingestor.parser.timeouts == 1


def test_an_unchanged_slow_file_is_not_read_again_a_changed_one_is(folder, ingestor, caplog):
    path = folder / "slow.txt"
    path.write_text(SLOW, "utf-8")
    with caplog.at_level(logging.INFO):
        ingestor.scan()
        ingestor.scan()
        ingestor.ingest(path)
    assert len(skip_lines(caplog, "slow.txt")) == 1
    assert ingestor.parser.timeouts == 1
    path.write_text(NEWS, "utf-8")
    assert ingestor.ingest(path).outcome == "added"
    assert ingestor.parser.timeouts == 1


def test_the_watcher_ingests_the_files_after_a_slow_one(store, folder, ingestor):
    with FolderWatcher(ingestor, settle_seconds=0.2):
        (folder / "slow.txt").write_text(SLOW, "utf-8")
        (folder / "news.txt").write_text(NEWS, "utf-8")
        wait_until(lambda: store.articles.by_source("news.txt") is not None, timeout=30)
        wait_until(lambda: ingestor.parser.timeouts == 1, timeout=30)
    assert store.articles.by_source("slow.txt") is None


def test_a_parser_that_raises_refuses_the_file(store, folder):
    ingestor = Ingestor(store, SearchIndex(), folder, parse=parse_crashing)
    try:
        (folder / "a.txt").write_text(NEWS, "utf-8")
        report = ingestor.ingest(folder / "a.txt")
    finally:
        ingestor.close()
    assert report.outcome == "skipped" and "a bug in the parser" in report.reason


def test_closing_the_ingestor_ends_a_parse_in_progress(store, folder):
    ingestor = Ingestor(store, SearchIndex(), folder, parse=parse_slowly, parse_seconds=3600)
    (folder / "slow.txt").write_text(SLOW, "utf-8")
    reports = []
    parsing = threading.Thread(
        target=lambda: reports.append(ingestor.ingest(folder / "slow.txt")), daemon=True
    )
    parsing.start()
    wait_until(lambda: ingestor.parser._child is not None)
    closing = threading.Thread(target=ingestor.close, daemon=True)
    closing.start()
    for thread in (closing, parsing):
        thread.join(timeout=30)  # a hang detector: the parse alone would last an hour
        assert not thread.is_alive()
    assert reports[0].outcome == "skipped" and "stopped" in reports[0].reason


def test_stopping_the_watcher_does_not_wait_for_a_parse(store, folder):
    ingestor = Ingestor(store, SearchIndex(), folder, parse=parse_slowly, parse_seconds=3600)
    watcher = FolderWatcher(ingestor, settle_seconds=0.1).start()
    (folder / "slow.txt").write_text(SLOW, "utf-8")
    wait_until(lambda: ingestor.parser._child is not None)
    stopping = threading.Thread(target=watcher.stop, daemon=True)
    stopping.start()
    stopping.join(timeout=30)  # a hang detector: the parse alone would last an hour
    assert not stopping.is_alive() and not watcher._thread.is_alive()
