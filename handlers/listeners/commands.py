"""The slash command (/mistral by default): a private answer with buttons to share it or see more."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.stores.answer_queue import Question
from handlers.blocks.common import (
    PAGE_SIZE,
    answer_message,
    news_message,
    no_more_results_message,
    no_results_message,
    problem_message,
    usage_message,
)
from handlers.blocks.news import latest_message
from handlers.context import ChannelWatches, Dependencies, NewsSources, QuestionLog, dependencies_of
from handlers.questions import answer, asked, command_question, recording
from handlers.watches import watch_reply
from search import QueryError, SearchIndex
from search.asking import ask

log = logging.getLogger(__name__)
SEARCH_FAILED = "Sorry, the search failed on my side; the error is logged. Please try again or rephrase."
HELP_WORDS = frozenset({"", "help", "?", "-h", "--help", "aide"})


def is_help(text: str) -> bool:
    return text.strip().lower() in HELP_WORDS


# Slack may send a link as <https://...> or <https://...|label>.
_URL = r"<?(https?://[^\s<>|]+)(?:\|[^>]*)?>?"
_ADD_RE = re.compile(rf"^add\s+{_URL}$", re.IGNORECASE)
_FEEDS_RE = re.compile(r"^feeds?$", re.IGNORECASE)
_FEED_RE = re.compile(rf"^feeds?\s+(add|remove)\s+{_URL}$", re.IGNORECASE)
_FEED_ACTION_RE = re.compile(r"^feeds?\s+(add|remove)\b", re.IGNORECASE)
_ADD_LINK_RE = re.compile(r"^add\s+<?https?:", re.IGNORECASE)
FEED_USAGE = "Use `{command} feeds`, `{command} feed add URL` or `{command} feed remove URL`."


def source_reply(sources: NewsSources, text: str, command: str) -> dict | None:
    """The answer to a source command (`add URL`, `feeds`, `feed add|remove URL`); None for a search."""
    text = text.strip()
    if match := _ADD_RE.match(text):
        ok, said = sources.add_link(match.group(1), public_only=True)
    elif _FEEDS_RE.match(text):
        return news_message(sources.feeds_text(f"{command} feed add URL"))
    elif match := _FEED_RE.match(text):
        action, url = match.group(1).lower(), match.group(2)
        if action == "add":
            ok, said = sources.add_feed(url, origin="slack")
        else:
            ok, said = sources.remove_feed(url)
    elif _FEED_ACTION_RE.match(text):
        return problem_message(FEED_USAGE.format(command=command))
    elif _ADD_LINK_RE.match(text):
        return problem_message(
            f"Give one link to add, e.g. `{command} add https://example.com/news/article.html`."
        )
    else:
        return None
    return news_message(said) if ok else problem_message(said)


def find_answer(
    index: SearchIndex,
    text: str,
    *,
    offset: int = 0,
    shareable: bool = True,
    shared_by: str | None = None,
    questions: QuestionLog | None = None,
) -> dict:
    """The message answering `text` from result `offset + 1`: results, the newest articles (`latest`,
    or filters alone), a way forward, or the query's problem.

    A first page of results is recorded in `questions`, with whether anything was found."""
    try:
        found = ask(index, text, limit=PAGE_SIZE, offset=offset)
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
        return no_more_results_message(found.query) if offset else no_results_message(found.query)
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


def user_timezone(client: WebClient, user: str) -> str | None:
    """The user's timezone (e.g. Europe/Paris) from users.info (needs users:read); None when unknown."""
    try:
        profile = client.users_info(user=user).get("user") or {}
    except (SlackApiError, SlackClientError, OSError) as error:
        log.warning("Could not read %s's timezone: %s", user, error)
        return None
    timezone = profile.get("tz")
    return timezone if isinstance(timezone, str) and timezone else None


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
) -> dict:
    if is_help(text):
        return usage_message(command)
    reply = source_reply(sources, text, command) if sources is not None else None
    if reply is None and channels is not None and channel:
        reply = watch_reply(
            channels, text, channel=channel, user=user, command=command, timezone_of=timezone_of
        )
    return reply or find_answer(index, text, questions=questions)


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
