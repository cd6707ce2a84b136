"""The source commands (`add URL [anyway]`, `feeds`, `feed add|remove URL`): their answers, without Slack
calls. `add URL anyway` adds an article the subject judge found off-subject."""

from __future__ import annotations

import re

from handlers.blocks.common import news_message, problem_message
from handlers.context import NewsSources

# Slack may send a link as <https://...> or <https://...|label>.
_URL = r"<?(https?://[^\s<>|]+)(?:\|[^>]*)?>?"
_ADD_RE = re.compile(rf"^add\s+{_URL}(\s+anyway)?$", re.IGNORECASE)
_FEEDS_RE = re.compile(r"^feeds?$", re.IGNORECASE)
_FEED_RE = re.compile(rf"^feeds?\s+(add|remove)\s+{_URL}$", re.IGNORECASE)
_FEED_ACTION_RE = re.compile(r"^feeds?\s+(add|remove)\b", re.IGNORECASE)
_ADD_LINK_RE = re.compile(r"^add\s+<?https?:", re.IGNORECASE)
FEED_USAGE = "Use `{command} feeds`, `{command} feed add URL` or `{command} feed remove URL`."


def source_reply(sources: NewsSources, text: str, command: str) -> dict | None:
    """The answer to a source command (`add URL`, `feeds`, `feed add|remove URL`); None for a search."""
    text = text.strip()
    if match := _ADD_RE.match(text):
        ok, said = sources.add_link(
            match.group(1),
            public_only=True,
            anyway=bool(match.group(2)),
            anyway_command=f"{command} add {{url}} anyway",
        )
    elif _FEEDS_RE.match(text):
        return news_message(sources.feeds_text(f"{command} feed add URL"))
    elif match := _FEED_RE.match(text):
        action, url = match.group(1).lower(), match.group(2)
        if action == "add":
            ok, said = sources.add_feed(url, origin="slack")
        else:
            ok, said = sources.remove_feed(url)
    elif _FEED_ACTION_RE.match(text):
        return problem_message(FEED_USAGE.format(command=command))
    elif _ADD_LINK_RE.match(text):
        return problem_message(
            f"Give one link to add, e.g. `{command} add https://example.com/news/article.html`."
        )
    else:
        return None
    return news_message(said) if ok else problem_message(said)
