"""End to end through the served app: 👍/👎 on answers recorded with the question, unanswered questions
recorded, and `python -m bot report` listing them, the most frequent first."""

from __future__ import annotations

import pytest

from tests.cli.test_cli import run_bot
from tests.e2e.test_serving_watches import ask
from tests.fakes.signing import block_actions_body, mention_event
from tests.fakes.slack_api import BOT_USER_ID
from tests.handlers.block_checks import assert_valid_message
from tests.served import served_app

NOTHING = "zorglub quibbleflap"


@pytest.fixture
def database(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


def feedback_buttons(answer: dict) -> dict[str, str]:
    [block] = [b for b in answer["blocks"] if b.get("block_id") == "feedback"]
    return {e["action_id"]: e["value"] for e in block["elements"]}


def press(app, action_id: str, value: str) -> dict:
    count = len(app.slack.calls_to("response_url"))
    assert app.post(block_actions_body(action_id, value, app.slack.response_url(f"fb{count}")))[0] == 200
    return app.slack.wait_for("response_url", count + 1)[count]


def test_feedback_is_recorded_with_the_question_and_reported(fake_slack, articles_dir, database):
    with served_app(fake_slack, articles_dir, database) as app:
        answer = ask(app, "Microsoft partnership")
        assert_valid_message(answer)
        buttons = feedback_buttons(answer)
        assert set(buttons) == {
            "feedback:up",
            "feedback:wrong_article",
            "feedback:wrong_language",
            "feedback:outdated",
        }
        thanks = press(app, "feedback:wrong_language", buttons["feedback:wrong_language"])
        assert "noted" in thanks["text"] and thanks["response_type"] == "ephemeral"
        assert thanks.get("replace_original") is False
        press(app, "feedback:outdated", buttons["feedback:outdated"])
        liked = ask(app, "who founded Mistral?")
        press(app, "feedback:up", feedback_buttons(liked)["feedback:up"])
        for _ in range(3):
            assert "feedback" not in str(
                ask(app, NOTHING).get("blocks", [])
            )  # nothing found: nothing to rate
        app.event(mention_event(f"<@{BOT_USER_ID}> {NOTHING}"))
        app.slack.wait_for("chat.postMessage")
    result = run_bot("report", "--days", "1", env={"DATABASE_URL": database})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Questions with no answer or a 👎 in the last 1 days")
    assert NOTHING in lines[1] and "no answer ×4" in lines[1]
    assert "microsoft partnership" in lines[2] and "👎 ×2 (wrong language ×1, outdated ×1)" in lines[2]
    assert "founded" not in result.stdout
    assert lines[3] == "" and lines[4].startswith(("No article was judged off-subject", "Left out"))
