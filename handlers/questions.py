"""Every question acknowledged is answered once, even when the replica that acknowledged it dies.

Before a slash command or a mention is acknowledged, the `recording` middleware records the
question in the answer queue (bot/stores/answer_queue.py), claimed by this replica for a lease; the
listener then answers at once, as it always did. Posting is bracketed by the queue: `start_posting`
first (it fails when the lease ran out and another replica took the question over: no second
answer), then `finish` after a post Slack accepted, or `drop` after one it refused or that may have
gone out (a timeout): that one is not sent again. A question whose replica died before posting is
left claimed; once its lease runs out, another replica's worker (bot/posting/answerer.py) answers it.

When the store cannot record the question, it is answered all the same, outside the queue.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from collections.abc import Callable

from slack_bolt import BoltContext, BoltRequest, BoltResponse
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient

from bot.stores.types import Question
from handlers.context import DEPENDENCIES, AnswerQueue, dependencies_of
from handlers.replies import apologize, post_or_apologize, respond_or_log

QUESTION = "question"


def command_question(body: dict, request: BoltRequest) -> Question:
    sent = request.headers.get("x-slack-request-timestamp", [""])[0]  # absent in Socket Mode
    return Question(
        id=body.get("trigger_id") or uuid.uuid4().hex,
        kind="command",
        text=body.get("text", ""),
        user=body.get("user_id", ""),
        channel=body.get("channel_id", ""),
        asked_at=float(sent) if sent.isdigit() else time.time(),
        response_url=body.get("response_url"),
    )


def mention_question(body: dict, question_text: str) -> Question:
    event = body["event"]
    return Question(
        id=body.get("event_id") or uuid.uuid4().hex,
        kind="mention",
        text=question_text,
        user=event.get("user") or "",
        channel=event["channel"],
        asked_at=float(body.get("event_time") or time.time()),
        thread_ts=event.get("thread_ts") or event["ts"],
    )


def is_direct_message_from_a_person(event: dict, bot_user_id: str | None) -> bool:
    return (
        event.get("channel_type") == "im"
        and not event.get("subtype")
        and not event.get("bot_id")
        and bool(event.get("user"))
        and event.get("user") != bot_user_id
    )


def recording(question_of: Callable[[dict, BoltRequest, BoltContext], Question]):
    """Listener middleware: record the question before the listener acknowledges it.

    The listener finds it with `asked(context)`; when it could not be recorded, the listener's
    `Dependencies` have no `answers` (it is answered outside the queue). A question recorded already
    (an event Slack sent again, to another replica) is acknowledged and nothing more.
    """

    def middleware(
        body: dict, request: BoltRequest, context: BoltContext, logger: logging.Logger, next
    ) -> BoltResponse | None:
        question = question_of(body, request, context)
        dependencies = dependencies_of(context)
        context[QUESTION] = question
        if dependencies.answers is not None:
            try:
                if not dependencies.answers.record(question):
                    logger.info("Question %s was recorded already; acknowledging only", question.id)
                    return BoltResponse(status=200, body="")
            except Exception:
                logger.exception("Could not record question %s; answering it outside the queue", question.id)
                context[DEPENDENCIES] = dataclasses.replace(dependencies, answers=None)
        return next()

    return middleware


def asked(context: BoltContext) -> Question:
    """The question `recording` put in the request's context."""
    return context[QUESTION]


def answer(
    question: Question, reply: dict, client: WebClient, logger: logging.Logger, queue: AnswerQueue | None
) -> bool:
    """Send `reply` once, bracketed by `queue` (see the module's docstring); True when it was sent."""
    if queue is not None and not start_posting(queue, question, logger):
        return False
    sent = send(question, reply, client, logger)
    if queue is not None:
        try:
            if sent:
                queue.finish(question.id)
            else:
                queue.drop(question.id, "not delivered (see the log)")
        except Exception:
            # Left 'posting': never answered again, pruned like the rest.
            logger.exception("Could not record how question %s went", question.id)
    return sent


def start_posting(queue: AnswerQueue, question: Question, logger: logging.Logger) -> bool:
    """False when the question is no longer ours to answer (or the store cannot say: its lease then
    runs out and a worker answers once the store is back)."""
    try:
        if queue.start_posting(question.id):
            return True
        logger.warning("Question %s was taken over by another replica: not answering it here", question.id)
    except Exception:
        logger.exception(
            "Could not mark question %s as being answered; a worker answers it later", question.id
        )
    return False


def send(question: Question, reply: dict, client: WebClient, logger: logging.Logger) -> bool:
    """Post the answer where the question expects it; apologise privately when that fails."""
    if question.kind == "command":
        respond = Respond(response_url=question.response_url)
        sent = respond_or_log(respond, logger, reply, response_type="ephemeral")
        if not sent and question.channel and question.user:
            apologize(client, logger, channel=question.channel, user=question.user)
        return sent
    return post_or_apologize(
        client,
        logger,
        channel=question.channel,
        user=question.user or None,
        message=reply,
        thread_ts=question.thread_ts,
    )
