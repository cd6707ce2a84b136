"""Posting news in a channel: the Slack calls (post, edit, find in the history), with the messages
built in handlers/blocks/news.py, which says how a post is found again after a crash."""

from __future__ import annotations

from slack_sdk import WebClient

from handlers.blocks.common import announcement_block_id
from handlers.blocks.news import DIGEST_EVENT, METADATA_EVENT

HISTORY_LIMIT = 200


def post_announcement(client: WebClient, channel: str, message: dict, thread_ts: str | None = None) -> str:
    """Post `message` in `channel` (in the thread of `thread_ts`) without link previews; its ts.
    Slack errors propagate to the caller."""
    if thread_ts:
        message = {**message, "thread_ts": thread_ts}
    response = client.chat_postMessage(channel=channel, unfurl_links=False, unfurl_media=False, **message)
    return response.get("ts") or ""


def update_announcement(client: WebClient, channel: str, ts: str, message: dict) -> str:
    """Replace the announcement posted at `ts` (e.g. to name other outlets of its story); `ts`."""
    client.chat_update(channel=channel, ts=ts, **message)
    return ts


def find_announcement(client: WebClient, channel: str, article_id: str) -> str | None:
    """The ts of `article_id`'s announcement among the channel's recent messages, or None.

    Raises the client's errors when the history cannot be read (it needs channels:history).
    """
    history = client.conversations_history(channel=channel, limit=HISTORY_LIMIT, include_all_metadata=True)
    return _ts_of(history.get("messages") or [], article_id)


def find_reply(client: WebClient, channel: str, thread_ts: str, article_id: str) -> str | None:
    """The ts of `article_id`'s reply in the thread of `thread_ts`, or None (see find_announcement)."""
    replies = client.conversations_replies(
        channel=channel, ts=thread_ts, limit=HISTORY_LIMIT, include_all_metadata=True
    )
    return _ts_of(replies.get("messages") or [], article_id)


def find_digest(client: WebClient, channel: str, period_end: float) -> str | None:
    """The ts of the digest of the period ending at `period_end` among the channel's recent messages, or None."""
    history = client.conversations_history(channel=channel, limit=HISTORY_LIMIT, include_all_metadata=True)
    for message in history.get("messages") or []:
        metadata = message.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        if metadata.get("event_type") == DIGEST_EVENT and payload.get("period_end") == period_end:
            return message.get("ts", "")
    return None


def _ts_of(messages: list[dict], article_id: str) -> str | None:
    for message in messages:
        if is_announcement_of(message, article_id):
            return message.get("ts", "")
    return None


def is_announcement_of(message: dict, article_id: str) -> bool:
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") == METADATA_EVENT:
        return (metadata.get("event_payload") or {}).get("article_id") == article_id
    return any(
        block.get("block_id") == announcement_block_id(article_id) for block in message.get("blocks") or []
    )
