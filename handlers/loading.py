"""While the app is starting (the index is not built yet), every question gets a private "still
loading" rather than a wrong or empty answer.

Bolt middleware to give as `App(before_authorize=...)`: it runs before Bolt's own authorization, which
would otherwise call auth.test for each request while the app is still checking the token.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from slack_bolt import BoltResponse
from slack_sdk import WebClient

from handlers.blocks.common import loading_message
from handlers.questions import is_direct_message_from_a_person
from handlers.replies import DELIVERY_ERRORS, respond_or_log


def still_loading(is_ready: Callable[[], bool]):
    """Bolt middleware: once `is_ready()`, pass on; before, answer questions with `loading_message`."""

    def middleware(
        body: dict, next, respond: Callable, client: WebClient, logger: logging.Logger
    ) -> BoltResponse | None:
        if is_ready() or body.get("type") == "url_verification":  # Bolt answers the URL check later on
            return next()
        kind = body.get("type")
        if body.get("command"):
            return BoltResponse(
                status=200,
                body=json.dumps({"response_type": "ephemeral", **loading_message()}),
                headers={"content-type": "application/json"},
            )
        if kind == "block_actions":
            respond_or_log(
                respond, logger, loading_message(), response_type="ephemeral", replace_original=False
            )
        elif kind == "event_callback":
            event = body.get("event") or {}
            if event.get("type") == "app_mention" or is_direct_message_from_a_person(event, None):
                tell_privately(client, logger, event)
        return BoltResponse(status=200, body="")

    return middleware


def tell_privately(client: WebClient, logger: logging.Logger, event: dict) -> None:
    if not (event.get("channel") and event.get("user")):
        return
    try:
        client.chat_postEphemeral(
            channel=event["channel"],
            user=event["user"],
            thread_ts=event.get("thread_ts"),
            **loading_message(),
        )
    except DELIVERY_ERRORS as error:
        logger.warning("Could not tell %s the app is still loading: %s", event["user"], error)
