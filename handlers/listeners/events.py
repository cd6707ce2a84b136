"""Events: an @mention is answered in its thread, a direct message in the conversation.

Slack retries an event it thinks was not received (X-Slack-Retry-Num); `skip_repeated_events` makes
sure each event_id gets one reply.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_sdk import WebClient

from bot.stores.types import Question
from handlers.answering import reply_to_question
from handlers.context import Dependencies, dependencies_of
from handlers.questions import answer, asked, is_direct_message_from_a_person, mention_question, recording
from handlers.replies import post_or_apologize

_ANY_LEADING_MENTION_RE = re.compile(r"^\s*<@[UW][A-Z0-9]+(?:\|[^>]*)?>")


class RecentEventIds:
    """The last `size` event ids seen; thread-safe, as requests are served by many threads."""

    def __init__(self, size: int = 1000) -> None:
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, event_id: str) -> bool:
        """True the first time `event_id` is seen (and remember it); False for a repeat."""
        with self._lock:
            if event_id in self._ids:
                return False
            self._ids[event_id] = None
            if len(self._ids) > self.size:
                self._ids.popitem(last=False)
            return True


def skip_repeated_events(recent: RecentEventIds):
    """Bolt middleware: acknowledge an event already handled (a retry) without handling it again."""

    def middleware(body: dict, next, logger: logging.Logger) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if isinstance(event_id, str) and event_id and not recent.first_time(event_id):
            logger.info("Event %s already handled; acknowledging the retry only", event_id)
            return BoltResponse(status=200, body="")
        return next()

    return middleware


def question_of(text: str, bot_user_id: str | None) -> str:
    """The question in a message, without the mentions of the bot."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", text)
    else:
        text = _ANY_LEADING_MENTION_RE.sub(" ", text)
    return " ".join(text.split())


def mention_reply(text: str, dependencies: Dependencies) -> dict:
    """The reply to a question asked in a mention or a direct message, from `dependencies`."""
    return reply_to_question(
        dependencies.index, text, dependencies.slash_command, dependencies.questions, dependencies.judge
    )


def answer_mention(client: WebClient, context: BoltContext, logger: logging.Logger) -> None:
    """Answer in the thread of the mention: a new thread, or the one it was posted in."""
    dependencies, question = dependencies_of(context), asked(context)
    answer(question, mention_reply(question.text, dependencies), client, logger, dependencies.answers)


def recorded_mention(body: dict, request: BoltRequest, context: BoltContext) -> Question:
    return mention_question(body, question_of(body["event"].get("text", ""), context.bot_user_id))


def answer_direct_message(
    event: dict, context: BoltContext, client: WebClient, logger: logging.Logger
) -> None:
    """Answer a person's direct message in the conversation, or apologise to them."""
    if not is_direct_message_from_a_person(event, context.bot_user_id):
        return
    reply = mention_reply(question_of(event.get("text", ""), context.bot_user_id), dependencies_of(context))
    post_or_apologize(
        client,
        logger,
        channel=event["channel"],
        user=event.get("user"),
        message=reply,
        thread_ts=event.get("thread_ts"),
    )


def register(app: App) -> None:
    app.middleware(skip_repeated_events(RecentEventIds()))
    app.event("app_mention", middleware=[recording(recorded_mention)])(answer_mention)
    app.event("message")(answer_direct_message)
