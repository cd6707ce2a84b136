"""The watch commands (`watch WORDS`, `watches`, `unwatch WORDS`): what they answer, without Slack calls."""

from __future__ import annotations

import re
from typing import Protocol

from handlers.blocks import problem_message
from handlers.watch_blocks import watch_added_message, watch_removed_message, watches_message
from search import QueryError, clean_query
from search.filters import FILTER_HELP, parse_query

MAX_WATCHES = 20
_WATCH_RE = re.compile(r"^(watch|unwatch)(?:\s+(.*))?$", re.IGNORECASE | re.DOTALL)
_WATCHES_RE = re.compile(r"^watch(?:es|ing)$", re.IGNORECASE)
_MARKUP_RE = re.compile(r"<[^<>]*>")


class ChannelWatches(Protocol):
    """What the commands do with a channel's watches (bot/channel_store.py implements it)."""

    def add_watch(self, channel: str, words: str, user: str) -> bool: ...
    def remove_watch(self, channel: str, words: str) -> bool: ...
    def watches(self, channel: str) -> list: ...
    def paused_reason(self, channel: str) -> str | None: ...


def watch_words(text: str) -> str:
    """The words of a watch as kept: Slack's markup out, control characters and spaces squeezed, lower
    case; QueryError when empty, too long, or with a filter that cannot be read."""
    words = clean_query(_MARKUP_RE.sub(" ", text)).lower()
    parsed = parse_query(words)
    if not parsed.words and not parsed.filters:
        raise QueryError("Give the words to watch, e.g. `watch Mistral funding`. " + FILTER_HELP)
    return words


def list_watches(channels: ChannelWatches, channel: str, command: str) -> dict:
    words = [watch.words for watch in channels.watches(channel)]
    return watches_message(words, channels.paused_reason(channel), command)


def watch_reply(channels: ChannelWatches, text: str, *, channel: str, user: str, command: str) -> dict | None:
    """The answer to a watch command in `channel`; None when `text` is no watch command."""
    text = text.strip()
    if _WATCHES_RE.match(text):
        return list_watches(channels, channel, command)
    match = _WATCH_RE.match(text)
    if not match:
        return None
    action = match.group(1).lower()
    try:
        words = watch_words(match.group(2) or "")
    except QueryError as error:
        return problem_message(str(error))
    if action == "unwatch":
        return watch_removed_message(words, channels.remove_watch(channel, words), command)
    if len(channels.watches(channel)) >= MAX_WATCHES:
        return problem_message(
            f"This channel has {MAX_WATCHES} watches, the most it can have: remove one first ({command} watches)."
        )
    return watch_added_message(words, channels.add_watch(channel, words, user), command)
