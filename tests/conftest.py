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
