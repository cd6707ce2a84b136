"""What a question gets, without Slack calls: help, a source or channel command's answer, or a page of
search results (recorded in the question log)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from handlers.blocks.common import (
    PAGE_SIZE,
    answer_message,
    no_more_results_message,
    no_results_message,
    problem_message,
    usage_message,
)
from handlers.blocks.news import latest_message
from handlers.context import ChannelWatches, NewsSources, QuestionLog
from handlers.sources import source_reply
from handlers.watches import watch_reply
from search import QueryError, SearchIndex
from search.asking import ask
from search.judgement.subject import SubjectJudge

log = logging.getLogger(__name__)
SEARCH_FAILED = "Sorry, the search failed on my side; the error is logged. Please try again or rephrase."
HELP_WORDS = frozenset({"", "help", "?", "-h", "--help", "aide"})


def is_help(text: str) -> bool:
    return text.strip().lower() in HELP_WORDS


def find_answer(
    index: SearchIndex,
    text: str,
    *,
    offset: int = 0,
    shareable: bool = True,
    shared_by: str | None = None,
    questions: QuestionLog | None = None,
    judge: SubjectJudge | None = None,
) -> dict:
    """The message answering `text` from result `offset + 1`: results, the newest articles (`latest`,
    or filters alone), a way forward, or the query's problem; with `judge`, nothing for a question
    off its subject, saying so.

    A first page of results is recorded in `questions`, with whether anything was found."""
    try:
        found = ask(index, text, limit=PAGE_SIZE, offset=offset, judge=judge)
    except QueryError as error:
        return problem_message(str(error))
    except Exception:
        log.exception("Search failed for %r", text)
        return problem_message(SEARCH_FAILED)
    if found.latest is not None:
        return latest_message(found.latest, found.query)
    if questions is not None and not offset:
        record_question(questions, found.query, bool(found.hits))
    if not found.hits:
        if offset and not found.off_subject:
            return no_more_results_message(found.query)
        return no_results_message(found.query, found.off_subject)
    return answer_message(
        found.query,
        found.hits,
        offset=offset,
        has_more=found.more,
        shareable=shareable,
        shared_by=shared_by,
    )


def record_question(questions: QuestionLog, query: str, answered: bool) -> None:
    """Keep the question for the report; a store that fails here costs the user nothing."""
    try:
        questions.record_question(query, answered)
    except Exception:
        log.exception("Could not record the question %r", query)


def reply_to_command(
    index: SearchIndex,
    text: str,
    command: str,
    sources: NewsSources | None = None,
    channels: ChannelWatches | None = None,
    *,
    channel: str = "",
    user: str = "",
    timezone_of: Callable[[str], str | None] = lambda user: None,
    questions: QuestionLog | None = None,
    judge: SubjectJudge | None = None,
) -> dict:
    if is_help(text):
        return usage_message(command)
    reply = source_reply(sources, text, command) if sources is not None else None
    if reply is None and channels is not None and channel:
        reply = watch_reply(
            channels, text, channel=channel, user=user, command=command, timezone_of=timezone_of
        )
    return reply or find_answer(index, text, questions=questions, judge=judge)


def reply_to_question(
    index: SearchIndex,
    question: str,
    command: str,
    questions: QuestionLog | None = None,
    judge: SubjectJudge | None = None,
) -> dict:
    if is_help(question):
        return usage_message(command)
    return find_answer(index, question, shareable=False, questions=questions, judge=judge)
