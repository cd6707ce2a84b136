"""The App Home tab: newest stories, feeds, and the watches and digests of the user's channels, each
with its button. A pure function of plain data, tested by structure."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from handlers.blocks.common import MAX_BLOCKS, button, context, escape_mrkdwn, plain_text, section
from handlers.blocks.news import article_line
from search import Citation

HOME_UNWATCH_ACTION = "home_unwatch"
HOME_DIGEST_OFF_ACTION = "home_digest_off"
MAX_HOME_CHANNELS = 10
_CHANNEL_ID_RE = re.compile(r"^[CG][A-Z0-9]{2,20}$")


@dataclass(frozen=True)
class ChannelNews:
    """What one channel follows, as the home tab shows it."""

    channel: str
    watches: tuple[str, ...]
    digest: str | None
    paused: str | None


def channel_name(channel: str) -> str:
    """A channel link for a real channel id; the escaped text otherwise."""
    return f"<#{channel}>" if _CHANNEL_ID_RE.match(channel) else escape_mrkdwn(channel)


def unwatch_value(channel: str, words: str) -> str:
    return json.dumps({"channel": channel, "words": words}, ensure_ascii=False)


def read_unwatch_value(value: str) -> tuple[str, str]:
    """(channel, words) from a home Remove button; ValueError when it is not one."""
    data = json.loads(value)
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("channel"), str)
        or not isinstance(data.get("words"), str)
    ):
        raise ValueError(value)
    return data["channel"], data["words"]


def home_view(stories: Sequence[Citation], feeds: str, channels: Sequence[ChannelNews], command: str) -> dict:
    """The home tab view for views.publish."""
    command = escape_mrkdwn(command)
    blocks: list[dict] = [{"type": "header", "text": plain_text("Newest stories", 150)}]
    if stories:
        blocks += [section(f"*{rank}.* {article_line(c)}") for rank, c in enumerate(stories, start=1)]
    else:
        blocks.append(section("No article yet."))
    blocks += [{"type": "divider"}, {"type": "header", "text": plain_text("Your channels", 150)}]
    if not channels:
        blocks.append(
            section(f"None of your channels follows the news yet: run `{command} watch WORDS` in one.")
        )
    for news in channels[:MAX_HOME_CHANNELS]:
        state = " (paused: I was removed from it)" if news.paused else ""
        digest = f"digest {escape_mrkdwn(news.digest)}" if news.digest else "no digest"
        row = section(f"*{channel_name(news.channel)}*{state}: {digest}")
        if news.digest:
            row["accessory"] = button("Stop digest", HOME_DIGEST_OFF_ACTION, news.channel, style="danger")
        blocks.append(row)
        for words in news.watches:
            if len(blocks) >= MAX_BLOCKS - 4:
                break
            watch = section(f"watches `{escape_mrkdwn(words)}`")
            watch["accessory"] = button("Remove", HOME_UNWATCH_ACTION, unwatch_value(news.channel, words))
            blocks.append(watch)
    blocks += [
        {"type": "divider"},
        {"type": "header", "text": plain_text("Feeds", 150)},
        section(escape_mrkdwn(feeds or "No feed yet.")),
    ]
    blocks.append(context(f"`{command} help` shows every command."))
    return {"type": "home", "blocks": blocks[:MAX_BLOCKS]}
