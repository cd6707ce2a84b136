"""The Slack stand-in answers like Slack, so slack_sdk and its retry handlers work against it."""

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from tests.fakes import FakeSlack


@pytest.fixture
def slack():
    with FakeSlack() as fake:
        yield fake


def test_post_message_is_recorded_and_answered_with_a_fresh_ts(slack):
    client = WebClient(token="xoxb-test", base_url=slack.url)
    first = client.chat_postMessage(channel="C1", text="hello", blocks=[{"type": "divider"}])
    second = client.chat_postMessage(channel="C1", text="again")
    assert first["channel"] == "C1"
    assert first["ts"] != second["ts"]
    assert first["message"]["blocks"] == [{"type": "divider"}]
    assert [p["text"] for p in slack.calls_to("chat.postMessage")] == ["hello", "again"]
    assert slack.calls[0]["headers"]["Authorization"] == "Bearer xoxb-test"


def test_auth_test_names_the_bot(slack):
    answer = WebClient(token="xoxb-test", base_url=slack.url).auth_test()
    assert answer["user_id"] and answer["bot_id"] and answer["team_id"]


def test_rate_limit_is_retried_by_slack_sdk(slack):
    client = WebClient(token="xoxb-test", base_url=slack.url)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
    slack.fail_next("chat.postMessage", retry_after=0)
    client.chat_postMessage(channel="C1", text="hello")
    assert len(slack.calls_to("chat.postMessage")) == 2


def test_failure_without_retry_raises(slack):
    slack.fail_next("chat.postEphemeral", status=200, error="channel_not_found")
    with pytest.raises(SlackApiError, match="channel_not_found"):
        WebClient(token="xoxb-test", base_url=slack.url).chat_postEphemeral(channel="C1", user="U1", text="x")


def test_response_url_posts_are_recorded(slack):
    WebhookClient(slack.response_url("r7")).send(text="private", response_type="ephemeral")
    [call] = slack.wait_for("response_url")
    assert call["text"] == "private"
    assert slack.calls[0]["path"].endswith("/r7")


def test_wait_for_fails_when_nothing_comes(slack):
    with pytest.raises(AssertionError, match=r"chat\.postMessage"):
        slack.wait_for("chat.postMessage", timeout=0.05)
