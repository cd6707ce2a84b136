"""End to end through the whole served app: a file lands in the folder, the channel hears of it once,
and `/mistral` and mentions answer from it; bad files post nothing and the app keeps answering."""

from __future__ import annotations

import json
import os

import pytest

from tests.fakes.signing import mention_event
from tests.fakes.slack_api import BOT_USER_ID
from tests.handlers.block_checks import assert_no_broadcast, assert_valid_message
from tests.polling import wait_until
from tests.served import RunningApp, served_app

CHANNEL = "C0NEWS0002"
NEWS = (
    "date 2024-06-11\nMistral AI raises 600 million euros\n\n"
    "Mistral AI raised 600 million euros on Tuesday from investors led by General Catalyst. "
    "The round values the Paris start-up at about $6 billion, two years after its creation.\n\n"
    "The company will spend the money on computing power and on hiring engineers in Europe."
)


@pytest.fixture
def served(fake_slack, articles_dir, tmp_path):
    """The app as `serve()` runs it (store, index, watcher, notifier, Slack handlers) over HTTP."""
    with served_app(
        fake_slack, articles_dir, f"sqlite:///{tmp_path / 'store.db'}", notify_channel=CHANNEL
    ) as app:
        yield app


def announcements(slack) -> list[dict]:
    return [c for c in slack.calls_to("chat.postMessage") if c.get("channel") == CHANNEL]


def command_until_found(app: RunningApp, query: str, title: str) -> dict:
    """Ask `/mistral query` until the answer cites `title` (the watcher works in the background)."""
    answers: list[dict] = []

    def cited() -> bool:
        answers.append(app.command(query, name=f"q{len(answers)}"))
        return title in json.dumps(answers[-1]["blocks"], ensure_ascii=False)

    wait_until(cited, timeout=20, interval=0.2)
    return answers[-1]


def test_a_new_file_is_announced_once_and_answers_questions(served, articles_dir):
    (articles_dir / "new.txt").write_text(NEWS, encoding="utf-8")
    answer = command_until_found(served, "General Catalyst", "Mistral AI raises 600 million euros")
    assert "*General Catalyst*" in json.dumps(answer["blocks"])
    wait_until(lambda: announcements(served.slack), timeout=20)
    [announcement] = announcements(served.slack)
    assert_valid_message(announcement)
    text = json.dumps(announcement["blocks"], ensure_ascii=False)
    assert "Mistral AI raises 600 million euros" in text and "2024-06-11" in text and "new.txt" in text
    assert "600 million euros" in announcement["blocks"][2]["text"]["text"]
    assert "Related articles" in text, "the seeds already indexed are the related articles"

    [posted] = [c for c in served.slack.calls if c["method"] == "chat.postMessage"]
    thread_ts = posted["response"]["ts"]
    served.event(
        mention_event(f"<@{BOT_USER_ID}> how much did they raise?", channel=CHANNEL, thread_ts=thread_ts)
    )
    replies = served.slack.wait_for("chat.postMessage", 2)
    reply = replies[-1]
    assert reply["channel"] == CHANNEL and reply["thread_ts"] == thread_ts
    assert "600" in json.dumps(reply["blocks"])
    assert len(announcements(served.slack)) == 2  # the announcement and the threaded answer, nothing more


def test_seeds_present_at_the_first_start_are_not_announced(served, articles_dir):
    (articles_dir / "sentinel.txt").write_text(NEWS, encoding="utf-8")
    wait_until(lambda: announcements(served.slack), timeout=20)
    [only] = announcements(served.slack)
    assert "600 million" in json.dumps(only["blocks"])


def test_bad_files_post_nothing_and_the_app_keeps_answering(served, articles_dir, tmp_path):
    (articles_dir / "empty.txt").write_bytes(b"")
    (articles_dir / "binary.txt").write_bytes(bytes(range(256)) * 64)
    (articles_dir / "latin1.txt").write_bytes(b"\xff\xfe\x00\x00garbage\x00")
    with (articles_dir / "huge.txt").open("wb") as huge:
        huge.truncate(50 * 1024 * 1024)
    outside = tmp_path / "outside.txt"
    outside.write_text("Secret headline\n\nThis file lives outside the articles folder.", encoding="utf-8")
    os.symlink(outside, articles_dir / "link.txt")
    (articles_dir / "markup.txt").write_text(
        "<!channel> Mistral ships Zorblax\n\n<!here> Mistral AI shipped Zorblax <@U0BOSS> today, "
        "see <https://evil.example|the docs>. Zorblax runs on a laptop.",
        encoding="utf-8",
    )
    (articles_dir / "sentinel.txt").write_text(NEWS, encoding="utf-8")
    wait_until(lambda: len(announcements(served.slack)) >= 2, timeout=20)
    posted = announcements(served.slack)
    assert len(posted) == 2, "only the two real articles are announced"
    assert_no_broadcast(posted)
    everything = json.dumps(posted)
    assert (
        "<!channel>" not in everything
        and "<@U0BOSS>" not in everything
        and "Secret headline" not in everything
    )
    answer = served.command("valuation", name="after-bad-files")
    assert_valid_message(answer)
    assert "*valuation*" in json.dumps(answer["blocks"])
