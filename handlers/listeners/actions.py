"""The buttons: an answer's ("Share in channel" posts it publicly, "More results" shows the next ones,
👍 or 👎), a watch's "Remove", and the home tab's (remove a watch, stop a digest)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from handlers.answering import find_answer
from handlers.blocks.common import (
    FEEDBACK_PREFIX,
    MORE_ACTION,
    SHARE_ACTION,
    feedback_thanks_message,
    problem_message,
    read_button_value,
    share_failed_message,
    unescape_mrkdwn,
)
from handlers.blocks.home import HOME_DIGEST_OFF_ACTION, HOME_UNWATCH_ACTION, read_unwatch_value
from handlers.blocks.watches import UNWATCH_ACTION
from handlers.context import dependencies_of
from handlers.listeners.home import publish_home
from handlers.replies import post_or_apologize, respond_or_log
from handlers.watches import list_watches

STALE_BUTTON = "This button no longer works; ask again with the command."


def query_of_button(action: dict, respond: Callable, logger: logging.Logger) -> tuple[str, int] | None:
    """The query and offset a button carries; None, after telling the user, when it is unreadable."""
    try:
        return read_button_value(action.get("value", ""))
    except ValueError:
        logger.warning("Unexpected value on the %s button: %r", action.get("action_id"), action.get("value"))
        respond_or_log(respond, logger, problem_message(STALE_BUTTON), response_type="ephemeral")
        return None


def answer_of_button(
    action: dict, respond: Callable, context: BoltContext, logger: logging.Logger, **options
) -> dict | None:
    """The page of the answer a button asks for (`find_answer`'s `options`); None, after telling the
    user, when the button is unreadable."""
    button = query_of_button(action, respond, logger)
    if button is None:
        return None
    query, offset = button
    dependencies = dependencies_of(context)
    return find_answer(dependencies.index, query, offset=offset, judge=dependencies.judge, **options)


def share_answer(
    ack: Ack,
    body: dict,
    action: dict,
    respond: Callable,
    client: WebClient,
    context: BoltContext,
    logger: logging.Logger,
) -> None:
    """Post the same answer in the channel, saying who shared it, and drop the private copy."""
    ack()
    reply = answer_of_button(action, respond, context, logger, shareable=False, shared_by=body["user"]["id"])
    if reply is None:
        return
    shared = post_or_apologize(client, logger, channel=body["channel"]["id"], user=None, message=reply)
    if shared:
        respond_or_log(respond, logger, {}, delete_original=True)
    else:
        respond_or_log(
            respond, logger, share_failed_message(), response_type="ephemeral", replace_original=False
        )


def more_results(
    ack: Ack,
    body: dict,
    action: dict,
    respond: Callable,
    context: BoltContext,
    logger: logging.Logger,
) -> None:
    """The next page, privately: in place of a private answer, or as a new private message."""
    ack()
    reply = answer_of_button(action, respond, context, logger)
    if reply is not None:
        private = bool(body.get("container", {}).get("is_ephemeral"))
        respond_or_log(respond, logger, reply, response_type="ephemeral", replace_original=private)


def remove_watch(
    ack: Ack,
    body: dict,
    action: dict,
    respond: Callable,
    context: BoltContext,
    logger: logging.Logger,
) -> None:
    """The "Remove" button of a watch: remove it, and show the channel's watches left in place."""
    ack()
    dependencies = dependencies_of(context)
    channels, channel = dependencies.channels, (body.get("channel") or {}).get("id", "")
    if channels is None or not channel:
        respond_or_log(respond, logger, problem_message(STALE_BUTTON), response_type="ephemeral")
        return
    channels.remove_watch(channel, action.get("value", ""))
    reply = list_watches(channels, channel, dependencies.slash_command)
    respond_or_log(respond, logger, reply, response_type="ephemeral", replace_original=True)


def home_button(
    ack: Ack,
    body: dict,
    action: dict,
    client: WebClient,
    context: BoltContext,
    logger: logging.Logger,
) -> None:
    """A home tab button (remove a watch, stop a digest), then the tab published again."""
    ack()
    dependencies = dependencies_of(context)
    user, channels = (body.get("user") or {}).get("id", ""), dependencies.channels
    if channels is None or not user:
        return
    try:
        if action.get("action_id") == HOME_UNWATCH_ACTION:
            channels.remove_watch(*read_unwatch_value(action.get("value", "")))
        else:
            channels.remove_digest(action.get("value", ""))
    except ValueError:
        logger.warning("Unexpected value on a home button: %r", action.get("value"))
    publish_home(client, user, dependencies, logger)


def record_feedback(
    ack: Ack,
    body: dict,
    action: dict,
    respond: Callable,
    context: BoltContext,
    logger: logging.Logger,
) -> None:
    """👍 or 👎 (with its reason) on an answer: recorded with the question, thanked privately."""
    ack()
    questions = dependencies_of(context).questions
    button = query_of_button(action, respond, logger)
    if button is None or questions is None:
        return
    choice = action.get("action_id", "").removeprefix(FEEDBACK_PREFIX)
    vote, reason = ("up", None) if choice == "up" else ("down", choice)
    questions.record_feedback(
        unescape_mrkdwn(button[0]), vote, reason, (body.get("user") or {}).get("id", "")
    )
    respond_or_log(
        respond, logger, feedback_thanks_message(vote), response_type="ephemeral", replace_original=False
    )


def register(app: App) -> None:
    app.action(SHARE_ACTION)(share_answer)
    app.action(re.compile(f"^{re.escape(FEEDBACK_PREFIX)}"))(record_feedback)
    app.action(UNWATCH_ACTION)(remove_watch)
    app.action(HOME_UNWATCH_ACTION)(home_button)
    app.action(HOME_DIGEST_OFF_ACTION)(home_button)
    app.action(MORE_ACTION)(more_results)
