"""End to end through the served app: channels watch words, get one post per story, follow-ups in the
story's thread, and a channel the bot was removed from is paused and says why."""

from __future__ import annotations

import json

import pytest

from tests.fakes.signing import block_actions_body, slash_command_body
from tests.handlers.block_checks import assert_no_broadcast, assert_valid_message
from tests.polling import wait_until
from tests.served import RunningApp, served_app

TEAM = "C0TEAM0001"
OTHER = "C0OTHER002"
SINGAPORE = (
    "date 2024-03-01\nMistral AI opens an office in Singapore\n\n"
    "Mistral AI said on Friday it will hire 40 engineers in Singapore, its first office in Asia. "
    "The Paris company wants to be closer to its customers in the region."
)
SINGAPORE_COPY = SINGAPORE.replace("on Friday", "this week").replace("40 engineers", "forty engineers")
ROBOTICS = (
    "date 2024-03-12\nMistral AI shows a robotics model\n\n"
    "Mistral AI presented a model that drives industrial robot arms, built with a German partner. "
    "The company did not say when customers could use it."
)


@pytest.fixture
def served(fake_slack, articles_dir, tmp_path):
    with served_app(fake_slack, articles_dir, f"sqlite:///{tmp_path / 'store.db'}") as app:
        yield app


def ask(app: RunningApp, text: str, channel: str = TEAM) -> dict:
    """Run the slash command in `channel`; its private answer."""
    count = len(app.slack.calls_to("response_url"))
    body = slash_command_body(text, app.slack.response_url(f"r{count}"), channel_id=channel)
    status, _ = app.post(body)
    assert status == 200
    return app.slack.wait_for("response_url", count + 1, timeout=30)[count]


def posts(slack, channel: str) -> list[dict]:
    return [c for c in slack.calls_to("chat.postMessage") if c.get("channel") == channel]


def text_of(message: dict) -> str:
    return json.dumps(message.get("blocks", []), ensure_ascii=False) + message.get("text", "")


def test_a_watch_posts_a_matching_new_article_and_not_the_others(served, articles_dir):
    answer = ask(served, "watch Singapore office")
    assert "Watching `singapore office` here" in answer["text"]
    assert answer["response_type"] == "ephemeral"
    assert_valid_message(answer)
    (articles_dir / "robotics.txt").write_text(ROBOTICS, encoding="utf-8")
    (articles_dir / "singapore.txt").write_text(SINGAPORE, encoding="utf-8")
    wait_until(lambda: posts(served.slack, TEAM), timeout=20)
    post = posts(served.slack, TEAM)[0]
    assert "Mistral AI opens an office in Singapore" in text_of(post)
    assert_valid_message(post)
    assert_no_broadcast(post)
    # The robotics article came first (the watch matched it and passed): one post, and only here.
    assert len(posts(served.slack, TEAM)) == 1
    assert [c["channel"] for c in served.slack.calls_to("chat.postMessage")] == [TEAM]


def test_a_seed_article_already_there_is_never_posted(served, articles_dir):
    ask(served, "watch Mistral")
    (articles_dir / "singapore.txt").write_text(SINGAPORE, encoding="utf-8")
    wait_until(lambda: posts(served.slack, TEAM), timeout=20)
    assert len(posts(served.slack, TEAM)) == 1  # not the seeds, which all name Mistral


def test_two_channels_watching_one_story_get_one_post_each(served, articles_dir):
    ask(served, "watch singapore")
    ask(served, "watch hire engineers")  # a second watch of the same channel matching the same story
    ask(served, "watch office asia", channel=OTHER)
    (articles_dir / "singapore.txt").write_text(SINGAPORE, encoding="utf-8")
    wait_until(lambda: posts(served.slack, TEAM) and posts(served.slack, OTHER), timeout=20)
    (articles_dir / "robotics.txt").write_text(ROBOTICS, encoding="utf-8")  # a sentinel: matches nothing
    ask(served, "watch robot arms", channel=OTHER)
    (articles_dir / "robotics2.txt").write_text(ROBOTICS.replace("German", "Italian"), encoding="utf-8")
    wait_until(lambda: len(posts(served.slack, OTHER)) == 2, timeout=20)
    assert len(posts(served.slack, TEAM)) == 1


def test_a_later_article_of_a_story_goes_in_the_thread_and_the_first_post_counts_outlets(
    served, articles_dir
):
    ask(served, "watch singapore")
    (articles_dir / "singapore.txt").write_text(SINGAPORE, encoding="utf-8")
    wait_until(lambda: posts(served.slack, TEAM), timeout=20)
    first = served.slack.wait_for("chat.postMessage")[0]
    (articles_dir / "singapore-copy.txt").write_text(SINGAPORE_COPY, encoding="utf-8")
    wait_until(lambda: len(posts(served.slack, TEAM)) == 2, timeout=20)
    reply = posts(served.slack, TEAM)[1]
    assert reply.get("thread_ts")
    assert "also reports it" in text_of(reply)
    assert_valid_message(reply)
    edits = served.slack.wait_for("chat.update")
    assert edits[-1]["ts"] == reply["thread_ts"]
    assert "2 outlets reported it" in text_of(edits[-1])
    assert "outlets reported it" not in text_of(first)


def test_watches_are_listed_with_a_remove_button_each(served):
    ask(served, "watch Le Chat <@U0SOMEONE> <!channel>")
    ask(served, 'watch "le chat" lang:fr')
    listing = ask(served, "watches")
    assert_valid_message(listing)
    assert_no_broadcast(listing)
    buttons = [b["accessory"] for b in listing["blocks"] if b.get("accessory")]
    assert [b["value"] for b in buttons] == ["le chat", '"le chat" lang:fr']
    count = len(served.slack.calls_to("response_url"))
    body = block_actions_body("unwatch", "le chat", served.slack.response_url("press"), channel_id=TEAM)
    assert served.post(body)[0] == 200
    after = served.slack.wait_for("response_url", count + 1)[count]
    assert [b["accessory"]["value"] for b in after["blocks"] if b.get("accessory")] == ['"le chat" lang:fr']
    assert "does not watch `le chat`" in ask(served, "unwatch le chat")["text"]
    assert 'Stopped watching `"le chat" lang:fr`' in ask(served, 'unwatch  "Le   Chat"  lang:fr ')["text"]


def test_bad_watches_get_a_clear_private_answer(served):
    assert "is not a date" in ask(served, "watch mistral after:yesterday")["text"]
    assert "lang:en" in ask(served, "watch mistral lang:klingon")["text"]
    assert "query is empty" in ask(served, "watch")["text"]
    assert "limit is" in ask(served, "watch " + "word " * 200)["text"]
    assert "nothing yet" in ask(served, "watches")["text"]


def test_a_channel_the_bot_was_removed_from_is_paused_and_says_why(served, articles_dir):
    ask(served, "watch singapore")
    served.slack.fail_next("chat.postMessage", status=200, retry_after=None, error="not_in_channel")
    (articles_dir / "singapore.txt").write_text(SINGAPORE, encoding="utf-8")
    wait_until(lambda: served.slack.calls_to("chat.postMessage"), timeout=20)
    wait_until(lambda: "Paused" in ask(served, "watches")["text"], timeout=10, interval=0.2)
    listing = ask(served, "watches")
    assert "I was removed from this channel" in text_of(listing)
    (articles_dir / "robotics.txt").write_text(ROBOTICS.replace("robot", "Singapore robot"), encoding="utf-8")
    ask(served, "watch robot arms", channel=OTHER)
    (articles_dir / "robotics2.txt").write_text(ROBOTICS.replace("German", "Italian"), encoding="utf-8")
    wait_until(lambda: posts(served.slack, OTHER), timeout=20)
    assert len(served.slack.calls_to("chat.postMessage")) == 2  # nothing more in the paused channel
    # Invited again, a new watch resumes the channel.
    ask(served, "watch robot")
    assert "Paused" not in ask(served, "watches")["text"]
