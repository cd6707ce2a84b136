"""`python -m bot ingest URL | feeds | export | remove | search` as the operator runs them: real subprocesses
against the local web stand-in."""

from __future__ import annotations

import json

import pytest

from bot.news.folder import Ingestor, start_ingest
from bot.stores.store import open_sqlite
from search import SearchIndex, parse_article
from tests.cli.test_cli import run_bot
from tests.fakes import FakeWeb

WIRE = "/wire/2025/09/funding-wire.html"
COPY = "/daily/2025/09/funding-syndicated.html"


@pytest.fixture(scope="module")
def web():
    with FakeWeb() as server:
        yield server


@pytest.fixture
def env(tmp_path):
    articles = tmp_path / "articles"
    articles.mkdir()
    return {"DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}", "ARTICLES_DIR": str(articles)}


def test_ingest_url_says_what_was_added_or_why_not(web, env):
    result = run_bot("ingest", web.url(WIRE + "?utm_source=x"), web.url(COPY), env=env)
    lines = result.stdout.splitlines()
    assert lines[0].endswith(
        "Added “Mistral AI raises 1.7 billion euros in round led by ASML” (EuroWire, 2025-09-09)."
    )
    assert (
        "the same story as “Mistral AI raises 1.7 billion euros" in lines[1]
        and "not announced again" in lines[1]
    )
    assert result.returncode == 0
    again = run_bot(
        "ingest", web.url(WIRE), web.url("/quirks/huge.html"), web.url("/quirks/binary-typed.html"), env=env
    )
    lines = again.stdout.splitlines()
    assert lines[0].endswith(
        "Already known as “Mistral AI raises 1.7 billion euros in round led by ASML” (EuroWire, 2025-09-09)."
    )
    assert "Not added: too big" in lines[1]
    assert "Not added: not a web page" in lines[2]
    assert again.returncode == 1
    unreachable = run_bot("ingest", "http://127.0.0.1:9/none.html", web.url("/ledger/"), env=env)
    assert "Not added: 127.0.0.1:9:" in unreachable.stdout
    assert "Not added: the server answered HTTP 404" in unreachable.stdout


def test_feeds_add_list_remove(web, env):
    added = run_bot("feeds", "add", web.url("/feeds/wire.atom"), web.url("/quirks/binary.html"), env=env)
    lines = added.stdout.splitlines()
    assert lines[0].startswith(f"Added the feed {web.url('/feeds/wire.atom')} (EuroWire Technology): 3 items")
    assert "cannot be read as a feed" in lines[1]
    assert added.returncode == 1
    assert run_bot("feeds", "add", web.url("/ledger/2025/02/le-chat-downloads.html"), env=env).returncode == 1
    listed = run_bot("feeds", "list", env=env).stdout
    assert listed.startswith("1 feeds:") and web.url("/feeds/wire.atom") in listed
    removed = run_bot("feeds", "remove", web.url("/feeds/wire.atom"), env=env)
    assert removed.returncode == 0 and "no longer polled" in removed.stdout
    assert run_bot("feeds", "list", env=env).stdout.startswith("No feeds yet")


def test_export_round_trip_and_remove(web, env, tmp_path):
    run_bot("ingest", web.url(WIRE), web.url(COPY), web.url("/journal/2025/09/levee-fonds-fr.html"), env=env)
    note = tmp_path / "note.txt"
    note.write_text("Mistral note\n\n" + "Mistral AI published a short note about its plans. " * 5, "utf-8")
    run_bot("ingest", str(note), env=env)
    records = [json.loads(line) for line in run_bot("export", env=env).stdout.splitlines()]
    assert len(records) == 4
    for record in records:
        assert set(record) >= {
            "id",
            "url",
            "outlet",
            "title",
            "date",
            "language",
            "text",
            "story",
            "added_at",
        }
        assert parse_article(record["text"], "x").id == record["id"]  # the text is the article, whole
    by_url = {r["url"]: r for r in records}
    wire, copy = by_url[web.url(WIRE)], by_url[web.url(COPY)]
    assert copy["story"] == wire["id"] == wire["story"]
    assert by_url[web.url("/journal/2025/09/levee-fonds-fr.html")]["language"] == "fr"
    assert by_url[None]["title"] == "Mistral note" and by_url[None]["outlet"] is None
    store = open_sqlite(env["DATABASE_URL"].removeprefix("sqlite:///"))
    stored = {a.id: a for a in store.articles.active_articles()}
    store.close()
    assert {r["id"]: (r["title"], r["url"]) for r in records} == {
        i: (a.title, a.url) for i, a in stored.items()
    }

    removed = run_bot("remove", web.url(WIRE), copy["id"], "nope", env=env)
    assert "removed “Mistral AI raises 1.7 billion euros" in removed.stdout and removed.returncode == 1
    left = [json.loads(line)["url"] for line in run_bot("export", env=env).stdout.splitlines()]
    assert web.url(WIRE) not in left and web.url(COPY) not in left and len(left) == 2
    again = run_bot("ingest", web.url(WIRE), env=env)
    assert "was removed by an operator" in again.stdout


def test_search_json_cites_web_articles_with_url_and_outlet(web, env):
    run_bot("ingest", web.url("/ledger/2025/02/le-chat-downloads.html"), env=env)
    result = run_bot("search", "Le Chat downloads", "--json", env=env)
    hit = json.loads(result.stdout)["hits"][0]
    assert (
        hit["url"] == web.url("/ledger/2025/02/le-chat-downloads.html") and hit["outlet"] == "The Tech Ledger"
    )
    text = run_bot("search", "Le Chat downloads", env=env).stdout
    assert f"The Tech Ledger: {web.url('/ledger/2025/02/le-chat-downloads.html')}" in text


def test_search_says_undated_for_the_library_and_first_seen_for_news(env):
    """A seed without a date line stays undated once a server has started on it (the start is not its
    publication); an undated article arriving later is news, dated the day it was first seen."""
    folder = env["ARTICLES_DIR"]
    note = "Mistral note\n\n" + "Mistral AI published a short note about its Mensch plans. " * 5
    with open(f"{folder}/note.txt", "w", encoding="utf-8") as file:
        file.write(note)
    assert "(undated)" in run_bot("search", "Mensch plans", env=env).stdout
    store = open_sqlite(env["DATABASE_URL"].removeprefix("sqlite:///"))
    index = SearchIndex()
    start_ingest(store, index, Ingestor(store, index, folder))
    assert "Mistral note (undated)" in run_bot("search", "Mensch plans", env=env).stdout
    later = "Mistral memo\n\n" + "Mistral AI sent a memo about its Lample hires. " * 5
    with open(f"{folder}/memo.txt", "w", encoding="utf-8") as file:
        file.write(later)
    start_ingest(store, index, Ingestor(store, index, folder))
    store.close()
    assert "Mistral memo (first seen 20" in run_bot("search", "Lample hires", env=env).stdout
    assert "Mistral note (undated)" in run_bot("search", "Mensch plans", env=env).stdout
