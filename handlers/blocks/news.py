"""Block Kit for lists of articles (`latest`): pure functions of citations, tested by structure."""

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
    section,
)
from search import Citation


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
