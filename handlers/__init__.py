"""The Slack surface: listeners, and the Block Kit they send.

`register_listeners` is the one place listeners are registered, by kind. Their dependencies reach them
through Bolt's `context`, put there for each request by the `dependencies` middleware (they read e.g.
`context["index"]`).
"""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from handlers import actions, commands, home, mentions
from handlers.answers import AnswerQueue, Question
from handlers.commands import NewsSources, QuestionLog
from handlers.watches import ChannelWatches
from search import SearchIndex


def dependencies(
    index: SearchIndex,
    slash_command: str,
    *,
    sources: Callable[[], NewsSources | None],
    channels: Callable[[], ChannelWatches | None],
    questions: Callable[[], QuestionLog | None],
    answers: Callable[[], AnswerQueue | None] = lambda: None,
):
    """Bolt middleware putting what the listeners need (`needs`) in the context of each request."""

    def middleware(context: BoltContext, next) -> None:
        context.update(
            needs(
                index, slash_command, sources=sources, channels=channels, questions=questions, answers=answers
            )
        )
        next()

    return middleware


def needs(
    index: SearchIndex,
    slash_command: str,
    *,
    sources: Callable[[], NewsSources | None],
    channels: Callable[[], ChannelWatches | None],
    questions: Callable[[], QuestionLog | None],
    answers: Callable[[], AnswerQueue | None],
) -> dict:
    """What answering needs, by name: the listeners read it from their context, a worker answering
    a recorded question later (bot/answers.py) from this dict.

    `sources()`, `channels()`, `questions()` and `answers()` (this replica's hold on the answer queue,
    see answers.py) are asked each time: they are None until the app has started (until then
    questions get "still loading", see loading.py). The command's name is `slash_command` there, as
    Bolt gives a listener asking for `command` the command's payload.
    """
    return {
        "index": index,
        "slash_command": slash_command,
        "sources": sources(),
        "channels": channels(),
        "questions": questions(),
        "answers": answers(),
    }


def register_listeners(app: App, slash_command: str) -> None:
    """Every listener: the slash command, events (mentions, direct messages), buttons, the home tab.

    mentions.register also installs the middleware that answers Slack's retries of an event only once.
    """
    commands.register(app, slash_command)
    mentions.register(app)
    actions.register(app)
    home.register(app)


def reply_for(question: Question, context: dict, client: WebClient) -> dict:
    """The reply to a recorded question of either kind (what a worker answering it later sends)."""
    if question.kind == "command":
        return commands.command_reply(question, context, client)
    return mentions.mention_reply(question, context)
