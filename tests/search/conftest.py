from pathlib import Path

import pytest

from search import SearchIndex, load_articles

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
REPORT: dict[str, str] = {}


@pytest.fixture(scope="session")
def seed_articles():
    return load_articles(SEEDS)


@pytest.fixture(scope="session")
def seed_index(seed_articles):
    index = SearchIndex()
    for article in seed_articles:
        index.add(article)
    return index


def pytest_terminal_summary(terminalreporter):
    if REPORT:
        terminalreporter.section("search relevance on the seeds")
        for line in REPORT.values():
            terminalreporter.write_line(line)
