"""Property-based test of ingestion: any bytes in an article file give a report, never an exception."""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.news.folder import Ingestor
from bot.stores.store import open_sqlite
from search import SearchIndex

HOSTILE = st.sampled_from(
    [
        b"date 2024-01-01 (",
        b"a/",
        b"\xc3\xa9",
        b"\xe9",
        b"\xff\xfe",
        b"\x00",
        b"\n\n",
        b"\r\n",
        b"- ",
        b"\xc2\xab ",
        b"Mistral AI. ",
    ]
)
contents = st.one_of(
    st.binary(max_size=3000),
    st.text(max_size=2000).map(lambda text: text.encode("utf-8", errors="surrogatepass")),
    st.lists(HOSTILE, max_size=300).map(b"".join),
)
names = itertools.count()


@pytest.fixture(scope="module")
def ingestor(tmp_path_factory):
    root = tmp_path_factory.mktemp("ingest-properties")
    (root / "articles").mkdir()
    store = open_sqlite(root / "bot.db")
    ingestor = Ingestor(store, SearchIndex(), root / "articles")
    yield ingestor
    ingestor.close()
    store.close()


@settings(max_examples=60, deadline=None)
@given(contents, st.sampled_from([".txt", ".md"]))
def test_any_file_content_gives_a_report(ingestor, content, suffix):
    path = ingestor.folder / f"file-{next(names)}{suffix}"
    path.write_bytes(content)
    report = ingestor.ingest(path)
    assert report.outcome in ("added", "known", "skipped", "restored", "updated")
    if report.outcome == "skipped":
        assert report.reason
    else:
        assert report.article_id in ingestor.index
