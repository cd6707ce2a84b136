"""Block Kit builders: structure, Slack's limits, escaping; every message is valid Block Kit."""

import datetime as dt
import json

import pytest

from handlers.blocks.common import (
    ELLIPSIS,
    MAX_BUTTON_VALUE_CHARS,
    MAX_FALLBACK_CHARS,
    MAX_HEADER_CHARS,
    MORE_ACTION,
    PAGE_SIZE,
    SHARE_ACTION,
    answer_message,
    apology_message,
    button_value,
    cut,
    escape_mrkdwn,
    mention,
    message,
    no_more_results_message,
    no_results_message,
    problem_message,
    read_button_value,
    section,
    share_failed_message,
    usage_message,
)
from search import Citation, Hit, Passage, Snippet
from tests.handlers.block_checks import assert_no_broadcast, assert_valid_message


def make_hit(
    text: str = "Mistral AI is valued at two billion euros.",
    highlights: tuple = ((14, 20),),
    *,
    title: str = "Mistral raises funds",
    date: dt.date | None = dt.date(2024, 2, 27),
    source: str = "000_a.txt",
) -> Hit:
    return Hit(
        score=1.0,
        passage=Passage(article_id="a1", position=0, text=text),
        snippet=Snippet(text=text, highlights=highlights),
        citation=Citation(article_id="a1", title=title, date=date, source=source),
    )


def buttons_of(msg: dict) -> dict[str, dict]:
    """The answer's own buttons (the feedback block aside)."""
    actions = [b for b in msg["blocks"] if b["type"] == "actions" and b.get("block_id") != "feedback"]
    return {e["action_id"]: e for block in actions for e in block["elements"]}


def test_escape_mrkdwn_neutralises_control_sequences():
    assert escape_mrkdwn("<!channel> & <@U1> <https://x.y|z>") == (
        "&lt;!channel&gt; &amp; &lt;@U1&gt; &lt;https://x.y|z&gt;"
    )


def test_answer_has_query_numbered_snippets_with_bold_words_and_citations():
    hits = [make_hit(source=f"00{n}.txt") for n in range(PAGE_SIZE)]
    msg = answer_message("valued", hits, has_more=True)
    assert_valid_message(msg)
    types = [b["type"] for b in msg["blocks"]]
    assert types == ["header"] + ["section", "context"] * PAGE_SIZE + ["actions", "actions"]
    feedback = msg["blocks"][-1]
    assert feedback["block_id"] == "feedback"
    assert [e["action_id"] for e in feedback["elements"]] == [
        "feedback:up",
        "feedback:wrong_article",
        "feedback:wrong_language",
        "feedback:outdated",
    ]
    assert {e["value"] for e in feedback["elements"]} == {button_value("valued", 0)}
    assert "valued" in msg["blocks"][0]["text"]["text"]
    first_section, first_context = msg["blocks"][1]["text"]["text"], msg["blocks"][2]["elements"][0]["text"]
    assert first_section == "*1.* Mistral AI is *valued* at two billion euros."
    assert first_context == "[1] Mistral raises funds · 2024-02-27 · 000.txt"
    assert "Results 1–3" in msg["text"] and "000.txt" in msg["text"]
    assert set(buttons_of(msg)) == {SHARE_ACTION, MORE_ACTION}


def test_buttons_carry_the_query_and_the_page():
    msg = answer_message("valued", [make_hit()], offset=3, has_more=True)
    buttons = buttons_of(msg)
    assert read_button_value(buttons[SHARE_ACTION]["value"]) == ("valued", 3)
    assert read_button_value(buttons[MORE_ACTION]["value"]) == ("valued", 3 + PAGE_SIZE)
    assert msg["blocks"][1]["text"]["text"].startswith("*4.*")


def test_last_page_has_no_more_button_and_public_answer_no_share_button():
    assert set(buttons_of(answer_message("q", [make_hit()], has_more=False))) == {SHARE_ACTION}
    public = answer_message("q", [make_hit()], shareable=False, shared_by="U0PERSON01")
    assert_valid_message(public)
    assert buttons_of(public) == {}
    assert public["blocks"][1] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "Shared by <@U0PERSON01>"}],
    }


def test_shared_by_something_else_than_a_user_id_is_escaped():
    assert mention("<!channel>") == "&lt;!channel&gt;"


def test_user_and_article_text_is_escaped_everywhere():
    evil = "<!channel> <@U123> <https://evil.example|click> &"
    hit = make_hit(f"Le Chat {evil}", ((0, 2),), title=evil, source=f"{evil}.txt")
    msg = answer_message(f"Le {evil}", [hit], has_more=True)
    assert_valid_message(msg)
    assert_no_broadcast(msg)
    dumped = json.dumps(msg["blocks"][:-1]) + msg["text"]
    assert "<@U123>" not in dumped and "<https://" not in dumped
    assert "&lt;!channel&gt;" in msg["blocks"][0]["text"]["text"]
    assert "&amp;" in msg["blocks"][1]["text"]["text"]


@pytest.mark.parametrize("limit", [10, 20, 151, 3000])
def test_cut_keeps_within_the_limit_with_an_ellipsis(limit):
    text = "word " * 2000
    assert len(cut(text, limit)) <= limit
    assert cut(text, limit).endswith(ELLIPSIS)


def test_cut_never_splits_an_entity_or_leaves_an_open_bold():
    escaped = escape_mrkdwn("a" * 8 + "&&&&&&&&")
    for limit in range(9, len(escaped)):
        kept = cut(escaped, limit, bold_marks=False).removesuffix(ELLIPSIS)
        assert kept.count("&") == kept.count(";"), kept
    bold = "intro *strongly bolded words here* and more " * 3
    for limit in range(5, len(bold)):
        assert cut(bold, limit).count("*") % 2 == 0


def test_short_text_is_left_alone():
    assert cut("short *bold*", 100) == "short *bold*"


def test_huge_snippets_and_queries_stay_within_limits():
    long_text = ("Mistral *valuation* & <b> " * 400).strip()
    hit = make_hit(long_text, ((0, 7), (200, 210)), title="T" * 500, source="s" * 500)
    msg = answer_message("q" * 500, [hit] * PAGE_SIZE, has_more=True)
    assert_valid_message(msg)
    assert len(msg["blocks"][0]["text"]["text"]) <= MAX_HEADER_CHARS
    assert len(msg["text"]) <= MAX_FALLBACK_CHARS
    assert msg["blocks"][1]["text"]["text"].endswith(ELLIPSIS)


def test_button_value_fits_even_for_a_query_full_of_quotes():
    value = button_value('"\\' * 250, 0)
    assert len(value) <= MAX_BUTTON_VALUE_CHARS
    assert read_button_value(value) == ('"\\' * 250, 0)
    assert len(button_value("é" * 3000, 0)) <= MAX_BUTTON_VALUE_CHARS
    assert len(button_value("&" * 500, 0)) <= MAX_BUTTON_VALUE_CHARS


def test_button_value_holds_no_markup_but_gives_back_the_query():
    query = "Le <!channel> <@U123> & co"
    value = button_value(query, 3)
    assert "<" not in value
    assert read_button_value(value) == (query, 3)


@pytest.mark.parametrize(
    "value", ["", "nope", '{"q": 1, "o": 0}', '{"q": "x", "o": -3}', '{"q": "x", "o": 9999}', "[]"]
)
def test_foreign_button_values_are_refused(value):
    with pytest.raises(ValueError):
        read_button_value(value)


def test_too_many_blocks_are_cut_to_fifty():
    msg = message("fallback", [section(str(n)) for n in range(80)])
    assert len(msg["blocks"]) == 50
    assert_valid_message(msg)


def test_usage_explains_with_examples():
    msg = usage_message("/news")
    assert_valid_message(msg)
    body = msg["blocks"][0]["text"]["text"]
    assert "`/news valuation`" in body and "mention me" in body and "direct message" in body


@pytest.mark.parametrize(
    "msg",
    [
        no_results_message("zzz <!here>"),
        no_more_results_message("zzz <!everyone>"),
        problem_message("The query is 4,000 characters long; <!channel>"),
        apology_message(),
        share_failed_message(),
    ],
)
def test_other_replies_are_valid_and_escaped(msg):
    assert_valid_message(msg)
    assert_no_broadcast(msg)


def test_no_results_suggests_what_to_try():
    text = no_results_message("zzz")["blocks"][0]["text"]["text"]
    assert "Nothing found for “zzz”" in text and "Try other words" in text
