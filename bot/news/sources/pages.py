"""Extracting a news article from a web page with trafilatura: main text, title, date, outlet.

trafilatura is maintained, and in published comparisons the most accurate open-source extractor
for news pages; it drops menus, cookie banners, "read more" lists and comments (measured against our
own pages in benchmarks/feeds_bench.py). It also finds the published date (htmldate: JSON-LD,
meta tags, the URL, the visible text).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from urllib.parse import urljoin

import trafilatura

from bot.news.sources.urls import BadUrl, normalise_url

logging.getLogger("trafilatura").setLevel(logging.ERROR)
logging.getLogger("htmldate").setLevel(logging.ERROR)

MIN_ARTICLE_WORDS = 40  # fewer words is a stub, an index page or an error page, not an article
_CANONICAL_RE = re.compile(
    r"""<link\b(?=[^>]*\brel=["']?canonical\b)[^>]*\bhref=["']([^"'>\s]+)""", re.IGNORECASE
)


@dataclass(frozen=True)
class Page:
    url: str  # the canonical URL when the page gives one, else the URL it was fetched from
    title: str
    text: str  # paragraphs separated by blank lines
    date: dt.date | None
    outlet: str | None


def extract_page(markup: str, url: str) -> Page | None:
    """The article on the page, or None when the page holds no article (too little main text)."""
    try:
        document = trafilatura.bare_extraction(
            markup, url=url, with_metadata=True, include_comments=False, include_tables=False
        )
    except Exception:  # the extractor must never take the app down with one odd page
        logging.getLogger(__name__).warning("Could not extract %s", url, exc_info=True)
        return None
    if document is None or not document.text:
        return None
    title = " ".join((document.title or "").split())
    paragraphs = [" ".join(line.split()) for line in document.text.split("\n") if line.strip()]
    if paragraphs and title and paragraphs[0] == title:
        paragraphs = paragraphs[1:]
    if sum(len(p.split()) for p in paragraphs) < MIN_ARTICLE_WORDS:
        return None
    return Page(
        url=canonical_url(markup, url),
        title=title,
        text="\n\n".join(paragraphs),
        date=_date(document.date),
        outlet=(document.sitename or "").strip() or None,
    )


def canonical_url(markup: str, url: str) -> str:
    """The page's `<link rel="canonical">` (normalised) when it is an http(s) link, else `url`."""
    match = _CANONICAL_RE.search(markup[:200_000])
    if match:
        try:
            return normalise_url(urljoin(url, match.group(1)))
        except BadUrl:
            pass
    return url


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None
