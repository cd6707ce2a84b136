"""The announcement of a new article, as a Block Kit message (pure: no Slack calls here).

Every piece of article text is escaped for mrkdwn, so an article cannot ping @channel, mention a
user or smuggle a link; every text is cut to Slack's limits.
"""

from __future__ import annotations

from collections.abc import Sequence

from handlers.blocks import (
    MAX_HEADER_CHARS,
    MORE_ACTION,
    button,
    button_value,
    context,
    escape_mrkdwn,
    message,
    plain_text,
    section,
)
from search import Citation

ANNOUNCEMENT_BLOCK_PREFIX = "announcement:"
MAX_RELATED = 3
QUERY_CHARS = 200
LANGUAGE_NAMES = {"en": "English", "fr": "French"}


def announcement_block_id(article_id: str) -> str:
    """The first block's id: lets a message be recognised as this article's announcement."""
    return ANNOUNCEMENT_BLOCK_PREFIX + article_id


def render_announcement(article: Citation, summary: str, related: Sequence[Citation] = ()) -> dict:
    """`{"text", "blocks"}` announcing `article`: title, date, language, summary, related articles, a button."""
    blocks = [
        {
            "type": "header",
            "block_id": announcement_block_id(article.article_id),
            "text": plain_text(article.title or "Untitled article", MAX_HEADER_CHARS),
        },
        context(
            f"{describe_date(article)} · {LANGUAGE_NAMES.get(article.language, article.language)}"
            f" · source: {escape_mrkdwn(article.source)}"
        ),
        section(
            escape_mrkdwn(summary) if summary.strip() else "_No summary: the article has no text to quote._"
        ),
    ]
    if related:
        blocks.append(section(related_text(related[:MAX_RELATED])))
    blocks.append(
        {
            "type": "actions",
            "elements": [button("More like this", MORE_ACTION, button_value(article.title[:QUERY_CHARS], 0))],
        }
    )
    return message(f"New article: {escape_mrkdwn(article.title)}", blocks)


def describe_date(citation: Citation) -> str:
    return citation.date.isoformat() if citation.date else "undated"


def related_text(related: Sequence[Citation]) -> str:
    lines = [f"• {escape_mrkdwn(c.title)} ({describe_date(c)})" for c in related]
    return "*Related articles*\n" + "\n".join(lines)
