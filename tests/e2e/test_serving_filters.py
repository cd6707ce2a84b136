"""End to end through the served app: filters in the command and in mentions, `latest`, bad filters."""

from __future__ import annotations

import json

import pytest

from tests.e2e.test_serving_watches import ask
from tests.fakes.signing import mention_event
from tests.fakes.slack_api import BOT_USER_ID
from tests.handlers.block_checks import assert_no_broadcast, assert_valid_message
from tests.polling import wait_until
from tests.served import served_app

FRENCH_SEED = "Soutenu par Microsoft, le français Mistral lance une IA conversationnelle"


@pytest.fixture
def served(fake_slack, articles_dir, tmp_path):
    with served_app(fake_slack, articles_dir, f"sqlite:///{tmp_path / 'store.db'}") as app:
        yield app


def cited_titles(answer: dict) -> set[str]:
    text = json.dumps(answer["blocks"], ensure_ascii=False)
    return {title for title in (FRENCH_SEED, "Microsoft Teams Up with Mistral AI") if title in text}


def test_a_language_filter_keeps_only_that_language(served):
    everything = ask(served, "Microsoft")
    assert cited_titles(everything) == {FRENCH_SEED, "Microsoft Teams Up with Mistral AI"}
    french = ask(served, "Microsoft lang:fr")
    assert_valid_message(french)
    citations = [b for b in french["blocks"] if b["type"] == "context"]
    assert citations and all(FRENCH_SEED in json.dumps(c, ensure_ascii=False) for c in citations)


def test_an_exact_phrase_and_dates(served):
    answer = ask(served, '"le chat" Microsoft')
    snippets = [b["text"]["text"] for b in answer["blocks"] if b["type"] == "section"]
    assert snippets and all("le chat" in s.lower().replace("*", "") for s in snippets)
    too_early = ask(served, "Microsoft before:2020-01-01")
    assert_valid_message(too_early)
    assert not [b for b in too_early["blocks"] if b["type"] == "context" and "Mistral" in json.dumps(b)]


def test_bad_filters_get_a_clear_private_answer(served):
    for text, said in (
        ("Microsoft lang:klingon", "use `lang:en` or `lang:fr`"),
        ("Microsoft after:last-week", "is not a date"),
        ("Microsoft after:2024-05-01 before:2024-01-01", "nothing can match"),
    ):
        answer = ask(served, text)
        assert said in answer["text"] and answer["response_type"] == "ephemeral"
        assert "Filters:" in answer["text"]


def test_latest_lists_the_newest_articles_first(served):
    answer = ask(served, "latest")
    assert_valid_message(answer)
    assert_no_broadcast(answer)
    assert answer["text"].startswith("Latest news")
    dates = [line.rstrip(")").rpartition("(")[2] for line in answer["text"].splitlines()[1:]]
    dated = [d for d in dates if d != "undated"]
    assert len(dates) == 5 and dates == dated + ["undated"] * (5 - len(dated))
    assert dated == sorted(dated, reverse=True) and len(dated) == 2
    french = ask(served, "latest lang:fr")
    assert FRENCH_SEED in french["text"] and "Microsoft Teams Up" not in french["text"]
    assert "Latest on" in ask(served, "latest Microsoft")["text"]


def test_a_filter_alone_lists_the_newest_it_accepts(served):
    answer = ask(served, "lang:fr")
    assert FRENCH_SEED in answer["text"]


def test_a_mention_applies_filters(served):
    served.event(mention_event(f"<@{BOT_USER_ID}> Microsoft lang:fr"))
    [reply] = served.slack.wait_for("chat.postMessage")
    citations = [b for b in reply["blocks"] if b["type"] == "context"]
    assert citations and all(FRENCH_SEED in json.dumps(c, ensure_ascii=False) for c in citations)


def test_latest_of_one_day_puts_the_last_arrival_first(served, articles_dir):
    """Six articles of the same day dropped one after another: `latest` lists the last one first (their
    titles' alphabetical order is the opposite)."""
    titles = [f"{letter} Mistral AI opens an office in city {letter}" for letter in "UVWXYZ"]
    for number, title in enumerate(titles):
        body = f"Mistral AI said on Tuesday it opened an office in city {title[0]}, its {number + 2}th site."
        (articles_dir / f"office-{number}.txt").write_text(f"date 2030-05-06\n{title}\n\n{body}\n", "utf-8")
        wait_until(lambda count=number + 6: served.app.index.article_count == count, timeout=30)
    lines = ask(served, "latest")["text"].splitlines()[1:7]
    assert [line.split(". ", 1)[1].removesuffix(" (2030-05-06)") for line in lines] == titles[::-1]
