"""What the listeners answer from (`Dependencies`: the index, the command's name, and the parts that
exist once the app has started), and the protocols those parts implement.

One middleware (`provide`) puts the `Dependencies` in Bolt's context for each request; a listener
reads them with `dependencies_of(context)`; the worker answering a recorded question later
(bot/posting/answerer.py) gets them from the same provider. This module imports no listener and no
Slack library, so that importing a type loads nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Protocol

from bot.stores.types import Question
from search import SearchIndex
from search.judgement.subject import SubjectJudge

DEPENDENCIES = "dependencies"


class NewsSources(Protocol):
    """What the command can do with news sources (implemented in bot/news/sources/manage.py)."""

    def add_link(
        self, url: str, *, public_only: bool, anyway: bool = False, anyway_command: str = ""
    ) -> tuple[bool, str]: ...
    def add_feed(self, url: str, *, origin: str) -> tuple[bool, str]: ...
    def remove_feed(self, url: str) -> tuple[bool, str]: ...
    def feeds_text(self, how_to_add: str) -> str: ...


class ChannelWatches(Protocol):
    """What the commands do with a channel's watches and digest (bot/news/watches.py implements it).

    `set_digest` reads `words` as a schedule in `timezone` and says when the next digest comes;
    ValueError saying what is accepted when it cannot read them."""

    def add_watch(self, channel: str, words: str, user: str) -> bool: ...
    def remove_watch(self, channel: str, words: str) -> bool: ...
    def watches(self, channel: str) -> list: ...
    def paused_reason(self, channel: str) -> str | None: ...
    def set_digest(self, channel: str, words: str, user: str, timezone: str) -> str: ...
    def remove_digest(self, channel: str) -> bool: ...
    def digest_of(self, channel: str) -> str | None: ...


class QuestionLog(Protocol):
    """Where questions and their feedback are kept (bot/stores/feedback.py implements it)."""

    def record_question(self, question: str, answered: bool) -> None: ...
    def record_feedback(self, question: str, vote: str, reason: str | None, user: str) -> None: ...


class AnswerQueue(Protocol):
    """This replica's hold on the answer queue (bot/posting/answerer.py implements it)."""

    def record(self, question: Question) -> bool: ...  # False: already recorded (Slack sent it again)
    def start_posting(self, question_id: str) -> bool: ...
    def finish(self, question_id: str) -> bool: ...
    def drop(self, question_id: str, reason: str) -> bool: ...


@dataclass(frozen=True)
class Dependencies:
    """What answering needs. `sources`, `channels`, `questions` and `answers` are None until the app
    has started (until then questions get "still loading", see loading.py); `answers` is also None
    for a question answered outside the queue (see questions.py)."""

    index: SearchIndex
    slash_command: str
    judge: SubjectJudge | None = None  # the desk's subject: a question off it gets nothing, saying why
    sources: NewsSources | None = None
    channels: ChannelWatches | None = None
    questions: QuestionLog | None = None
    answers: AnswerQueue | None = None


def provide(dependencies: Callable[[], Dependencies]):
    """Bolt middleware putting `dependencies()` (asked for each request) in the request's context."""

    def middleware(context: MutableMapping, next) -> None:
        context[DEPENDENCIES] = dependencies()
        next()

    return middleware


def dependencies_of(context: MutableMapping) -> Dependencies:
    """The request's `Dependencies`, put in its context by `provide`."""
    return context[DEPENDENCIES]
