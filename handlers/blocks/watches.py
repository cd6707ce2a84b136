"""Block Kit for a channel's watches: pure functions of plain data, tested by structure."""

from __future__ import annotations

from collections.abc import Sequence

from handlers.blocks.common import MAX_BLOCKS, button, context, escape_mrkdwn, message, section

UNWATCH_ACTION = "unwatch"
GONE_REASONS = {
    "channel_not_found": "this channel could not be found",
    "not_in_channel": "I was removed from this channel",
    "is_archived": "this channel was archived",
}


def paused_text(reason: str, command: str) -> str:
    why = GONE_REASONS.get(reason, escape_mrkdwn(reason))
    return (
        f":double_vertical_bar: Paused: Slack refused my last post here ({why}), so I post nothing here. "
        f"Invite me again (`/invite @Mistral News`), then add a watch with `{escape_mrkdwn(command)} watch WORDS` "
        "to resume them all."
    )


def watches_message(watches: Sequence[str], paused_reason: str | None, command: str) -> dict:
    """The channel's watches, each with a button to remove it, and why they are paused if they are."""
    command = escape_mrkdwn(command)
    blocks: list[dict] = []
    if paused_reason:
        blocks.append(section(paused_text(paused_reason, command)))
    if not watches:
        text = f"This channel watches nothing yet. Use `{command} watch WORDS`, e.g. `{command} watch Mistral funding`."
        blocks.append(section(text))
        return message(text, blocks)
    blocks.append(
        section(f"*This channel watches {len(watches)} {'query' if len(watches) == 1 else 'queries'}:*")
    )
    for words in watches[: MAX_BLOCKS - 3]:
        row = section(f"`{escape_mrkdwn(words)}`")
        row["accessory"] = button("Remove", UNWATCH_ACTION, words)
        blocks.append(row)
    blocks.append(
        context(
            f"New articles matching one of them are posted here, one post per story. `{command} unwatch WORDS` removes one."
        )
    )
    paused = "Paused here. " if paused_reason else ""
    return message(f"{paused}This channel watches {len(watches)} queries", blocks)


def watch_added_message(words: str, added: bool, command: str) -> dict:
    shown = escape_mrkdwn(words)
    if added:
        text = (
            f":eyes: Watching `{shown}` here: each new article that matches it will be posted in this channel "
            f"(articles already here before are not). `{escape_mrkdwn(command)} watches` lists them."
        )
    else:
        text = f"This channel already watches `{shown}`."
    return message(text, [section(text)])


def watch_removed_message(words: str, removed: bool, command: str) -> dict:
    shown = escape_mrkdwn(words)
    if removed:
        text = f"Stopped watching `{shown}` here."
    else:
        text = f"This channel does not watch `{shown}`: `{escape_mrkdwn(command)} watches` lists what it watches."
    return message(text, [section(text)])
