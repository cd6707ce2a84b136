"""Feeds in every format, pages of every outlet, URL spellings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.news.sources.feeds import FeedError, parse_feed
from bot.news.sources.pages import extract_page
from bot.news.sources.urls import BadUrl, normalise_url
from tests.fakes.web import ARTICLES, SITE

FEEDS = {
    "ledger.rss": 3,  # RSS 2.0
    "wire.atom": 3,  # Atom
    "journal.rdf": 4,  # RSS 1.0
    "daily.json": 2,  # JSON Feed
    "latin.rss": 1,  # RSS 0.91 in ISO-8859-1
}


@pytest.mark.parametrize(("name", "count"), FEEDS.items())
def test_every_feed_format_gives_its_items_with_normalised_links(web, fetcher, name, count):
    response = fetcher.fetch(web.url(f"/feeds/{name}"))
    feed = parse_feed(response.body, response.content_type, response.url)
    assert len(feed.items) == count
    for item in feed.items:
        assert item.url.startswith(web.base + "/") and "utm_" not in item.url
        assert (item.title and "Mistral" in item.content + item.title) or "ASML" in item.content
    if name != "latin.rss":
        assert all(isinstance(item.published, dt.date) for item in feed.items)


def test_malformed_xml_is_read_as_far_as_it_goes_and_garbage_is_refused(web, fetcher):
    broken = fetcher.fetch(web.url("/feeds/broken.rss"))
    assert len(parse_feed(broken.body, broken.content_type).items) == 2
    garbage = fetcher.fetch(web.url("/feeds/garbage.xml"))
    with pytest.raises(FeedError):
        parse_feed(garbage.body, garbage.content_type)
    with pytest.raises(FeedError):
        parse_feed(b'{"items": []}', "application/json")  # JSON, but no JSON Feed


def test_the_huge_feed_is_read(web, fetcher):
    response = fetcher.fetch(web.url("/feeds/huge.rss"))
    assert len(parse_feed(response.body, response.content_type).items) == 10_000


def truth(path: Path) -> dict:
    head, _, body = path.read_text(encoding="utf-8").partition("\n\n")
    meta = dict(line.split(": ", 1) for line in head.splitlines())
    return {**meta, "text": body.strip()}


PAGES = sorted(SITE.glob("*/2025/*/*.html"))


def test_there_are_enough_realistic_pages():
    assert len(PAGES) >= 10
    assert {truth(ARTICLES / f"{p.stem}.txt")["lang"] for p in PAGES} == {"en", "fr"}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_extraction_keeps_the_article_and_drops_the_page_around_it(web, fetcher, page):
    expected = truth(ARTICLES / f"{page.stem}.txt")
    path = "/" + page.relative_to(SITE).as_posix()
    response = fetcher.fetch(web.url(path))
    found = extract_page(response.text(), response.url)
    assert found is not None
    assert found.title == expected["title"]
    assert found.date == dt.date.fromisoformat(expected["date"])
    assert found.url == web.url(path)  # the canonical link, normalised
    for paragraph in expected["text"].split("\n\n"):
        assert paragraph in found.text
    for boilerplate in (
        "cookie",
        "Sign up",
        "Commentaires",
        "Share on",
        "Comments",
        "À lire aussi",
        "Read more",
    ):
        assert boilerplate not in found.text
    if expected["outlet"] != "latin":
        assert found.outlet and found.outlet[0].isupper()


def test_a_page_without_an_article_gives_nothing():
    assert (
        extract_page("<html><body><nav>Home News</nav><p>Page not found.</p></body></html>", "http://x/")
        is None
    )
    assert extract_page("", "http://x/") is None


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("HTTPS://Example.COM:443/a/b?utm_source=x&id=3#top", "https://example.com/a/b?id=3"),
        ("http://example.com:80", "http://example.com/"),
        ("http://example.com:8080/x?fbclid=1&gclid=2&q=a+b", "http://example.com:8080/x?q=a+b"),
        ("https://example.com/x?b=2&a=1&utm_medium=rss", "https://example.com/x?b=2&a=1"),
    ],
)
def test_urls_are_normalised(url, normal):
    assert normalise_url(url) == normal


def test_bad_urls_are_refused():
    for url in ("javascript:alert(1)", "example.com/x", "http://", "http://x:99999/"):
        with pytest.raises(BadUrl):
            normalise_url(url)


def test_a_page_too_long_for_a_news_article_is_no_article(web, fetcher):
    from bot.news.sources.links import NoArticle, fetch_article
    from search.loader import MAX_ARTICLE_CHARS

    paragraphs = "".join(
        f"<p>Mistral AI paragraph {n} says something about its models and its partners.</p>"
        for n in range(MAX_ARTICLE_CHARS // 60)
    )
    web.put(
        "/huge/article.html",
        f"<html><head><title>Huge</title></head><body><article>{paragraphs}</article></body></html>",
    )
    with pytest.raises(NoArticle, match="too long for a news article"):
        fetch_article(fetcher, web.url("/huge/article.html"), origin="link", public_only=False)
