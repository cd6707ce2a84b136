"""Reading feeds: RSS 0.9x/1.0/2.0 and Atom with feedparser, JSON Feed (which feedparser does not read) here.

A feed becomes a list of `FeedItem`s, newest first as the feed lists them. Malformed XML that
feedparser can still read is read; a feed with nothing readable raises FeedError.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from dataclasses import dataclass

import feedparser

from bot.news.sources.urls import BadUrl, normalise_url

JSON_FEED_VERSION_PREFIX = "https://jsonfeed.org/version/"
MAX_ITEMS = 20_000  # a feed is at most 5 MB; this bounds what one poll looks at


class FeedError(ValueError):
    """Not a feed we can read; the message says why."""


@dataclass(frozen=True)
class FeedItem:
    url: str | None  # normalised link, None when the item has none
    guid: str
    title: str
    published: dt.date | None
    content: str  # the item's own text (summary or full content), as plain text

    @property
    def key(self) -> str:
        """What identifies the item across polls: its link (GUIDs change), else its GUID."""
        return self.url or f"guid:{self.guid}"


@dataclass(frozen=True)
class Feed:
    title: str
    items: list[FeedItem]


def parse_feed(body: bytes, content_type: str = "", url: str = "") -> Feed:
    """The feed in `body`; FeedError when it is neither a readable XML feed nor a JSON Feed."""
    if content_type.endswith("json") or body.lstrip()[:1] == b"{":
        return _json_feed(body, url)
    parsed = feedparser.parse(body, response_headers={"content-location": url} if url else None)
    if not parsed.entries and (parsed.bozo or not parsed.version):
        reason = getattr(parsed, "bozo_exception", None) or "no feed items"
        raise FeedError(f"not a readable RSS or Atom feed ({reason})")
    items = [_xml_item(entry) for entry in parsed.entries[:MAX_ITEMS]]
    return Feed(parsed.feed.get("title", "") or "", [item for item in items if item is not None])


def _xml_item(entry) -> FeedItem | None:
    link = _link(entry.get("link"))
    guid = str(entry.get("id") or entry.get("link") or entry.get("title") or "")
    if not link and not guid:
        return None
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    published = dt.date(*parsed[:3]) if parsed else None
    contents = [c.get("value", "") for c in entry.get("content") or []]
    content = max([*contents, entry.get("summary", "") or ""], key=len)
    return FeedItem(link, guid, _plain(entry.get("title", "")), published, _plain(content))


def _json_feed(body: bytes, url: str) -> Feed:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise FeedError(f"not a readable JSON Feed ({error})") from None
    if not isinstance(data, dict) or not str(data.get("version", "")).startswith(JSON_FEED_VERSION_PREFIX):
        raise FeedError("not a JSON Feed (no jsonfeed.org version)")
    items = data.get("items")
    if not isinstance(items, list):
        raise FeedError("not a JSON Feed (no items list)")
    found = [_json_item(item) for item in items[:MAX_ITEMS] if isinstance(item, dict)]
    return Feed(str(data.get("title") or ""), [item for item in found if item is not None])


def _json_item(item: dict) -> FeedItem | None:
    link = _link(item.get("url") or item.get("external_url"))
    guid = str(item.get("id") or link or "")
    if not guid:
        return None
    content = item.get("content_text") or _plain(str(item.get("content_html") or item.get("summary") or ""))
    return FeedItem(
        link,
        guid,
        _plain(str(item.get("title") or "")),
        _iso_date(item.get("date_published") or item.get("date_modified")),
        str(content).strip(),
    )


def _link(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return normalise_url(value)
    except BadUrl:
        return None


def _iso_date(value: object) -> dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        return None


_TAG_RE = re.compile(r"<[^>]*>")
_BLOCK_END_RE = re.compile(r"</(p|div|h\d|li|blockquote)>|<br\s*/?>", re.IGNORECASE)


def _plain(markup: str) -> str:
    """Text of an HTML fragment: paragraphs on their own lines, tags dropped, entities decoded."""
    text = _TAG_RE.sub("", _BLOCK_END_RE.sub("\n\n", markup))
    lines = (" ".join(line.split()) for line in html.unescape(text).split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
