"""What is too big to be a news article is refused with one log line, and does not hold the next file:
the limits at their boundary (just under: taken; just over: refused with the reason), through the
ingestor's worker and `ingest FILE`, and a huge file then a normal one dropped into a running app."""

from __future__ import annotations

import json
import logging

import pytest

from bot.news.folder import Ingestor, ingest_paths
from bot.stores.articles import SqliteStore
from search import SearchIndex, parse_article
from search.loader import MAX_ARTICLE_CHARS, MAX_PASSAGES
from tests.polling import wait_until
from tests.served import served_app

CHANNEL = "C0NEWS0019"
NEWS = (
    "date 2024-06-11\nMistral AI raises 600 million euros\n\n"
    "Mistral AI raised 600 million euros on Tuesday from investors led by General Catalyst. "
    "The round values the Paris start-up at about $6 billion, two years after its creation."
)


def text_of_chars(count: int) -> str:
    """An article of exactly `count` characters, in paragraphs of a few sentences (few passages)."""
    paragraphs = (
        f"Paragraph {n}: " + "Mistral AI hired more engineers in Paris. " * 12 for n in range(count)
    )
    text = "Mistral AI grows\n\n"
    while len(text) < count:
        text += next(paragraphs).strip() + "\n\n"
    return text[:count]


def text_of_passages(count: int) -> str:
    """An article whose parse gives exactly `count` passages, one a line."""
    lines = (f"Mistral AI told of its fact number {n} on Friday." for n in range(count))
    text = "Mistral AI facts\n\n" + "\n\n".join(lines)
    assert len(parse_article(text, "check.txt").passages) == count
    return text


def huge_text() -> str:
    """The file of issue 19: 2 MB, 100,000 one-line paragraphs."""
    return "A day of figures\n\n" + "\n".join(f"Figure {n} went up." for n in range(100_000))


@pytest.fixture
def store(tmp_path):
    store = SqliteStore(tmp_path / "bot.db")
    store.mark_baseline_done()
    yield store
    store.close()


@pytest.fixture
def ingestor(store, tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    ingestor = Ingestor(store, SearchIndex(), folder)
    yield ingestor
    ingestor.close()


LIMITS = [
    (text_of_chars, MAX_ARTICLE_CHARS, f"too long for a news article ({MAX_ARTICLE_CHARS + 1:,} characters"),
    (text_of_passages, MAX_PASSAGES, f"too many passages for a news article ({MAX_PASSAGES + 1:,};"),
]


@pytest.mark.parametrize(("make", "limit", "reason"), LIMITS)
def test_a_file_at_a_limit_is_taken_one_over_it_is_refused_with_one_line(
    ingestor, caplog, make, limit, reason
):
    (ingestor.folder / "at.txt").write_text(make(limit), "utf-8")
    (ingestor.folder / "over.txt").write_text(make(limit + 1), "utf-8")
    with caplog.at_level(logging.INFO):
        at, over = ingestor.scan()
        ingestor.scan()
    assert at.outcome == "added" and at.article_id in ingestor.index
    assert over.outcome == "skipped" and reason in over.reason
    assert [r.getMessage() for r in caplog.records if "over.txt" in r.getMessage()] == [
        f"Skipped {ingestor.folder / 'over.txt'}: {over.reason}"
    ]
    assert ingestor.store.by_source("over.txt") is None and ingestor.index.article_count == 1


@pytest.mark.parametrize(("make", "limit", "reason"), LIMITS)
def test_ingest_file_takes_a_file_at_a_limit_and_refuses_one_over_it(store, tmp_path, make, limit, reason):
    (tmp_path / "at.txt").write_text(make(limit), "utf-8")
    (tmp_path / "over.txt").write_text(make(limit + 1), "utf-8")
    at, over = ingest_paths(store, [tmp_path / "at.txt", tmp_path / "over.txt"])
    assert at.outcome == "added"
    assert over.outcome == "skipped" and reason in over.reason


def test_a_huge_file_is_refused_and_the_file_after_it_is_announced(
    fake_slack, articles_dir, tmp_path, caplog
):
    caplog.set_level(logging.INFO)
    with served_app(
        fake_slack, articles_dir, f"sqlite:///{tmp_path / 'store.db'}", notify_channel=CHANNEL
    ) as served:
        (articles_dir / "huge.txt").write_text(huge_text(), "utf-8")
        (articles_dir / "news.txt").write_text(NEWS, "utf-8")
        store = served.app.news.store
        wait_until(lambda: store.by_source("news.txt") is not None, timeout=60)
        wait_until(lambda: fake_slack.calls_to("chat.postMessage"), timeout=60)
        wait_until(lambda: [r for r in caplog.records if "huge.txt" in r.getMessage()], timeout=60)
        posted = [json.dumps(c["blocks"]) for c in fake_slack.calls_to("chat.postMessage")]
        assert len(posted) == 1 and "600 million euros" in posted[0]
        assert store.by_source("huge.txt") is None
        assert "A day of figures" not in json.dumps(served.command("figure rose"))
    [line] = [r.getMessage() for r in caplog.records if "huge.txt" in r.getMessage()]
    assert (
        line.startswith("Skipped ")
        and f"too long for a news article ({len(huge_text()):,} characters" in line
    )
