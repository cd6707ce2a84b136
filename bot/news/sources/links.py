"""From a link (given by someone, or listed by a feed) to a raw article for the pipeline.

The page is fetched and its article extracted; when the page cannot be fetched or holds no article,
the feed item's own text is used if it is a real text (a summary of one sentence is not).
"""

from __future__ import annotations

from bot.news.pipeline import RawArticle
from bot.news.sources.feeds import FeedItem
from bot.news.sources.http import HTML_TYPES, Fetcher, FetchError
from bot.news.sources.pages import MIN_ARTICLE_WORDS, extract_page
from bot.news.sources.urls import outlet_of
from bot.stores.types import Origin
from search.loader import MAX_ARTICLE_CHARS


class NoArticle(Exception):
    """The link gives no article; the message says why, for people."""


def fetch_article(
    fetcher: Fetcher, url: str, *, origin: Origin, public_only: bool, item: FeedItem | None = None
) -> RawArticle:
    """The article at `url` (or in `item`); NoArticle with the reason when there is none."""
    try:
        response = fetcher.fetch(url, kinds=HTML_TYPES, public_only=public_only)
        page = extract_page(response.text(), response.url)
        reason = "the page has no article text" if page is None else ""
    except FetchError as error:
        if error.kind == "refused" or item is None:
            raise NoArticle(str(error)) from None
        page, reason = None, str(error)
    if page is not None:
        date = page.date or (item.published if item else None)
        return news_sized(
            RawArticle(
                page.text,
                page.url,
                origin,
                url=page.url,
                title=page.title or (item.title if item else None),
                outlet=page.outlet or outlet_of(page.url),
                date=date,
                date_source="page" if page.date else ("feed" if date else None),
            )
        )
    if item is not None and item.url and len(item.content.split()) >= MIN_ARTICLE_WORDS:
        return news_sized(
            RawArticle(
                item.content,
                item.url,
                origin,
                url=item.url,
                title=item.title or None,
                outlet=outlet_of(item.url),
                date=item.published,
                date_source="feed" if item.published else None,
            )
        )
    raise NoArticle(reason)


def news_sized(raw: RawArticle) -> RawArticle:
    """`raw`, unless its text is too long to be a news article (as for a file: search.loader's limit)."""
    size = len(raw.text)
    if size > MAX_ARTICLE_CHARS:
        raise NoArticle(
            f"too long for a news article ({size:,} characters; the limit is {MAX_ARTICLE_CHARS:,})"
        )
    return raw
