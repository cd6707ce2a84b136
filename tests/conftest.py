"""Shared fixtures: the Slack stand-in and a small, real articles folder with its index."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from search import SearchIndex, load_articles
from tests.fakes import FakeSlack

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture
def fake_slack():
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def articles_dir(tmp_path: Path) -> Path:
    """A private copy of the seed articles, free to change in a test."""
    folder = tmp_path / "articles"
    folder.mkdir()
    for path in SEEDS.glob("*.txt"):
        shutil.copy(path, folder / path.name)
    return folder


@pytest.fixture
def index(articles_dir: Path) -> SearchIndex:
    search_index = SearchIndex()
    for article in load_articles(articles_dir):
        search_index.add(article)
    return search_index


def pytest_terminal_summary(terminalreporter) -> None:
    """One line per reason a test was skipped, with how many it skipped (pytest's `-rs` gives a line
    per test when a fixture skips them, e.g. every PostgreSQL test without TEST_DATABASE_URL)."""
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    for reason, count in reasons.items():
        terminalreporter.write_line(f"SKIPPED {count} {'test' if count == 1 else 'tests'}: {reason}")
