"""What people do with sources, from Slack or the command line: add a link, list, add, remove feeds.

Every answer is one plain sentence or list for people (the caller escapes it for Slack). What comes
from Slack may only reach public addresses; the operator (FEEDS, the CLI) may name local ones.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin

from bot.news.pipeline import Pipeline, Recorded
from bot.news.sources.feeds import FeedError, parse_feed
from bot.news.sources.http import FEED_TYPES, HTML_TYPES, Fetcher, FetchError
from bot.news.sources.links import NoArticle, fetch_article
from bot.news.sources.urls import BadUrl, normalise_url
from bot.stores.types import FeedOrigin, Feeds, Judged, StoredArticle
from search import Article

MAX_LISTED_FEEDS = 50
_ALTERNATE_RE = re.compile(r"<link\b[^>]*>", re.IGNORECASE)
_FEED_TYPE_RE = re.compile(r"""type=["']?application/(?:rss|atom|feed)\+(?:xml|json)""", re.IGNORECASE)
_HREF_RE = re.compile(r"""href=["']?([^"'\s>]+)""", re.IGNORECASE)


def feed_link(markup: str, base: str) -> str | None:
    """The feed a web page announces (`<link rel="alternate" type="application/rss+xml" href=...>`)."""
    for tag in _ALTERNATE_RE.findall(markup[:200_000]):
        href = _HREF_RE.search(tag)
        if "alternate" in tag.lower() and _FEED_TYPE_RE.search(tag) and href:
            try:
                return normalise_url(urljoin(base, html.unescape(href.group(1))))
            except BadUrl:
                continue
    return None


@dataclass(eq=False)
class Sources:
    feeds: Feeds
    fetcher: Fetcher
    pipeline: Pipeline
    on_feed_added: Callable[[], None] | None = field(default=None, kw_only=True)
    health: Callable[[], dict] | None = field(default=None, kw_only=True)

    # -- links ----------------------------------------------------------------------------------------

    def add_link(
        self, url: str, *, public_only: bool, anyway: bool = False, anyway_command: str = ""
    ) -> tuple[bool, str]:
        """Add the article at `url`: (added, what happened in one sentence). An article judged
        off-subject is not added unless `anyway`; the answer says why, and that `anyway_command`
        (`{url}` in it: the link) adds it all the same."""
        try:
            url = normalise_url(url)
        except BadUrl as error:
            return False, f"Not added: {error}."
        known = self.pipeline.store.articles.by_url(url)
        if known is not None:
            return False, known_sentence(known)
        left_out = None if anyway else self.pipeline.store.judgements.left_out(url)
        if left_out is None:
            try:
                raw = fetch_article(self.fetcher, url, origin="link", public_only=public_only)
            except NoArticle as reason:
                return False, f"Not added: {reason}."
            recorded = self.pipeline.ingest(raw, anyway=anyway)
            left_out = recorded.judged if recorded.outcome == "left_out" else None
        if left_out is not None:
            return False, off_subject_sentence(
                left_out, self.pipeline.judge.subject.name, anyway_command.format(url=url)
            )
        return recorded.outcome in ("added", "copy", "restored", "updated"), recorded_sentence(recorded)

    # -- feeds ----------------------------------------------------------------------------------------

    def add_feed(self, url: str, *, origin: FeedOrigin) -> tuple[bool, str]:
        """Poll `url` from now on, once it is known to be a readable feed."""
        try:
            url = normalise_url(url)
        except BadUrl as error:
            return False, f"Not added: {error}."
        try:
            response = self.fetcher.fetch(url, kinds=FEED_TYPES | HTML_TYPES, public_only=origin == "slack")
            if response.content_type in HTML_TYPES:
                url = feed_link(response.text(), response.url) or url
                response = self.fetcher.fetch(url, kinds=FEED_TYPES, public_only=origin == "slack")
            feed = parse_feed(response.body, response.content_type, response.url)
        except FetchError as error:
            return False, f"Not added: {url} cannot be read as a feed: {error}."
        except FeedError as error:
            return False, f"Not added: {url} is not a feed: {error}."
        if self.feeds.get(url) is not None:
            return False, f"{url} is already polled."
        self.feeds.add(url, origin)
        if self.on_feed_added:
            self.on_feed_added()
        title = f" ({feed.title})" if feed.title else ""
        return (
            True,
            f"Added the feed {url}{title}: {len(feed.items)} items listed now; new ones will be announced.",
        )

    def remove_feed(self, url: str) -> tuple[bool, str]:
        try:
            url = normalise_url(url)
        except BadUrl as error:
            return False, f"Not removed: {error}."
        feed = self.feeds.get(url)
        if feed is None or not self.feeds.remove(url):
            return False, f"{url} is not one of the feeds."
        again = ""
        if feed.origin == "setting":
            again = " It is in the FEEDS setting: remove it there too, or it comes back at the next start."
        return True, f"Removed the feed {url}: it is no longer polled (its articles stay).{again}"

    def feeds_text(self, how_to_add: str) -> str:
        """The feeds and their state; without feeds, how to add one (`how_to_add`: the command)."""
        feeds = self.feeds.all()
        if not feeds:
            return f"No feeds yet. Add one with `{how_to_add}`."
        lines = []
        for feed in feeds[:MAX_LISTED_FEEDS]:
            state = f"failing ({feed.failures} times: {feed.last_error})" if feed.failures else "ok"
            title = f" — {feed.title}" if feed.title else ""
            lines.append(f"• {feed.url}{title} [{feed.origin}, {state}]")
        if len(feeds) > MAX_LISTED_FEEDS:
            lines.append(f"… and {len(feeds) - MAX_LISTED_FEEDS} more")
        return f"{len(feeds)} feeds:\n" + "\n".join(lines)


def describe(title: str, outlet: str | None, date) -> str:
    details = ", ".join(x for x in (outlet, date.isoformat() if date else None) if x)
    return f"“{title}”" + (f" ({details})" if details else "")


def known_sentence(known: StoredArticle) -> str:
    if known.taken_down_at is not None:
        return f"Not added: {describe(known.title, known.outlet, known.date)} was removed by an operator."
    return f"Already known as {describe(known.title, known.outlet, known.date)}."


def off_subject_sentence(judged: Judged, subject: str, anyway_command: str) -> str:
    anyway = f" To add it all the same: `{anyway_command}`." if anyway_command else ""
    return f"Not added: “{judged.title}” does not look like news about {subject}: {judged.reason}.{anyway}"


def recorded_sentence(recorded: Recorded) -> str:
    article: Article = recorded.article
    if recorded.outcome in ("known", "removed") and recorded.known is not None:
        return known_sentence(recorded.known)
    added = f"Added {describe(article.title, article.outlet, article.date)}"
    if recorded.judged is not None:
        added += f" (though judged off-subject: {recorded.judged.reason})"
    if recorded.outcome == "copy" and recorded.known is not None:
        head = recorded.known
        return f"{added}: the same story as {describe(head.title, head.outlet, head.date)}, so it is not announced again."
    return added + "."
