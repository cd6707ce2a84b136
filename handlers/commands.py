"""The slash command (/mistral by default): a private answer with buttons to share it or see more."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from slack_bolt import Ack, App
from slack_sdk import WebClient

from handlers.blocks import (
    PAGE_SIZE,
    answer_message,
    no_more_results_message,
    no_results_message,
    problem_message,
    usage_message,
)
from handlers.slack_client import apologize, respond_or_log
from search import QueryError, SearchIndex, clean_query

log = logging.getLogger(__name__)
SEARCH_FAILED = "Sorry, the search failed on my side; the error is logged. Please try again or rephrase."
HELP_WORDS = frozenset({"", "help", "?", "-h", "--help", "aide"})


def is_help(text: str) -> bool:
    return text.strip().lower() in HELP_WORDS


_MARKUP_RE = re.compile(r"<[^<>]*>")


def search_words(query: str) -> str:
    """The query without Slack's markup: a mention (`<@U123>`, `<!channel>`) or a link (`<url|label>`) is
    not a word of the question, and must not count as an unknown one in the "nothing found" test."""
    return " ".join(_MARKUP_RE.sub(" ", query).split())


def find_answer(
    index: SearchIndex, text: str, *, offset: int = 0, shareable: bool = True, shared_by: str | None = None
) -> dict:
    """The message answering `text` from result `offset + 1`: results, a way forward, or the query's problem."""
    try:
        query = clean_query(text)
    except QueryError as error:
        return problem_message(str(error))
    words = search_words(query)
    if not words:
        return no_more_results_message(query) if offset else no_results_message(query)
    try:
        hits = index.search(words, limit=offset + PAGE_SIZE + 1)
    except Exception:
        log.exception("Search failed for %r", query)
        return problem_message(SEARCH_FAILED)
    page = hits[offset : offset + PAGE_SIZE]
    if not page:
        return no_more_results_message(query) if offset else no_results_message(query)
    return answer_message(
        query,
        page,
        offset=offset,
        has_more=len(hits) > offset + PAGE_SIZE,
        shareable=shareable,
        shared_by=shared_by,
    )


def reply_to_command(index: SearchIndex, text: str, command: str) -> dict:
    return usage_message(command) if is_help(text) else find_answer(index, text)


def answer_command(
    ack: Ack,
    body: dict,
    respond: Callable,
    client: WebClient,
    logger: logging.Logger,
    *,
    index: SearchIndex,
    command: str,
) -> None:
    """Acknowledge at once (Slack allows 3 s), then answer privately through the response_url."""
    ack()
    reply = reply_to_command(index, body.get("text", ""), command)
    delivered = respond_or_log(respond, logger, reply, response_type="ephemeral")
    if not delivered and body.get("channel_id") and body.get("user_id"):
        apologize(client, logger, channel=body["channel_id"], user=body["user_id"])


def register(app: App, index: SearchIndex, *, command: str = "/mistral") -> None:
    def on_command(
        ack: Ack, body: dict, respond: Callable, client: WebClient, logger: logging.Logger
    ) -> None:
        answer_command(ack, body, respond, client, logger, index=index, command=command)

    app.command(command)(on_command)
