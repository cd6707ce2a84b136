"""Announcing a new article in a channel: the Slack calls, with the message built in handlers/blocks/common.py.

An announcement carries its article id twice (message metadata and the header's block_id), so that
after a crash between posting and recording, the channel's history tells whether it went out.
"""

from __future__ import annotations

from slack_sdk import WebClient

from handlers.blocks.common import announcement_block_id, render_announcement, render_story_reply
from search import Article, Citation

METADATA_EVENT = "mistral_news_announcement"
DIGEST_EVENT = "mistral_news_digest"
HISTORY_LIMIT = 200


def announcement_message(
    article: Article, summary: str, related: list[Citation], also_reported: list[str] | None = None
) -> dict:
    """The message announcing `article`, with its id in the metadata."""
    message = render_announcement(article.citation, summary, related, also_reported or ())
    message["metadata"] = {"event_type": METADATA_EVENT, "event_payload": {"article_id": article.id}}
    return message


def story_reply_message(article: Article, summary: str) -> dict:
    """The reply announcing a later article of a story in its first post's thread, with its id."""
    message = render_story_reply(article.citation, summary)
    message["metadata"] = {"event_type": METADATA_EVENT, "event_payload": {"article_id": article.id}}
    return message


def post_announcement(client: WebClient, channel: str, message: dict, thread_ts: str | None = None) -> str:
    """Post `message` in `channel` (in the thread of `thread_ts`) without link previews; its ts.
    Slack errors propagate to the caller."""
    if thread_ts:
        message = {**message, "thread_ts": thread_ts}
    response = client.chat_postMessage(channel=channel, unfurl_links=False, unfurl_media=False, **message)
    return response.get("ts") or ""


def update_announcement(client: WebClient, channel: str, ts: str, message: dict) -> None:
    """Replace the announcement posted at `ts` (e.g. to name other outlets of its story)."""
    client.chat_update(channel=channel, ts=ts, **message)


def find_announcement(client: WebClient, channel: str, article_id: str) -> str | None:
    """The ts of `article_id`'s announcement among the channel's recent messages, or None.

    Raises the client's errors when the history cannot be read (it needs channels:history).
    """
    history = client.conversations_history(channel=channel, limit=HISTORY_LIMIT, include_all_metadata=True)
    for message in history.get("messages") or []:
        if is_announcement_of(message, article_id):
            return message.get("ts", "")
    return None


def find_reply(client: WebClient, channel: str, thread_ts: str, article_id: str) -> str | None:
    """The ts of `article_id`'s reply in the thread of `thread_ts`, or None (see find_announcement)."""
    replies = client.conversations_replies(
        channel=channel, ts=thread_ts, limit=HISTORY_LIMIT, include_all_metadata=True
    )
    for message in replies.get("messages") or []:
        if is_announcement_of(message, article_id):
            return message.get("ts", "")
    return None


def find_digest(client: WebClient, channel: str, period_end: float) -> bool:
    """Whether the digest of the period ending at `period_end` is among the channel's recent messages."""
    history = client.conversations_history(channel=channel, limit=HISTORY_LIMIT, include_all_metadata=True)
    for message in history.get("messages") or []:
        metadata = message.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        if metadata.get("event_type") == DIGEST_EVENT and payload.get("period_end") == period_end:
            return True
    return False


def is_announcement_of(message: dict, article_id: str) -> bool:
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") == METADATA_EVENT:
        return (metadata.get("event_payload") or {}).get("article_id") == article_id
    return any(
        block.get("block_id") == announcement_block_id(article_id) for block in message.get("blocks") or []
    )
