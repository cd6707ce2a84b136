"""The one ingest pipeline: same URL, same text, near-copies, takedowns, dates, and the store's migration."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3

import pytest

from bot.news.pipeline import Pipeline, RawArticle
from bot.stores.store import open_sqlite
from search import SearchIndex
from tests.search.dedupe_pairs import FIXTURES

TODAY = dt.date(2026, 1, 5)


def raw(name: str, url: str, outlet: str, **extra) -> RawArticle:
    head, _, body = (FIXTURES / f"{name}.txt").read_text(encoding="utf-8").partition("\n\n")
    meta = dict(line.split(": ", 1) for line in head.splitlines())
    return RawArticle(
        body,
        url,
        "feed",
        url=url,
        title=meta["title"],
        outlet=outlet,
        date=dt.date.fromisoformat(meta["date"]),
        date_source="page",
        **extra,
    )


@pytest.fixture
def store(tmp_path):
    store = open_sqlite(tmp_path / "store.db")
    store.articles.mark_baseline_done()
    yield store
    store.close()


@pytest.fixture
def pipeline(store):
    return Pipeline(store, SearchIndex(), today=lambda: TODAY)


def test_a_web_article_keeps_its_url_outlet_title_and_date(pipeline, store):
    recorded = pipeline.ingest(raw("funding-wire", "https://wire.example/a", "EuroWire"))
    assert recorded.outcome == "added" and recorded.announced
    article = pipeline.index.get(recorded.article.id)
    assert (article.url, article.outlet, article.date, article.date_source) == (
        "https://wire.example/a",
        "EuroWire",
        dt.date(2025, 9, 9),
        "page",
    )
    assert article.title == "Mistral AI raises 1.7 billion euros in round led by ASML"
    assert store.articles.get(article.id).story_id == article.id


def test_the_same_url_or_the_same_text_is_the_same_article(pipeline):
    first = pipeline.ingest(raw("funding-wire", "https://wire.example/a", "EuroWire"))
    assert pipeline.ingest(raw("funding-wire", "https://wire.example/a", "EuroWire")).outcome == "known"
    again = pipeline.ingest(raw("funding-wire", "https://mirror.example/a", "EuroWire"))
    assert again.outcome == "known" and again.article_id == first.article.id


def test_a_story_told_again_is_indexed_but_not_announced_and_marks_the_story(pipeline, store):
    wire = pipeline.ingest(raw("funding-wire", "https://wire.example/a", "EuroWire"))
    copy = pipeline.ingest(raw("funding-syndicated", "https://daily.example/b", "The Daily Byte"))
    french = pipeline.ingest(raw("levee-fonds-fr", "https://journal.example/c", "Le Journal"))
    analysis = pipeline.ingest(raw("funding-analysis", "https://ledger.example/d", "The Tech Ledger"))
    other = pipeline.ingest(raw("stellantis-partnership", "https://wire.example/e", "EuroWire"))
    assert copy.outcome == "copy" and copy.known.id == wire.article.id
    assert store.announcements.state(copy.article.id) == "skipped"
    assert copy.article.id in pipeline.index
    # The same funding round: in French the next day's analysis; the Stellantis deal is another story.
    assert (french.outcome, analysis.outcome, other.outcome) == ("copy", "copy", "added")
    assert french.known.id == analysis.known.id == wire.article.id
    assert [m.outlet for m in store.articles.story_members(wire.article.id)] == [
        "EuroWire",
        "The Daily Byte",
        "Le Journal",
        "The Tech Ledger",
    ]


def test_a_story_change_is_claimed_once_after_the_announcement_is_posted(pipeline, store):
    wire = pipeline.ingest(raw("funding-wire", "https://wire.example/a", "EuroWire"))
    claim = store.announcements.claim("w", 60)
    store.announcements.finish(claim.article_id, "w", "123.456")
    assert store.announcements.claim_story_change() is None
    pipeline.ingest(raw("funding-syndicated", "https://daily.example/b", "The Daily Byte"))
    assert store.announcements.claim_story_change() == (wire.article.id, "123.456")
    assert store.announcements.claim_story_change() is None


def test_a_taken_down_article_leaves_the_index_and_never_comes_back(pipeline, store):
    wire = pipeline.ingest(raw("funding-wire", "https://wire.example/a", "EuroWire"))
    pipeline.take_down(store.articles.get(wire.article.id))
    assert wire.article.id not in pipeline.index
    assert pipeline.ingest(raw("funding-wire", "https://wire.example/a", "EuroWire")).outcome == "removed"
    assert pipeline.ingest(raw("funding-wire", "https://other.example/a", "EuroWire")).outcome == "removed"
    assert store.articles.active_articles() == []


def test_another_process_s_changes_reach_the_index(store, tmp_path):
    server = Pipeline(store, SearchIndex(), today=lambda: TODAY)
    server.follow_from()
    cli_store = open_sqlite(tmp_path / "store.db")
    cli = Pipeline(cli_store, SearchIndex(), today=lambda: TODAY)
    added = cli.ingest(raw("funding-wire", "https://wire.example/a", "EuroWire"))
    server.sync()
    assert added.article.id in server.index
    cli.take_down(cli_store.articles.get(added.article.id))
    server.sync()
    assert added.article.id not in server.index
    cli_store.close()


def test_news_without_a_date_gets_the_day_it_was_first_seen_the_library_stays_undated(pipeline):
    text = "Mistral AI hires\n\n" + "Mistral AI hired a new head of research in Paris this week. " * 5
    recorded = pipeline.ingest(RawArticle(text, "a.txt", "folder"), announce=True)
    assert (recorded.article.date, recorded.article.date_source) == (TODAY, "first_seen")
    library = pipeline.ingest(RawArticle(text.replace("Paris", "Lyon"), "c.txt", "folder"), announce=False)
    assert (library.article.date, library.article.date_source) == (None, None)
    assert pipeline.store.articles.get(library.article.id).date is None
    dated = pipeline.ingest(RawArticle("date 2025-01-02\n" + text, "b.txt", "folder"))
    assert (dated.article.date, dated.article.date_source) == (dt.date(2025, 1, 2), "text")


def test_a_store_made_before_sources_is_migrated(tmp_path):
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE articles (id TEXT PRIMARY KEY, source TEXT NOT NULL, title TEXT NOT NULL, date TEXT,"
        " language TEXT NOT NULL, text TEXT NOT NULL, added_at REAL NOT NULL, changed_at REAL NOT NULL,"
        " removed_at REAL);"
        "INSERT INTO articles VALUES ('abc', 'a.txt', 'Old', NULL, 'en', 'Old text.', 1, 1, NULL);"
        "CREATE TABLE announcements (article_id TEXT PRIMARY KEY, state TEXT NOT NULL, created_at REAL NOT NULL,"
        " claimed_by TEXT, lease_until REAL, attempts INTEGER NOT NULL DEFAULT 0,"
        " not_before REAL NOT NULL DEFAULT 0, message_ts TEXT, last_error TEXT, posted_at REAL);"
    )
    db.close()
    store = open_sqlite(path)
    [old] = store.articles.active_articles()
    assert (old.origin, old.url, old.story_id) == ("folder", None, "abc")
    assert store.articles.active_sources() == ["a.txt"]
    store.close()


def test_another_process_s_removals_and_restorations_reach_the_index(store, tmp_path):
    server = Pipeline(store, SearchIndex(), today=lambda: TODAY)
    cli_store = open_sqlite(tmp_path / "store.db")
    cli = Pipeline(cli_store, SearchIndex(), today=lambda: TODAY)
    added = cli.ingest(raw("funding-wire", "https://wire.example/a", "EuroWire"))
    server.follow_from()
    server.index.add(added.article)  # as index_from_store built it at start
    cli_store.articles.mark_removed(added.article.source)  # the file was deleted
    server.sync()
    assert added.article.id not in server.index
    restored = cli_store.articles.record(
        added.article.model_copy(update={"source": "again.txt"}), announce=True
    )
    assert restored.outcome == "restored"  # the same text again under another name
    server.sync()
    assert added.article.id in server.index
    cli_store.close()


def test_the_change_log_is_pruned_at_the_first_call_then_once_an_hour(pipeline, store, caplog):
    for n in range(3):
        pipeline.ingest(RawArticle(f"Mistral AI note {n}.", f"{n}.txt", "folder"))
    with caplog.at_level(logging.INFO, logger="bot.news.pipeline"):
        pipeline.prune_changes(keep_seconds=0, keep_rows=1)
        pipeline.ingest(RawArticle("Mistral AI note 3.", "3.txt", "folder"))
        pipeline.prune_changes(keep_seconds=0, keep_rows=1)  # within the hour: nothing
    assert "Pruned 2 changes" in caplog.text and caplog.text.count("Pruned") == 1
    assert store.articles.prune_changes(keep_seconds=0, keep_rows=1) == 1
