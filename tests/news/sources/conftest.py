import pytest

from bot.news.sources.http import Fetcher
from tests.fakes import FakeWeb


@pytest.fixture(scope="module")
def web():
    with FakeWeb() as server:
        yield server


@pytest.fixture
def fetcher():
    return Fetcher(timeout=1.0, deadline=3.0)
