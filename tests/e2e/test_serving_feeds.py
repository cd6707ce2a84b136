"""End to end through the served app with the local web: feeds polled, each story announced once with a
link, syndicated copies named on the first announcement, 304s, backoff, restarts, links from Slack
and the CLI, takedowns, and the address guard."""

from __future__ import annotations

import json
import logging

import pytest

from bot.stores.store import open_sqlite
from tests.cli.test_cli import run_bot
from tests.fakes import FakeWeb
from tests.fakes.signing import slash_command_body
from tests.handlers.block_checks import assert_no_broadcast, assert_valid_message
from tests.polling import wait_until
from tests.served import RunningApp, http, served_app

CHANNEL = "C0NEWS0009"
FEEDS = ("/feeds/wire.atom", "/feeds/daily.json", "/feeds/ledger.rss", "/feeds/journal.rdf")
WIRE_TITLE = "Mistral AI raises 1.7 billion euros in round led by ASML"
COPY_TITLE = "Chip giant ASML bets big on French AI champion Mistral"
ARTICLES = 12  # in these feeds
STORIES = 9  # four of them tell the ASML round: the wire, a syndicated copy, the French story, an analysis
NEW_PAGE = "/latin/2025/05/latin1-fr.html"  # in no feed of FEEDS


@pytest.fixture
def web():
    with FakeWeb() as server:
        yield server


@pytest.fixture
def database(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


def serve(fake_slack, articles_dir, database, web, feeds=FEEDS, **options):
    return served_app(
        fake_slack,
        articles_dir,
        database,
        notify_channel=CHANNEL,
        feeds=" ".join(web.url(path) for path in feeds),
        feed_poll_seconds=options.pop("feed_poll_seconds", 1.0),
        fetch_allow_hosts=web.base.removeprefix("http://"),
        **options,
    )


def ask(app: RunningApp, text: str) -> dict:
    """Run the slash command; its own private answer (answers may arrive out of order)."""
    count = len(app.slack.calls_to("response_url"))
    status, _ = app.post(slash_command_body(text, app.slack.response_url(f"r{count}")))
    assert status == 200
    return app.slack.wait_for("response_url", count + 1, timeout=60)[count]


def announcements(slack) -> list[dict]:
    return [c for c in slack.calls_to("chat.postMessage") if c.get("channel") == CHANNEL]


def titles(slack) -> list[str]:
    return [c["blocks"][0]["text"]["text"] for c in announcements(slack)]


def stored_count(database: str) -> int:
    store = open_sqlite(database.removeprefix("sqlite:///"))
    try:
        return len([a for a in store.articles.active_articles() if a.origin != "folder"])
    finally:
        store.close()


def text_of(message: dict) -> str:
    return json.dumps(message["blocks"], ensure_ascii=False)


def test_each_story_is_announced_once_with_its_link_and_the_copy_is_named(
    fake_slack, articles_dir, database, web
):
    with serve(fake_slack, articles_dir, database, web) as app:
        wait_until(lambda: len(announcements(fake_slack)) >= STORIES, timeout=60)
        wait_until(lambda: stored_count(database) == ARTICLES, timeout=60)
        funding = [
            c for c in announcements(fake_slack) if c["blocks"][0]["text"]["text"] in (WIRE_TITLE, COPY_TITLE)
        ]
        assert len(funding) == 1  # the story once, whichever outlet's feed came first
        first = funding[0]
        other = "The Daily Byte" if first["blocks"][0]["text"]["text"] == WIRE_TITLE else "EuroWire"
        edits = [c for c in fake_slack.calls_to("chat.update") if c.get("channel") == CHANNEL]

        def names_the_others(message) -> bool:
            text = text_of(message)
            also = text.partition("Also reported by ")[2]
            return other in also and "Le Journal" in also and ", in French" in also

        if not any(names_the_others(m) for m in [first, *edits]):
            wait_until(lambda: any(names_the_others(c) for c in fake_slack.calls_to("chat.update")))
        for message in announcements(fake_slack):
            assert_valid_message(message)
            assert_no_broadcast(message)
            assert (
                f"<{web.base}/" in message["blocks"][1]["elements"][0]["text"]
            )  # the title links to the page
        assert len(set(titles(fake_slack))) == len(titles(fake_slack)) == STORIES

        # The second poll gets 304 for every feed and fetches no page.
        pages = len(web.page_requests())
        counts = {path: len(web.requested(path)) for path in FEEDS}
        wait_until(lambda: all(len(web.requested(p)) >= counts[p] + 2 for p in FEEDS), timeout=60)
        assert all(web.requested(p)[-1]["headers"].get("If-None-Match") for p in FEEDS)
        assert len(web.page_requests()) == pages

        # A new item is announced once, with its outlet and the date of its page.
        feed = web.content("/feeds/wire.atom")[0].decode()
        entry = (
            f'<entry><title>Singapour</title><link href="{web.base}{NEW_PAGE}?utm_source=rss"/>'
            "<id>tag:new</id><updated>2025-05-06T08:00:00Z</updated></entry>"
        )
        web.put("/feeds/wire.atom", feed.replace("</feed>", entry + "</feed>"), "application/atom+xml")
        wait_until(lambda: len(announcements(fake_slack)) == STORIES + 1, timeout=60)
        new = announcements(fake_slack)[-1]
        assert new["blocks"][0]["text"]["text"] == "Mistral AI ouvre un bureau à Singapour pour l'Asie"
        assert "2025-05-06 · French" in text_of(new)
        assert len(web.requested(NEW_PAGE)) == 1

        # Answers cite the article: its title linked to its URL, its outlet and date.
        answer = ask(app, "lithographie ASML")
        assert (
            f"|{'Avec ASML, Mistral AI devient la start-up la plus chère de France'}> · Le Journal du Numérique · 2025-09-09"
            in text_of(answer)
        )
        health = json.loads(http("GET", f"{app.base_url}/healthz")[1])
        assert health["parts"]["feeds"] == {"status": "ok", "feeds": 4, "failing": []}

    # A restart (and the same feeds given twice) announces nothing again.
    posted = len(announcements(fake_slack))
    with serve(fake_slack, articles_dir, database, web, feeds=(*FEEDS, "/feeds/wire.atom?utm_source=x")):
        counts = {path: len(web.requested(path)) for path in FEEDS}
        wait_until(lambda: all(len(web.requested(p)) >= counts[p] + 2 for p in FEEDS), timeout=60)
    assert len(announcements(fake_slack)) == posted


def test_a_failing_feed_backs_off_is_reported_once_then_recovers(
    fake_slack, articles_dir, database, web, caplog
):
    web.fail("/feeds/ledger.rss", 503, times=4)
    with (
        caplog.at_level(logging.WARNING),
        serve(
            fake_slack, articles_dir, database, web, feeds=("/feeds/ledger.rss",), feed_poll_seconds=0.1
        ) as app,
    ):

        def failing() -> bool:
            health = json.loads(http("GET", f"{app.base_url}/healthz")[1])
            return bool(health["parts"]["feeds"]["failing"])

        wait_until(failing, timeout=60)
        status, body = http("GET", f"{app.base_url}/healthz")
        assert status == 200 and "HTTP 503" in body
        wait_until(lambda: len(announcements(fake_slack)) == 3, timeout=60)
        assert not failing()
    assert len(web.requested("/feeds/ledger.rss")) >= 5
    assert len([r for r in caplog.records if "keeps failing" in r.getMessage()]) == 1


def test_add_a_link_from_slack_and_from_the_cli_then_take_it_down(fake_slack, articles_dir, database, web):
    with serve(fake_slack, articles_dir, database, web, feeds=()) as app:
        reply = ask(app, f"add <{web.url('/ledger/2025/03/small-model-release.html')}>")
        assert reply["response_type"] == "ephemeral"
        assert (
            "Added “Mistral AI releases a compact open-weight model aimed at laptops” (The Tech Ledger, 2025-03-04)."
            in reply["text"]
        )
        wait_until(lambda: len(announcements(fake_slack)) == 1, timeout=60)
        again = ask(app, f"add {web.url('/ledger/2025/03/small-model-release.html')}?utm_source=slack")
        assert "Already known as “Mistral AI releases a compact" in again["text"]
        for path, reason in [
            ("/quirks/huge.html", "too big"),
            ("/quirks/binary.html", "binary content"),
            ("/quirks/loop-a.html", "more than 5 redirects"),
            ("/feeds/wire.atom", "not a web page"),
        ]:
            assert reason in ask(app, f"add {web.url(path)}")["text"]

        env = {"DATABASE_URL": database, "ARTICLES_DIR": str(articles_dir)}
        result = run_bot("ingest", web.url("/wire/2025/02/stellantis-partnership.html"), env=env)
        assert (
            "Added “Stellantis to put Mistral assistant in cars and factories” (EuroWire, 2025-02-27)."
            in result.stdout
        )
        wait_until(lambda: len(announcements(fake_slack)) == 2, timeout=60)

        def found() -> bool:
            # The announcement is posted from the store; the index follows the change log a moment later.
            answer = ask(app, "Stellantis engineers factory")
            return "Stellantis to put Mistral assistant in cars and factories>" in text_of(answer)

        wait_until(found, timeout=60)

        assert (
            run_bot("remove", web.url("/wire/2025/02/stellantis-partnership.html"), env=env).returncode == 0
        )

        def gone() -> bool:
            return "Stellantis to put" not in text_of(ask(app, "Stellantis engineers factory"))

        wait_until(gone, timeout=60)
        assert len(announcements(fake_slack)) == 2


def test_feeds_from_slack(fake_slack, articles_dir, database, web):
    with serve(fake_slack, articles_dir, database, web, feeds=("/feeds/journal.rdf",)) as app:
        listed = ask(app, "feeds")
        assert "1 feeds:" in listed["text"] and web.url("/feeds/journal.rdf") in listed["text"]
        added = ask(app, f"feed add {web.url('/feeds/daily.json')}")
        assert "Added the feed" in added["text"] and "The Daily Byte" in added["text"]
        refused = ask(app, f"feed add {web.url('/ledger/2025/02/le-chat-downloads.html')}")
        assert "is not a feed" in refused["text"] or "cannot be read as a feed" in refused["text"]
        # The feed added is polled (its stories may all be told already by the journal's).
        wait_until(lambda: len(web.requested("/feeds/daily.json")) >= 2, timeout=30)
        web.put(
            "/ledger/",
            '<html><head><link rel="alternate" type="application/rss+xml" href="/feeds/ledger.rss"></head><body>Home</body></html>',
        )
        found = ask(app, f"feed add {web.url('/ledger/')}")
        assert (
            f"Added the feed {web.url('/feeds/ledger.rss')}" in found["text"]
        )  # the feed the page announces
        removed = ask(app, f"feed remove {web.url('/feeds/daily.json')}")
        assert "no longer polled" in removed["text"]
        assert web.url("/feeds/daily.json") not in ask(app, "feeds")["text"]
        setting = ask(app, f"feed remove {web.url('/feeds/journal.rdf')}")
        assert "It is in the FEEDS setting: remove it there too" in setting["text"]


@pytest.mark.parametrize(
    "text",
    [
        "add http://localhost:{port}/ledger/2025/02/le-chat-downloads.html",
        "add http://[::1]:{port}/ledger/2025/02/le-chat-downloads.html",
        "add {base}/quirks/to-localhost.html",
        "add http://169.254.169.254/latest/meta-data/",
        "add http://10.0.0.7/news.html",
        "feed add http://localhost:{port}/feeds/wire.atom",
        "feed add http://192.168.1.1/feed.xml",
    ],
)
def test_links_and_feeds_from_slack_cannot_reach_the_host_s_network(
    fake_slack, articles_dir, database, web, text
):
    port = web.base.rsplit(":", 1)[1]
    with serve(fake_slack, articles_dir, database, web, feeds=()) as app:
        before = len(web.requests)
        reply = ask(app, text.format(port=port, base=web.base))
        assert reply["text"].startswith(":warning: Not added") and "address" in reply["text"]
        assert len(web.requests) - before <= ("to-localhost" in text)  # only the allowed first hop
