"""Delivery to Slack: retries on rate limits and server errors, an apology and a log when it fails."""

import logging

import pytest
from slack_sdk.webhook import WebhookClient

from bot.posting.web_client import build_web_client
from handlers.replies import post_or_apologize, respond_or_log

MESSAGE = {"text": "answer", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "answer"}}]}
log = logging.getLogger("test")


@pytest.fixture
def client(fake_slack):
    return build_web_client("xoxb-test", fake_slack.url, max_retries=1)


def test_posts_without_link_names_or_unfurls(fake_slack, client):
    assert post_or_apologize(client, log, channel="C1", user="U1", message=MESSAGE, thread_ts="1.2")
    [post] = fake_slack.calls_to("chat.postMessage")
    assert post["thread_ts"] == "1.2" and post["unfurl_links"] is False
    assert "link_names" not in post


def test_a_rate_limit_is_waited_out(fake_slack, client):
    fake_slack.fail_next("chat.postMessage", retry_after=0)
    assert post_or_apologize(client, log, channel="C1", user="U1", message=MESSAGE)
    assert [c["status"] for c in fake_slack.calls] == [429, 200]


def test_when_retries_run_out_the_user_gets_an_apology(fake_slack, client, caplog):
    fake_slack.fail_next("chat.postMessage", retry_after=0, times=2)
    assert not post_or_apologize(client, log, channel="C1", user="U1", message=MESSAGE)
    [apology] = fake_slack.calls_to("chat.postEphemeral")
    assert apology["user"] == "U1" and "Sorry" in apology["text"]
    assert "Could not post the answer in channel C1" in caplog.text


def test_a_failed_apology_is_logged_too(fake_slack, client, caplog):
    fake_slack.fail_next("chat.postMessage", status=200, error="not_in_channel")
    fake_slack.fail_next("chat.postEphemeral", status=200, error="user_not_in_channel")
    assert not post_or_apologize(client, log, channel="C1", user="U1", message=MESSAGE)
    assert "Could not apologise to U1" in caplog.text


def test_respond_reports_a_refused_response_url(fake_slack, caplog):
    fake_slack.fail_next("response_url", status=404, error="expired_url")
    url = fake_slack.response_url()

    def respond(**message):
        return WebhookClient(url).send_dict(message)

    assert not respond_or_log(respond, log, MESSAGE, response_type="ephemeral")
    assert "HTTP 404" in caplog.text
    assert respond_or_log(respond, log, MESSAGE, response_type="ephemeral")
