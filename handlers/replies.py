"""Sending to Slack: a Web API client that retries, and delivery that apologises when it cannot."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from handlers.blocks.common import apology_message

MAX_RETRIES = 2
TIMEOUT_SECONDS = 10
DELIVERY_ERRORS = (SlackClientError, OSError)


class UnsentRequestRetryHandler(ConnectionErrorRetryHandler):
    """Retries a call only when it cannot have reached Slack: the connection was refused or the name
    did not resolve.

    A call that timed out or was cut mid-way may have been carried out (a slow Slack still posts):
    sending it again blindly would post the same message twice, so that error goes to the caller.
    """

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:
        if not isinstance(error, URLError) or response is not None:
            return False
        return isinstance(error.reason, ConnectionRefusedError | socket.gaierror)


def build_web_client(
    token: str, base_url: str, *, max_retries: int = MAX_RETRIES, timeout: float = TIMEOUT_SECONDS
) -> WebClient:
    """A WebClient on `base_url` that retries rate limits (after Retry-After), 5xx and refused connections."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[
            UnsentRequestRetryHandler(max_retry_count=max_retries),
            RateLimitErrorRetryHandler(max_retry_count=max_retries),
            ServerErrorRetryHandler(max_retry_count=max_retries),
        ],
    )


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
