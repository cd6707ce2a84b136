"""The channel commands (`watch WORDS`, `watches`, `unwatch WORDS`, `digest ...`): their answers, without
Slack calls."""

from __future__ import annotations

import re
from collections.abc import Callable

from handlers.blocks.common import news_message, problem_message
from handlers.blocks.watches import watch_added_message, watch_removed_message, watches_message
from handlers.context import ChannelWatches
from search import QueryError, clean_query
from search.query import FILTER_HELP, parse_query

MAX_WATCHES = 20
DIGEST_USAGE = "Use `digest daily HH:MM`, `digest weekly DAY HH:MM` (your timezone) or `digest off`."
_WATCH_RE = re.compile(r"^(watch|unwatch)(?:\s+(.*))?$", re.IGNORECASE | re.DOTALL)
_WATCHES_RE = re.compile(r"^watch(?:es|ing)$", re.IGNORECASE)
_DIGEST_RE = re.compile(r"^digest(?:\s+(.*))?$", re.IGNORECASE | re.DOTALL)
_MARKUP_RE = re.compile(r"<[^<>]*>")


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


def digest_reply(
    channels: ChannelWatches, words: str, *, channel: str, user: str, timezone: str | None
) -> dict:
    """`digest daily HH:MM`, `digest weekly DAY HH:MM`, `digest off`, or `digest` (what is set here)."""
    words = " ".join(words.split())
    if not words:
        current = channels.digest_of(channel)
        text = f"This channel gets a digest {current}." if current else "This channel gets no digest."
        return news_message(f"{text} {DIGEST_USAGE}")
    if words.lower() in ("off", "stop", "none"):
        removed = channels.remove_digest(channel)
        return news_message("No more digests here." if removed else "This channel had no digest.")
    try:
        said = channels.set_digest(channel, words, user, timezone or "UTC")
    except ValueError as error:
        return problem_message(str(error))
    zone_note = "" if timezone else " (Slack did not tell me your timezone, so UTC)"
    return news_message(
        f"Digest set: {said}{zone_note}. It lists the period's stories, most reported first; "
        "nothing is sent when there is no news."
    )


def watch_reply(
    channels: ChannelWatches,
    text: str,
    *,
    channel: str,
    user: str,
    command: str,
    timezone_of: Callable[[str], str | None] = lambda user: None,
) -> dict | None:
    """The answer to a watch or digest command in `channel`; None when `text` is neither."""
    text = text.strip()
    if digest := _DIGEST_RE.match(text):
        return digest_reply(
            channels, digest.group(1) or "", channel=channel, user=user, timezone=timezone_of(user)
        )
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
