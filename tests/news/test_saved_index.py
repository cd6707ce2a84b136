"""The saved index beside the store: a restart opens it without parsing; anything off is rebuilt or repaired.

Parsing is counted by wrapping the real parser (the call goes through): no code of ours is replaced.
"""

import json
import logging
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest
from slack_sdk import WebClient

import bot.stores.articles
from bot.app import start_news_desk
from bot.news.saved_index import index_folder, open_index
from bot.settings import load_settings
from bot.stores.store import open_sqlite
from search import load_article, load_articles
from search.persist import JOURNAL, SNAPSHOT

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
QUERIES = ["valuation", "Mistral partnership Microsoft", "Arthur Mensch"]


@pytest.fixture
def parses(monkeypatch):
    """How many times a stored article's text was parsed again (files are parsed in a worker process,
    which a file unchanged since it was recorded never reaches)."""
    calls = {"count": 0}
    real = bot.stores.articles.parse_article

    def counting(text, source):
        calls["count"] += 1
        return real(text, source)

    monkeypatch.setattr(bot.stores.articles, "parse_article", counting)
    return calls


@pytest.fixture
def store(tmp_path):
    store = open_sqlite(tmp_path / "bot.db")
    for article in load_articles(SEEDS):
        store.articles.record(article, announce=False)
    yield store
    store.close()


def answers(index):
    return [[(h.passage.id, round(h.score, 9), h.snippet.text) for h in index.search(q, 5)] for q in QUERIES]


def test_a_restart_with_nothing_changed_parses_no_article(tmp_path, parses):
    folder = tmp_path / "articles"
    shutil.copytree(SEEDS, folder)
    settings = load_settings(
        require_slack=False,
        slack_bot_token="xoxb-test",
        slack_api_url="http://127.0.0.1:9/api/",
        articles_dir=str(folder),
        database_url=f"sqlite:///{tmp_path / 'data' / 'bot.db'}",
    )
    client = WebClient(token="xoxb-test", base_url=settings.slack_api_url)
    desk = start_news_desk(settings, client)
    first = answers(desk.index), desk.index.article_ids()
    desk.stop()
    assert first[1]
    assert (index_folder(settings.database_url) / SNAPSHOT).is_file()

    parses["count"] = 0
    desk = start_news_desk(settings, client)
    try:
        assert parses["count"] == 0
        assert (answers(desk.index), desk.index.article_ids()) == first
    finally:
        desk.stop()


def test_articles_added_and_removed_while_running_are_saved_for_the_next_start(tmp_path, parses):
    folder = tmp_path / "articles"
    shutil.copytree(SEEDS, folder)
    settings = load_settings(
        require_slack=False,
        slack_bot_token="xoxb-test",
        slack_api_url="http://127.0.0.1:9/api/",
        articles_dir=str(folder),
        database_url=f"sqlite:///{tmp_path / 'data' / 'bot.db'}",
    )
    client = WebClient(token="xoxb-test", base_url=settings.slack_api_url)
    desk = start_news_desk(settings, client)
    try:
        news = folder / "raise.txt"
        news.write_text(
            "date 2024-06-11\nMistral AI raises 600 million euros\n\nMistral AI raised 600 million euros."
        )
        added = desk.ingestor.ingest(news).article_id
        gone_file = sorted(folder.glob("*.txt"))[0]
        gone_file.unlink()
        gone = desk.ingestor.remove(gone_file)
        running = answers(desk.index), desk.index.article_ids()
    finally:
        desk.stop()
    assert added in running[1] and gone not in running[1]

    parses["count"] = 0
    desk = start_news_desk(settings, client)
    try:
        assert parses["count"] == 0, "the journal carried the change: nothing parsed again"
        assert (answers(desk.index), desk.index.article_ids()) == running
    finally:
        desk.stop()


def test_the_index_folder_is_beside_the_store():
    assert index_folder("sqlite:////var/lib/bot/bot.db") == Path("/var/lib/bot/bot.index")


def test_first_open_builds_and_saves_then_reopens_without_parsing(tmp_path, store, parses):
    built = open_index(store, tmp_path / "index")
    assert built.article_ids() == store.articles.active_ids()
    parses["count"] = 0
    reopened = open_index(store, tmp_path / "index")
    assert parses["count"] == 0
    assert answers(reopened) == answers(built)


def test_an_article_the_files_lack_is_added_by_parsing_only_it(tmp_path, store, parses):
    open_index(store, tmp_path / "index")
    news = "date 2024-06-11\nMistral AI raises 600 million euros\n\nMistral AI raised 600 million euros on Tuesday."
    added = store.articles.record(
        bot.stores.articles.parse_article(news, "raise.txt"), announce=False
    ).article_id
    parses["count"] = 0
    index = open_index(store, tmp_path / "index")
    assert parses["count"] == 1
    assert added in index and index.search("600 million euros", 1)[0].citation.article_id == added
    parses["count"] = 0
    assert added in open_index(store, tmp_path / "index"), "the repair was saved"
    assert parses["count"] == 0


def test_an_article_the_store_removed_leaves_the_index(tmp_path, store, parses):
    open_index(store, tmp_path / "index")
    source = sorted(store.articles.active_sources())[0]
    gone = store.articles.mark_removed(source)
    parses["count"] = 0
    index = open_index(store, tmp_path / "index")
    assert gone not in index and index.article_ids() == store.articles.active_ids()
    assert parses["count"] == 0
    assert gone not in open_index(store, tmp_path / "index")


def test_a_damaged_index_is_rebuilt_with_one_log_line(tmp_path, store, caplog):
    good = answers(open_index(store, tmp_path / "index"))
    snapshot = tmp_path / "index" / SNAPSHOT
    snapshot.write_bytes(snapshot.read_bytes()[:-1000])
    with caplog.at_level(logging.INFO):
        index = open_index(store, tmp_path / "index")
    lines = [r for r in caplog.records if r.name.startswith(("bot.news.saved_index", "search.persist"))]
    assert len(lines) == 1 and lines[0].levelno == logging.WARNING and "Rebuilding" in lines[0].getMessage()
    assert answers(index) == good
    assert answers(open_index(store, tmp_path / "index")) == good


@pytest.mark.parametrize("version", ["search.persist.ANALYZER_VERSION", "search.loader.LOADER_VERSION"])
def test_an_index_of_another_version_is_rebuilt_once(tmp_path, store, parses, monkeypatch, caplog, version):
    open_index(store, tmp_path / "index")
    monkeypatch.setattr(version, 2)
    parses["count"] = 0
    with caplog.at_level(logging.WARNING):
        index = open_index(store, tmp_path / "index")
    assert (
        parses["count"] == len(store.articles.active_ids())
        and index.article_ids() == store.articles.active_ids()
    )
    assert "another version" in caplog.text
    parses["count"] = 0
    open_index(store, tmp_path / "index")
    assert parses["count"] == 0, "rebuilt once, then opened"


@pytest.fixture
def statements(monkeypatch):
    """The SQL statements run on SQLite from this thread (each connection traced, nothing replaced)."""
    seen: list[str] = []
    real = sqlite3.connect
    caller = threading.get_ident()

    def traced(*args, **kwargs):
        db = real(*args, **kwargs)
        db.set_trace_callback(lambda sql: seen.append(sql) if threading.get_ident() == caller else None)
        return db

    monkeypatch.setattr(sqlite3, "connect", traced)
    return seen


def folder_settings(tmp_path, folder):
    return load_settings(
        require_slack=False,
        slack_bot_token="xoxb-test",
        slack_api_url="http://127.0.0.1:9/api/",
        articles_dir=str(folder),
        database_url=f"sqlite:///{tmp_path / 'data' / 'bot.db'}",
    )


def restart_statements(settings, statements) -> list[str]:
    client = WebClient(token="xoxb-test", base_url=settings.slack_api_url)
    start_news_desk(settings, client).stop()
    statements.clear()
    desk = start_news_desk(settings, client)
    desk.stop()
    return list(statements)


def test_a_restart_asks_the_store_as_often_whatever_the_number_of_files(tmp_path, statements):
    folder = tmp_path / "articles"
    shutil.copytree(SEEDS, folder)
    settings = folder_settings(tmp_path, folder)
    few = restart_statements(settings, statements)
    for seed in sorted(SEEDS.glob("*.txt")):
        text = seed.read_text(encoding="utf-8")
        (folder / f"again-{seed.name}").write_text(text + "\n\nOne more paragraph of this copy.\n")
    restart_statements(settings, statements)
    many = restart_statements(settings, statements)
    assert len(many) == len(few), "no query per file, nor per article"
    assert [s for s in many if "FROM files" in s] == ["SELECT source, size, mtime_ns, article_id FROM files"]
    assert not [s for s in many if s.startswith("SELECT * FROM articles")], "no article's text is read"


def test_copies_are_found_after_a_restart_from_the_saved_index(tmp_path, statements):
    folder = tmp_path / "articles"
    shutil.copytree(SEEDS, folder)
    settings = folder_settings(tmp_path, folder)
    client = WebClient(token="xoxb-test", base_url=settings.slack_api_url)
    start_news_desk(settings, client).stop()
    statements.clear()
    desk = start_news_desk(settings, client)
    try:
        assert not [s for s in statements if s.startswith("SELECT * FROM articles")], "a start reads no text"
        seed = next(p for p in sorted(SEEDS.glob("*.txt")) if load_article(p).date is not None)
        copy = folder / "copy.txt"
        copy.write_text(seed.read_text(encoding="utf-8") + "\n\nA line only the copy has.\n")
        assert desk.ingestor.ingest(copy).outcome == "copy"
    finally:
        desk.stop()


def test_after_a_first_start_the_saved_index_is_one_snapshot(tmp_path):
    folder = tmp_path / "articles"
    shutil.copytree(SEEDS, folder)
    settings = folder_settings(tmp_path, folder)
    start_news_desk(settings, WebClient(token="xoxb-test", base_url=settings.slack_api_url)).stop()
    _magic, header, records = (index_folder(settings.database_url) / JOURNAL).read_bytes().split(b"\n", 2)
    assert json.loads(header)["generation"] and records == b"", "the next start replays no article"
