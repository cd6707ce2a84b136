"""Every message the app sends, built as Block Kit by pure functions (no Slack calls here).

All user and article text goes through `escape_mrkdwn`, so it can neither mention anyone nor forge a
link, and every text is cut to Slack's limits with an ellipsis.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from search import Citation, Hit

PAGE_SIZE = 3
MAX_PAGES = 10
MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
MAX_CONTEXT_CHARS = 3000
MAX_HEADER_CHARS = 150
MAX_BUTTON_TEXT_CHARS = 75
MAX_BUTTON_VALUE_CHARS = 2000
MAX_FALLBACK_CHARS = 3000
ELLIPSIS = "…"

SHARE_ACTION = "share_answer"
MORE_ACTION = "more_results"

_USER_ID_RE = re.compile(r"^[UW][A-Z0-9]{2,}$")
_OPEN_ENTITY_RE = re.compile(r"&[a-z]{0,4}$")


def escape_mrkdwn(text: str) -> str:
    """Text shown as is: no @channel, no user mention, no link can come out of it."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str | None, text: str) -> str:
    """`text` (escaped) as a link to `url`, or just the escaped text when `url` is not an http(s) URL.

    The URL is escaped as Slack wants, and a `|` or `>` in it cannot end the link early: nothing from
    a page can forge a link or mention anyone.
    """
    shown = escape_mrkdwn(text)
    if not url or not url.startswith(("http://", "https://")) or any(c.isspace() for c in url):
        return shown
    safe = escape_mrkdwn(url).replace("|", "%7C")
    return f"<{safe}|{shown}>" if shown else f"<{safe}>"


def unescape_mrkdwn(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def cut(text: str, limit: int, *, bold_marks: bool = True) -> str:
    """`text` within `limit` characters, cut at a word with an ellipsis.

    Never inside an entity such as `&amp;`, and (with `bold_marks`) never leaving a `*` unclosed.
    """
    if len(text) <= limit:
        return text
    kept = text[: limit - len(ELLIPSIS)]
    space = kept.rfind(" ", limit // 2)
    if space > 0:
        kept = kept[:space]
    kept = _OPEN_ENTITY_RE.sub("", kept)
    if bold_marks and kept.count("*") % 2:
        last = kept.rfind("*")
        kept = kept[:last] + kept[last + 1 :]
    return kept.rstrip() + ELLIPSIS


def plain_text(text: str, limit: int) -> dict:
    return {"type": "plain_text", "text": cut(escape_mrkdwn(text), limit, bold_marks=False), "emoji": False}


def mrkdwn(text: str, limit: int = MAX_SECTION_CHARS) -> dict:
    """A mrkdwn text object from text that is already escaped."""
    return {"type": "mrkdwn", "text": cut(text, limit)}


def section(text: str) -> dict:
    return {"type": "section", "text": mrkdwn(text)}


def context(text: str) -> dict:
    return {"type": "context", "elements": [mrkdwn(text, MAX_CONTEXT_CHARS)]}


def message(text: str, blocks: list[dict]) -> dict:
    """A message: blocks plus the plain `text` fallback for notifications and old clients."""
    if len(blocks) > MAX_BLOCKS:
        blocks = [*blocks[: MAX_BLOCKS - 1], context("Some results were left out to fit in one message.")]
    return {"text": cut(text, MAX_FALLBACK_CHARS), "blocks": blocks}


# -- answers --------------------------------------------------------------------------------------------


def answer_message(
    query: str,
    hits: Sequence[Hit],
    *,
    offset: int = 0,
    has_more: bool = False,
    shareable: bool = True,
    shared_by: str | None = None,
) -> dict:
    """The results `offset + 1` onwards for `query`: snippets with the query words in bold, each cited.

    `shareable` adds the "Share in channel" button (for private answers); `has_more` the "More
    results" one; `shared_by` (a user id) says who shared a public answer.
    """
    first, last = offset + 1, offset + len(hits)
    blocks = [{"type": "header", "text": plain_text(f"“{query}”", MAX_HEADER_CHARS)}]
    if shared_by is not None:
        blocks.append(context(f"Shared by {mention(shared_by)}"))
    for rank, hit in enumerate(hits, start=first):
        blocks.append(section(f"*{rank}.* {hit.snippet.marked('*', '*', escape=escape_mrkdwn)}"))
        blocks.append(context(f"[{rank}] {citation_text(hit)}"))
    buttons = answer_buttons(query, offset, shareable=shareable, has_more=has_more)
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    blocks.append(feedback_block(query))
    fallback = [f"Results {first}–{last} for “{query}”:"]
    fallback += [
        f"{rank}. {hit.snippet.text} [{citation_text_plain(hit)}]" for rank, hit in enumerate(hits, first)
    ]
    return message(escape_mrkdwn("\n".join(fallback)), blocks)


def citation_text_plain(hit: Hit) -> str:
    citation = hit.citation
    if citation.url:
        return f"{citation.title} · {citation.outlet or citation.source} · {describe_date(citation)} · {citation.url}"
    return f"{citation.title} · {describe_date(citation)} · {citation.source}"


def citation_text(hit: Hit) -> str:
    """The title as a link to the article, its outlet and date (a file: its name)."""
    citation = hit.citation
    if citation.url:
        outlet = escape_mrkdwn(citation.outlet or citation.source)
        return f"{link(citation.url, citation.title)} · {outlet} · {describe_date(citation)}"
    return escape_mrkdwn(citation_text_plain(hit))


def mention(user_id: str) -> str:
    """A mention of `user_id`, or the escaped text when it is not a user id."""
    return f"<@{user_id}>" if _USER_ID_RE.match(user_id) else escape_mrkdwn(user_id)


FEEDBACK_PREFIX = "feedback:"
FEEDBACK_CHOICES = (
    ("👍", "up"),
    ("👎 Wrong article", "wrong_article"),
    ("👎 Wrong language", "wrong_language"),
    ("👎 Outdated", "outdated"),
)


def feedback_block(query: str) -> dict:
    """👍, and 👎 with its reason, each a button carrying the question."""
    value = button_value(query, 0)
    return {
        "type": "actions",
        "block_id": "feedback",
        "elements": [button(label, FEEDBACK_PREFIX + choice, value) for label, choice in FEEDBACK_CHOICES],
    }


def feedback_thanks_message(vote: str) -> dict:
    text = "Thanks: noted." if vote == "up" else "Thanks: noted, the team will look at this question."
    return message(text, [context(text)])


def answer_buttons(query: str, offset: int, *, shareable: bool, has_more: bool) -> list[dict]:
    buttons = []
    if shareable:
        buttons.append(button("Share in channel", SHARE_ACTION, button_value(query, offset), style="primary"))
    if has_more:
        buttons.append(button("More results", MORE_ACTION, button_value(query, offset + PAGE_SIZE)))
    return buttons


def button(text: str, action_id: str, value: str, *, style: str | None = None) -> dict:
    element = {
        "type": "button",
        "text": plain_text(text, MAX_BUTTON_TEXT_CHARS),
        "action_id": action_id,
        "value": value,
    }
    if style:
        element["style"] = style
    return element


def button_value(query: str, offset: int) -> str:
    """The query (escaped, like all text we send) and the page's offset, within 2,000 characters."""
    query = escape_mrkdwn(query)
    value = _encode(query, offset)
    while len(value) > MAX_BUTTON_VALUE_CHARS:
        query = _OPEN_ENTITY_RE.sub("", query[: len(query) * 9 // 10])
        value = _encode(query, offset)
    return value


def _encode(query: str, offset: int) -> str:
    return json.dumps({"q": query, "o": offset}, ensure_ascii=False, separators=(",", ":"))


def read_button_value(value: str) -> tuple[str, int]:
    """The (query, offset) of a button value; ValueError when it is not one of ours."""
    try:
        data = json.loads(value)
        query, offset = data["q"], data["o"]
    except (ValueError, TypeError, KeyError) as error:
        raise ValueError(f"not an answer button value: {value[:50]!r}") from error
    if not isinstance(query, str) or not isinstance(offset, int) or not 0 <= offset < PAGE_SIZE * MAX_PAGES:
        raise ValueError(f"not an answer button value: {value[:50]!r}")
    return unescape_mrkdwn(query), offset


# -- other replies --------------------------------------------------------------------------------------


def no_results_message(query: str, off_subject: str | None = None) -> dict:
    """Nothing found; with `off_subject`, the question is not about the desk's subject, and why."""
    if off_subject:
        text = (
            f"Nothing found for “{escape_mrkdwn(query)}”: {escape_mrkdwn(off_subject)}. This desk follows "
            "only its subject's news; ask about it, e.g. `funding` or `Le Chat`."
        )
        return message(text, [section(text)])
    text = (
        f"Nothing found for “{escape_mrkdwn(query)}”. Try other words, a name (e.g. `Arthur Mensch`), "
        "a product (e.g. `Le Chat`), or fewer words."
    )
    return message(text, [section(text)])


def no_more_results_message(query: str) -> dict:
    text = f"There are no more results for “{escape_mrkdwn(query)}”. Try other words for more."
    return message(text, [section(text)])


def usage_message(command: str = "/mistral") -> dict:
    """How to ask, with examples for each way in."""
    command = escape_mrkdwn(command)
    text = (
        "*Ask me about Mistral AI news.* I answer with the best passages of the articles, each with its source.\n"
        f"• `{command} valuation` finds what the articles say about Mistral's valuation\n"
        f"• `{command} who founded Mistral?` works too: plain questions are fine\n"
        f"• `{command} Le Chat Microsoft` narrows it down with more words\n"
        "Answers to the command are private until you press *Share in channel*; *More results* shows the next ones.\n"
        "You can also mention me in a channel (I answer in the thread) or send me a direct message.\n"
        f"• `{command} add https://...` adds a news article from its link\n"
        f"• `{command} feeds` lists the feeds I follow; `{command} feed add URL` and `{command} feed remove URL` change them\n"
        f'• Filters: `{command} Microsoft lang:fr`, `source:OUTLET`, `after:2024-01-01`, `before:2024-07-01`, `"exact phrase"`\n'
        f"• `{command} latest [WORDS]` shows the newest articles first\n"
        f"• In a channel: `{command} watch WORDS` posts matching new articles there (`{command} watches`, "
        f"`{command} unwatch WORDS`); `{command} digest daily 08:30`, `digest weekly monday 09:00` or `digest off`"
    )
    return message(f"Ask me about Mistral AI news, e.g. {command} valuation", [section(text)])


def problem_message(problem: str) -> dict:
    """A problem the user can fix, such as an empty or over-long query."""
    text = f":warning: {escape_mrkdwn(problem)}"
    return message(text, [section(text)])


def news_message(text: str) -> dict:
    """A plain answer about sources (what was added, the feeds), shown as is."""
    text = escape_mrkdwn(text)
    return message(text, [section(text)])


def apology_message() -> dict:
    text = (
        "Sorry, I could not deliver that answer: Slack is busy or unreachable. Please try again in a minute."
    )
    return message(text, [section(text)])


def share_failed_message() -> dict:
    text = (
        "Sorry, I could not share that answer here. In a private channel, invite me first "
        "(`/invite @Mistral News`), then try again."
    )
    return message(text, [section(text)])


# -- announcements of new articles ------------------------------------------------------------------

ANNOUNCEMENT_BLOCK_PREFIX = "announcement:"
MAX_RELATED = 3
QUERY_CHARS = 200
LANGUAGE_NAMES = {"en": "English", "fr": "French"}


def announcement_block_id(article_id: str) -> str:
    """The first block's id: lets a message be recognised as this article's announcement."""
    return ANNOUNCEMENT_BLOCK_PREFIX + article_id


def render_announcement(
    article: Citation, summary: str, related: Sequence[Citation] = (), also_reported: Sequence[str] = ()
) -> dict:
    """`{"text", "blocks"}` announcing `article`: title, date, language, summary, related articles, a button.

    An article from the web links its title to the page and names its outlet; `also_reported` names
    the other outlets that published the same story.
    """
    language = LANGUAGE_NAMES.get(article.language, article.language)
    if article.url:
        where = f"{link(article.url, article.title or 'Read the article')} · {escape_mrkdwn(article.outlet or '')}"
        details = f"{where.rstrip(' ·')} · {describe_date(article)} · {language}"
    else:
        details = f"{describe_date(article)} · {language} · source: {escape_mrkdwn(article.source)}"
    blocks = [
        {
            "type": "header",
            "block_id": announcement_block_id(article.article_id),
            "text": plain_text(article.title or "Untitled article", MAX_HEADER_CHARS),
        },
        context(details),
        section(
            escape_mrkdwn(summary) if summary.strip() else "_No summary: the article has no text to quote._"
        ),
    ]
    if also_reported:
        names = ", ".join(escape_mrkdwn(name) for name in also_reported)
        blocks.append(context(f"{len(also_reported) + 1} outlets reported it. Also reported by {names}"))
    if related:
        blocks.append(section(related_text(related[:MAX_RELATED])))
    blocks.append(
        {
            "type": "actions",
            "elements": [button("More like this", MORE_ACTION, button_value(article.title[:QUERY_CHARS], 0))],
        }
    )
    return message(f"New article: {escape_mrkdwn(article.title)}", blocks)


def render_story_reply(article: Citation, summary: str) -> dict:
    """`{"text", "blocks"}` for a later article of a story, posted in the thread of its first post."""
    where = (
        link(article.url, article.title or "Read the article")
        if article.url
        else escape_mrkdwn(article.title)
    )
    outlet = escape_mrkdwn(article.outlet or article.source)
    blocks = [
        {
            "type": "section",
            "block_id": announcement_block_id(article.article_id),
            "text": mrkdwn(f"*{outlet}* also reports it: {where}"),
        },
        context(f"{describe_date(article)}"),
    ]
    if summary.strip():
        blocks.append(section(escape_mrkdwn(summary)))
    return message(f"{outlet} also reports it: {escape_mrkdwn(article.title)}", blocks)


def describe_date(citation: Citation) -> str:
    if citation.date is None:
        return "undated"
    if citation.date_source == "first_seen":
        return f"first seen {citation.date.isoformat()}"
    return citation.date.isoformat()


def related_text(related: Sequence[Citation]) -> str:
    lines = [f"• {link(c.url, c.title)} ({describe_date(c)})" for c in related]
    return "*Related articles*\n" + "\n".join(lines)


def loading_message() -> dict:
    """The private answer while the app is still building its index at start."""
    text = "Still loading the articles, try again in a few seconds."
    return message(text, [section(f":hourglass_flowing_sand: {text}")])
