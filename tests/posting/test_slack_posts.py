import datetime as dt
import json

from handlers.blocks.common import MORE_ACTION, announcement_block_id, read_button_value, render_announcement
from search import Citation
from tests.handlers.block_checks import assert_no_broadcast, assert_valid_message

ARTICLE = Citation(
    article_id="abc123",
    title="Mistral AI raises €600M",
    date=dt.date(2024, 6, 11),
    source="a.txt",
    language="en",
)
RELATED = [
    Citation(article_id=f"r{n}", title=f"Older news {n}", date=dt.date(2024, 2, n + 1), source=f"{n}.txt")
    for n in range(5)
]


def texts(message: dict) -> str:
    return json.dumps(message, ensure_ascii=False)


def test_shows_title_date_language_summary_related_and_a_search_button():
    message = render_announcement(ARTICLE, "Mistral AI raised 600 million euros on Tuesday.", RELATED)
    assert_valid_message(message)
    header, meta, summary, related, actions = message["blocks"]
    assert header["text"]["text"] == "Mistral AI raises €600M"
    assert header["block_id"] == announcement_block_id("abc123")
    assert meta["elements"][0]["text"] == "2024-06-11 · English · source: a.txt"
    assert summary["text"]["text"] == "Mistral AI raised 600 million euros on Tuesday."
    assert related["text"]["text"].splitlines() == [
        "*Related articles*",
        "• Older news 0 (2024-02-01)",
        "• Older news 1 (2024-02-02)",
        "• Older news 2 (2024-02-03)",
    ]
    [more] = actions["elements"]
    assert more["action_id"] == MORE_ACTION
    assert read_button_value(more["value"]) == ("Mistral AI raises €600M", 0)
    assert "Mistral AI raises €600M" in message["text"]


def test_without_related_articles_or_date_it_says_so_plainly():
    article = ARTICLE.model_copy(update={"date": None, "language": "fr"})
    message = render_announcement(article, "Mistral AI lève 600 millions d'euros.", [])
    assert_valid_message(message)
    assert [b["type"] for b in message["blocks"]] == ["header", "context", "section", "actions"]
    assert message["blocks"][1]["elements"][0]["text"] == "undated · French · source: a.txt"


def test_slack_markup_in_an_article_pings_nobody():
    hostile = "<!channel> <!here> <@U123> <http://evil.example|click> & co"
    article = ARTICLE.model_copy(update={"title": hostile})
    related = [RELATED[0].model_copy(update={"title": hostile})]
    message = render_announcement(article, f"Summary {hostile}", related)
    assert_valid_message(message)
    assert_no_broadcast(message)
    assert "<@U123>" not in texts(message) and "<http" not in texts(message)
    assert "&lt;!channel&gt; &lt;!here&gt; &lt;@U123&gt; &lt;http://evil.example|click&gt; &amp; co" in texts(
        message
    )


def test_long_texts_are_cut_to_slack_limits():
    article = ARTICLE.model_copy(update={"title": "Mistral " * 100})
    message = render_announcement(article, "word & " * 1000, [article] * 3)
    assert_valid_message(message)
    assert message["blocks"][0]["text"]["text"].endswith("…")
    assert len(message["blocks"][2]["text"]["text"]) <= 3000
