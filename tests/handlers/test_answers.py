"""The answer flow behind the command, mentions and buttons: paging, nothing found, bad queries."""

import pytest

from handlers.answering import find_answer, is_help, reply_to_command, reply_to_question
from handlers.blocks.common import MORE_ACTION, PAGE_SIZE, SHARE_ACTION, read_button_value
from handlers.listeners.events import RecentEventIds, question_of
from handlers.questions import is_direct_message_from_a_person
from search.judgement.subject import SubjectJudge
from tests.handlers.block_checks import assert_valid_message


def buttons(message: dict) -> dict[str, dict]:
    return {e["action_id"]: e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]}


def ranks(message: dict) -> list[str]:
    return [b["text"]["text"].split(" ", 1)[0] for b in message["blocks"] if b["type"] == "section"]


def test_pages_follow_each_other_until_there_are_no_more(index):
    offset, seen = 0, []
    while True:
        page = find_answer(index, "Microsoft", offset=offset)
        assert_valid_message(page)
        if "no more results" in page["text"]:
            break
        seen += ranks(page)
        more = buttons(page).get(MORE_ACTION)
        if more is None:
            break
        offset = read_button_value(more["value"])[1]
    assert seen == [f"*{n}.*" for n in range(1, len(seen) + 1)]
    assert len(seen) > PAGE_SIZE


def test_last_page_offers_no_more_button(index):
    hits = index.search("Microsoft", limit=50)
    last_offset = (len(hits) - 1) // PAGE_SIZE * PAGE_SIZE
    page = find_answer(index, "Microsoft", offset=last_offset)
    assert MORE_ACTION not in buttons(page) and SHARE_ACTION in buttons(page)


def test_past_the_last_page_says_there_are_no_more(index):
    assert "no more results" in find_answer(index, "valuation", offset=30)["text"]


def test_nothing_found(index):
    assert "Nothing found" in find_answer(index, "zzyzx")["text"]


def test_slack_markup_in_a_question_is_not_searched_as_words(index):
    """Mentions and links are no words of the question: they must not make it look unanswerable."""
    question = "<!channel> <@U0123ABCD> valuation <https://zqx.io/r/7|zqx>"
    assert index.search(question, 5) == []  # as words, `channel`, `example`... are unknown: nothing found
    answer = find_answer(index, question)
    assert SHARE_ACTION in buttons(answer)
    assert "valuation" in answer["blocks"][1]["text"]["text"].lower()
    assert "&lt;!channel&gt;" in answer["text"] + str(answer["blocks"])


@pytest.mark.parametrize("text", ["<!here>", "<@U0123ABCD> <https://example.com>"])
def test_a_question_of_markup_only_finds_nothing(index, text):
    assert "Nothing found" in find_answer(index, text)["text"]


@pytest.mark.parametrize(("text", "problem"), [("   ", "empty"), ("x" * 4000, "4,000 characters")])
def test_query_problems_are_shown(index, text, problem):
    message = find_answer(index, text)
    assert_valid_message(message)
    assert problem in message["text"]


def test_help_words_and_empty_text_give_usage(index):
    assert is_help("") and is_help(" Help ") and not is_help("helpful models")
    assert "/news valuation" in reply_to_command(index, "help", "/news")["text"]
    assert "Ask me about" in reply_to_question(index, "", "/news")["text"]


def test_mention_answers_cannot_be_shared_again(index):
    assert SHARE_ACTION not in buttons(reply_to_question(index, "Microsoft", "/mistral"))


@pytest.mark.parametrize(
    ("text", "bot", "question"),
    [
        ("<@U0BOT> valuation?", "U0BOT", "valuation?"),
        ("valuation <@U0BOT|mistral-news> please", "U0BOT", "valuation please"),
        ("<@U0BOT> ask <@U0OTHER>", "U0BOT", "ask <@U0OTHER>"),
        ("<@U0BOT>", "U0BOT", ""),
        ("<@U0BOT> valuation", None, "valuation"),
    ],
)
def test_the_bots_mention_is_taken_out_of_the_question(text, bot, question):
    assert question_of(text, bot) == question


def test_only_peoples_direct_messages_are_answered():
    message = {"type": "message", "channel_type": "im", "user": "U0PERSON", "text": "hi"}
    assert is_direct_message_from_a_person(message, "U0BOT")
    assert not is_direct_message_from_a_person({**message, "channel_type": "channel"}, "U0BOT")
    assert not is_direct_message_from_a_person({**message, "subtype": "message_changed"}, "U0BOT")
    assert not is_direct_message_from_a_person({**message, "bot_id": "B1"}, "U0BOT")
    assert not is_direct_message_from_a_person({**message, "user": "U0BOT"}, "U0BOT")


def test_recent_event_ids_remember_a_bounded_number():
    recent = RecentEventIds(size=3)
    assert recent.first_time("Ev1") and not recent.first_time("Ev1")
    for n in range(2, 5):
        assert recent.first_time(f"Ev{n}")
    assert recent.first_time("Ev1"), "the oldest id was forgotten"
    assert not recent.first_time("Ev4")


def test_a_failing_search_still_gets_a_reply_and_a_log(caplog):
    from handlers.answering import SEARCH_FAILED, find_answer
    from search import SearchIndex

    class BrokenIndex(SearchIndex):
        def search(self, query, limit=5, filters=None):
            raise RuntimeError("disk on fire")

    with caplog.at_level("ERROR", logger="handlers.answering"):
        reply = find_answer(BrokenIndex(), "valuation")
    assert SEARCH_FAILED in reply["text"]
    assert "disk on fire" in caplog.text


@pytest.mark.parametrize(
    ("question", "why"),
    [
        ("météo paris demain", "the weather"),
        ("score du match PSG OM", "sport"),
        ("prix d'un missile Mistral", "MBDA missile"),
    ],
)
def test_an_off_subject_question_gets_nothing_found_saying_why(index, question, why):
    judge = SubjectJudge()
    text = find_answer(index, question, judge=judge)["text"]
    assert text.startswith(f"Nothing found for “{question.replace('&', '&amp;')}”") and why in text
    assert "follows only its subject's news" in text
    assert find_answer(index, "who founded Mistral?", judge=judge)["text"] != text
    assert "Nothing found" not in find_answer(index, "mistral funding round", judge=judge)["text"]
