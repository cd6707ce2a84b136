"""Sending to Slack: delivery that apologises when it cannot (the Web API client is bot/posting/web_client.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from handlers.blocks.common import apology_message

DELIVERY_ERRORS = (SlackClientError, OSError)


def post_or_apologize(
    client: WebClient,
    logger: logging.Logger,
    *,
    channel: str,
    user: str | None,
    message: dict,
    thread_ts: str | None = None,
) -> bool:
    """Post `message` in `channel`; when Slack refuses even after retries, log it and tell `user` privately."""
    try:
        client.chat_postMessage(
            channel=channel, thread_ts=thread_ts, unfurl_links=False, unfurl_media=False, **message
        )
        return True
    except DELIVERY_ERRORS:
        logger.exception("Could not post the answer in channel %s", channel)
    if user:
        apologize(client, logger, channel=channel, user=user, thread_ts=thread_ts)
    return False


def apologize(
    client: WebClient, logger: logging.Logger, *, channel: str, user: str, thread_ts: str | None = None
) -> None:
    """Tell `user` privately that their answer was lost; log it when even that fails."""
    try:
        client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, **apology_message())
    except DELIVERY_ERRORS:
        logger.warning("Could not apologise to %s in channel %s either", user, channel, exc_info=True)


def respond_or_log(respond: Callable, logger: logging.Logger, message: dict, **options: object) -> bool:
    """Answer through the response_url (`respond`); False, and a log line, when that fails."""
    try:
        response = respond(**message, **options)
    except DELIVERY_ERRORS:
        logger.exception("Could not answer through the response_url")
        return False
    if response.status_code != 200:
        logger.warning("The response_url refused the answer: HTTP %s %s", response.status_code, response.body)
        return False
    return True
