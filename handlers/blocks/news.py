"""Block Kit for news: lists of articles (`latest`), announcements, story replies and digests; pure
functions of articles and citations, tested by structure.

An announcement (or a story reply) carries its article id twice (message metadata and the header's
block_id), and a digest the end of its period in its metadata, so that after a crash between
posting and recording, the channel's history tells whether it went out (bot/posting/slack_posts.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from handlers.blocks.common import (
    MAX_HEADER_CHARS,
    context,
    describe_date,
    escape_mrkdwn,
    link,
    message,
    plain_text,
    render_announcement,
    render_story_reply,
    section,
)
from search import Article, Citation

METADATA_EVENT = "mistral_news_announcement"
DIGEST_EVENT = "mistral_news_digest"


def article_line(citation: Citation) -> str:
    """The title as a link to the article (a file: its name), then its outlet and date."""
    title = link(citation.url, citation.title or "Untitled article")
    where = escape_mrkdwn(citation.outlet or citation.source)
    return f"{title} · {where} · {describe_date(citation)}"


def latest_message(citations: Sequence[Citation], query: str) -> dict:
    """The newest articles (matching `query` when there is one), newest first; or that there are none."""
    heading = f"Latest on “{query}”" if query else "Latest news"
    if not citations:
        text = f"No article matches “{escape_mrkdwn(query)}” yet." if query else "No article yet."
        return message(text, [section(text)])
    blocks = [{"type": "header", "text": plain_text(heading, MAX_HEADER_CHARS)}]
    blocks += [section(f"*{rank}.* {article_line(c)}") for rank, c in enumerate(citations, start=1)]
    blocks.append(context("Newest first. Narrow it with words or filters, e.g. `latest funding lang:fr`."))
    fallback = "\n".join(
        f"{rank}. {c.title} ({describe_date(c)})" for rank, c in enumerate(citations, start=1)
    )
    return message(escape_mrkdwn(f"{heading}:\n{fallback}"), blocks)


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


def period_digest_message(
    stories: Sequence[tuple[Citation, Sequence[str], str]], heading: str, period_end: float
) -> dict:
    """`digest_message`, with the end of its period in the metadata."""
    message = digest_message(stories, heading)
    message["metadata"] = {"event_type": DIGEST_EVENT, "event_payload": {"period_end": period_end}}
    return message


def digest_message(stories: Sequence[tuple[Citation, Sequence[str], str]], heading: str) -> dict:
    """The period's stories, most reported first: (first article, its outlets, a one-sentence summary)."""
    blocks = [{"type": "header", "text": plain_text(heading, MAX_HEADER_CHARS)}]
    lines = []
    for rank, (citation, outlets, summary) in enumerate(stories, start=1):
        title = link(citation.url, citation.title or "Untitled article")
        blocks.append(section(f"*{rank}.* {title}\n{escape_mrkdwn(summary)}"))
        count = f"{len(outlets)} outlets" if len(outlets) > 1 else "1 outlet"
        names = ", ".join(escape_mrkdwn(name) for name in outlets)
        blocks.append(context(f"{count}: {names} · {describe_date(citation)}"))
        lines.append(f"{rank}. {citation.title} ({count})")
    return message(escape_mrkdwn(f"{heading}\n" + "\n".join(lines)), blocks)
