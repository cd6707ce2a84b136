"""Checks every message the app builds against Block Kit (slack_sdk's models) and Slack's limits."""

from __future__ import annotations

import json

from slack_sdk.models.blocks import Block

from handlers.blocks.common import (
    MAX_BLOCKS,
    MAX_BUTTON_TEXT_CHARS,
    MAX_BUTTON_VALUE_CHARS,
    MAX_FALLBACK_CHARS,
    MAX_HEADER_CHARS,
    MAX_SECTION_CHARS,
)

BROADCASTS = ("<!channel", "<!here", "<!everyone", "<!subteam")


def assert_valid_message(message: dict) -> None:
    """A message Slack accepts: valid blocks within the limits, a text fallback, no link_names."""
    assert "link_names" not in message
    text = message.get("text")
    assert isinstance(text, str) and text.strip(), "every message needs a text fallback"
    assert len(text) <= MAX_FALLBACK_CHARS
    blocks = message.get("blocks") or []
    assert 0 < len(blocks) <= MAX_BLOCKS
    for block in blocks:
        assert_valid_block(block)


def assert_valid_block(block: dict) -> None:
    parsed = Block.parse(block)
    assert parsed is not None, f"not a Block Kit block: {block}"
    parsed.validate_json()
    assert parsed.to_dict()["type"] == block["type"]
    if block["type"] == "header":
        assert len(block["text"]["text"]) <= MAX_HEADER_CHARS
        assert block["text"]["type"] == "plain_text"
    if block["type"] == "section":
        assert len(block["text"]["text"]) <= MAX_SECTION_CHARS
    for element in block.get("elements", []):
        if element.get("type") == "button":
            assert len(element["text"]["text"]) <= MAX_BUTTON_TEXT_CHARS
            assert len(element["value"]) <= MAX_BUTTON_VALUE_CHARS
        elif "text" in element:
            assert len(element["text"]) <= MAX_SECTION_CHARS


def assert_no_broadcast(sent: object) -> None:
    """Nothing in `sent` (any JSON-able data) can ping a channel or forge a mention or link."""
    dumped = json.dumps(sent, ensure_ascii=False)
    for marker in BROADCASTS:
        assert marker not in dumped, f"{marker!r} in {dumped[:300]}"
