"""What the listeners need, put in Bolt's context for each request by one middleware (`dependencies`).

They read it from their context (e.g. `context["index"]`); a worker answering a recorded question later
(bot/posting/answerer.py) gets the same dict from `needs`.
"""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import BoltContext

from handlers.listeners.commands import NewsSources, QuestionLog
from handlers.questions import AnswerQueue
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
    a recorded question later (bot/posting/answerer.py) from this dict.

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
