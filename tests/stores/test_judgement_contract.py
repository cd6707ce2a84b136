"""The judgements store contract (in-memory fake, SQLite, PostgreSQL) and the report built from it."""

from __future__ import annotations

import inspect

import pytest

from bot.stores.report import judged_text
from bot.stores.types import Judged, Judgements
from tests.stores.test_contract import Clock


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def judgements(backend, clock):
    return backend.open(clock).judgements


def left_out(key: str, verdict="homonym", feed="https://news.example/rss", **fields) -> Judged:
    reason = {"homonym": "another Mistral: here the name is the MBDA missile"}.get(
        verdict, "a passing mention"
    )
    return Judged(key, f"Title of {key}", verdict, reason, fields.pop("origin", "feed"), feed, **fields)


def test_has_every_method_of_the_protocol(judgements):
    for name in (n for n in vars(Judgements) if not n.startswith("_")):
        assert inspect.signature(getattr(type(judgements), name)) == inspect.signature(
            getattr(Judgements, name)
        )


def test_a_left_out_article_is_found_by_its_key_until_it_is_kept(judgements, clock):
    judgements.record(left_out("https://a.example/missile"))
    found = judgements.left_out("https://a.example/missile")
    assert found is not None and found.verdict == "homonym" and found.feed == "https://news.example/rss"
    assert found.judged_at == clock.now
    assert judgements.left_out("https://a.example/other") is None
    judgements.record(
        left_out("https://a.example/missile", kept=True, article_id="abc", origin="link", feed=None)
    )
    assert judgements.left_out("https://a.example/missile") is None
    [kept] = judgements.between(0, clock.now + 1)
    assert kept.kept and kept.article_id == "abc" and kept.origin == "link"


def test_between_lists_a_period_in_order(judgements, clock):
    judgements.record(left_out("k1"))
    clock.now += 10
    judgements.record(left_out("k2", verdict="passing"))
    clock.now += 10
    judgements.record(left_out("k3"))
    assert [j.key for j in judgements.between(clock.now - 15, clock.now)] == ["k2"]
    assert [j.key for j in judgements.between(0, clock.now + 1)] == ["k1", "k2", "k3"]


def test_the_report_groups_left_out_articles_by_feed_and_reason(judgements, clock):
    for i in range(3):
        judgements.record(left_out(f"https://a.example/m{i}"))
    judgements.record(left_out("https://a.example/p", verdict="passing"))
    judgements.record(left_out("https://b.example/x", verdict="passing", feed="https://b.example/feed"))
    judgements.record(
        left_out("weather.txt", verdict="homonym", origin="folder", feed=None, kept=True, article_id="w")
    )
    text = judged_text(judgements, 0, clock.now + 1, 7)
    lines = text.splitlines()
    assert lines[0] == "Left out as off-subject in the last 7 days: 5"
    assert (
        "  feed https://a.example/rss — a homonym (another thing of the same name) ×3" not in text
    )  # the feed's own URL
    assert "  feed https://news.example/rss — a homonym (another thing of the same name) ×3" in lines
    assert lines.index(
        "  feed https://news.example/rss — a homonym (another thing of the same name) ×3"
    ) < lines.index("  feed https://news.example/rss — a passing mention ×1")
    assert "  feed https://b.example/feed — a passing mention ×1" in lines
    assert "Taken though judged off-subject (folder files, links added anyway): 1" in lines
    assert any(
        line.startswith("  “Title of weather.txt” weather.txt:") and line.endswith("[folder]")
        for line in lines
    )


def test_an_empty_period_says_so(judgements):
    assert judged_text(judgements, 0, 10, 7) == "No article was judged off-subject in the last 7 days."
