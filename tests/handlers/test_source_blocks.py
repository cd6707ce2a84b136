"""Citations of web articles: the title links to the URL, with outlet and date; nothing can forge a link."""

import datetime as dt
import json

import pytest

from handlers.blocks.common import answer_message, link, news_message, render_announcement
from handlers.sources import source_reply
from search import Citation, Hit, Passage, Snippet
from tests.handlers.block_checks import assert_no_broadcast, assert_valid_message

WEB = Citation(
    article_id="a1",
    title="Mistral raises <big> & more",
    date=dt.date(2025, 9, 9),
    source="https://wire.example/a",
    url="https://wire.example/a?x=1&y=2",
    outlet="EuroWire",
    date_source="page",
)


def hit(citation: Citation) -> Hit:
    passage = Passage(article_id=citation.article_id, position=0, text="Mistral AI raised money.")
    return Hit(score=1.0, passage=passage, snippet=Snippet(text=passage.text), citation=citation)


def test_an_answer_cites_the_title_as_a_link_with_outlet_and_date():
    message = answer_message("raise", [hit(WEB)])
    assert_valid_message(message)
    cite = message["blocks"][2]["elements"][0]["text"]
    assert (
        cite
        == "[1] <https://wire.example/a?x=1&amp;y=2|Mistral raises &lt;big&gt; &amp; more> · EuroWire · 2025-09-09"
    )


@pytest.mark.parametrize(
    ("url", "title", "expected"),
    [
        ("https://x.example/a|<!channel>", "t", "<https://x.example/a%7C&lt;!channel&gt;|t>"),
        ("javascript:alert(1)", "<!here> t", "&lt;!here&gt; t"),
        ("https://x.example/a b", "t", "t"),
        ("https://x.example/a", "<@U123> click|me>", "<https://x.example/a|&lt;@U123&gt; click|me&gt;>"),
    ],
)
def test_links_and_titles_from_pages_cannot_forge_links_or_ping(url, title, expected):
    assert link(url, title) == expected


def test_an_announcement_links_the_article_and_names_the_other_outlets():
    message = render_announcement(WEB, "A summary.", [], ["The Daily Byte", "<!channel>"])
    assert_valid_message(message)
    assert_no_broadcast(message)
    text = json.dumps(message["blocks"], ensure_ascii=False)
    assert (
        "<https://wire.example/a?x=1&amp;y=2|Mistral raises &lt;big&gt; &amp; more> · EuroWire · 2025-09-09"
        in text
    )
    assert "Also reported by The Daily Byte, &lt;!channel&gt;" in text


def test_a_first_seen_date_is_marked_as_such():
    seed = Citation(
        article_id="s", title="Seed", date=dt.date(2026, 1, 5), source="a.txt", date_source="first_seen"
    )
    message = render_announcement(seed, "Sum.", [])
    assert "first seen 2026-01-05 · English · source: a.txt" in json.dumps(
        message["blocks"], ensure_ascii=False
    )


def test_source_answers_are_plain_and_valid():
    message = news_message("Added “<b>” (EuroWire, 2025-09-09).")
    assert_valid_message(message)
    assert "&lt;b&gt;" in message["text"]


@pytest.mark.parametrize(
    "text",
    ["Mistral valuation", "add funding news", "feeds of mistral?", "added https://x.example"],
)
def test_searches_are_not_taken_for_source_commands(text):
    assert source_reply(None, text, "/mistral") is None  # never reaches the sources


@pytest.mark.parametrize(
    "text", ["feed add", "feed remove not-a-url", "add https://a.example/x https://b.example/y"]
)
def test_a_malformed_source_command_says_how(text):
    reply = source_reply(None, text, "/mistral")
    assert reply is not None and "/mistral" in reply["text"]
