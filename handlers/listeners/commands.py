"""The slash command (/mistral by default): a private answer with buttons to share it or see more."""

from __future__ import annotations

import logging

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.stores.types import Question
from handlers.answering import SEARCH_FAILED, reply_to_command
from handlers.blocks.common import problem_message
from handlers.context import Dependencies, dependencies_of
from handlers.questions import answer, asked, command_question, recording

log = logging.getLogger(__name__)


def user_timezone(client: WebClient, user: str) -> str | None:
    """The user's timezone (e.g. Europe/Paris) from users.info (needs users:read); None when unknown."""
    try:
        profile = client.users_info(user=user).get("user") or {}
    except (SlackApiError, SlackClientError, OSError) as error:
        log.warning("Could not read %s's timezone: %s", user, error)
        return None
    timezone = profile.get("tz")
    return timezone if isinstance(timezone, str) and timezone else None


def command_reply(question: Question, dependencies: Dependencies, client: WebClient) -> dict:
    """The reply to a recorded command, from `dependencies`."""
    try:
        return reply_to_command(
            dependencies.index,
            question.text,
            dependencies.slash_command,
            dependencies.sources,
            dependencies.channels,
            channel=question.channel,
            user=question.user,
            timezone_of=lambda user: user_timezone(client, user),
            questions=dependencies.questions,
            judge=dependencies.judge,
        )
    except Exception:
        log.exception("The command %r failed", question.text)
        return problem_message(SEARCH_FAILED)


def answer_command(ack: Ack, client: WebClient, context: BoltContext, logger: logging.Logger) -> None:
    """Acknowledge at once (Slack allows 3 s; the question is recorded already), then answer
    privately through the response_url."""
    ack()
    dependencies, question = dependencies_of(context), asked(context)
    answer(question, command_reply(question, dependencies, client), client, logger, dependencies.answers)


def register(app: App, command: str) -> None:
    middleware = recording(lambda body, request, context: command_question(body, request))
    app.command(command, middleware=[middleware])(answer_command)
