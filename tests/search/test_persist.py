import json
import logging
import struct
import threading
import zlib

import numpy as np
import pytest
import rank_bm25

from search import SearchIndex
from search.analysis import Analyzer
from search.persist import JOURNAL, SNAPSHOT, IndexFileError, NoSavedIndex, SavedIndex
from search.scoring import VARIANTS
from tests import synthetic
from tests.search.test_index import QUERIES, TEXTS, assert_same_top10

SEED_QUERIES = [
    "valuation",
    "Mistral partnership Microsoft",
    "Arthur Mensch CEO",
    "levée de fonds",
    "Le Chat",
]


def dump(hits):
    return [hit.model_dump() for hit in hits]


def reopened(folder, **options) -> SavedIndex:
    index = SavedIndex(folder, **options)
    index.load()
    return index


def test_a_reopened_index_gives_the_same_hits_scores_and_articles(tmp_path, seed_articles):
    built = SavedIndex(tmp_path)
    built.rebuild(seed_articles)
    loaded = reopened(tmp_path)
    assert (loaded.article_count, loaded.passage_count) == (built.article_count, built.passage_count)
    for query in SEED_QUERIES:
        assert dump(loaded.search(query, 5)) == dump(built.search(query, 5)), query
    for article in seed_articles:
        assert loaded.get(article.id).passages == article.passages
        assert loaded.get(article.id).citation == article.citation
    assert [c.article_id for c in loaded.related(seed_articles[1])] == [
        c.article_id for c in built.related(seed_articles[1])
    ]


def test_a_reopened_index_knows_the_words_already_analysed(tmp_path, seed_articles):
    """The analyser's word cache is saved: after a start, the words of hits are not analysed again."""
    built = SavedIndex(tmp_path)
    built.rebuild(seed_articles)
    known = {language: built.analyzer.known_words(language) for language in ("en", "fr")}
    assert len(known["en"]) > 500 and len(known["fr"]) > 200
    loaded = reopened(tmp_path)
    assert {language: loaded.analyzer.known_words(language) for language in ("en", "fr")} == known
    assert loaded.search("valuation", 5)
    assert loaded.analyzer.known_words("en") == known["en"], "the hits' words were known"
    assert loaded.analyzer.terms("Mistral's valuation", "en") == built.analyzer.terms(
        "Mistral's valuation", "en"
    )


def test_adds_and_removes_are_saved_as_they_happen(tmp_path, seed_articles):
    live = SavedIndex(tmp_path)
    live.rebuild(seed_articles[:3])
    snapshot = (tmp_path / SNAPSHOT).read_bytes()
    for article in seed_articles[3:]:
        live.add(article)
    live.remove(seed_articles[0].id)
    live.remove(seed_articles[4].id)
    assert (tmp_path / SNAPSHOT).read_bytes() == snapshot, "changes go to the journal, not a new snapshot"
    loaded = reopened(tmp_path)
    assert loaded.article_ids() == live.article_ids()
    assert seed_articles[0].id not in loaded and seed_articles[4].id not in loaded
    assert loaded.passage_count == live.passage_count
    for query in SEED_QUERIES:
        assert dump(loaded.search(query, 5)) == dump(live.search(query, 5)), query


def test_a_grown_journal_is_compacted_into_a_new_snapshot(tmp_path, monkeypatch):
    monkeypatch.setattr("search.persist.MIN_COMPACT_BYTES", 20_000)
    live = SavedIndex(tmp_path)
    live.rebuild(synthetic.article(f"a{i}", [TEXTS[i]]) for i in range(50))
    first_snapshot = (tmp_path / SNAPSHOT).read_bytes()
    for i in range(50, 400):
        live.add(synthetic.article(f"a{i}", [TEXTS[i]]))
        if i % 5 == 0:
            live.remove(f"a{i - 40}")
    snapshot_size = (tmp_path / SNAPSHOT).stat().st_size
    assert (tmp_path / SNAPSHOT).read_bytes() != first_snapshot
    assert (tmp_path / JOURNAL).stat().st_size <= max(20_000, snapshot_size // 4) + 2_000
    loaded = reopened(tmp_path)
    assert loaded.article_ids() == live.article_ids()
    kept = sorted(live.article_ids(), key=lambda a: int(a[1:]))
    bm25 = rank_bm25.BM25Plus([TEXTS[int(a[1:])] for a in kept])
    for query in QUERIES[:20]:
        assert_same_top10(loaded, bm25, query, kept)


@pytest.mark.parametrize("name", list(VARIANTS))
def test_scores_still_equal_rank_bm25_after_reopening(tmp_path, name):
    SavedIndex(tmp_path).rebuild(synthetic.article(f"a{i}", [words]) for i, words in enumerate(TEXTS))
    loaded = reopened(tmp_path, scorer=VARIANTS[name])
    bm25 = getattr(rank_bm25, name)(TEXTS)
    for query in QUERIES:
        assert_same_top10(loaded, bm25, query, [f"a{i}" for i in range(len(TEXTS))])


def test_the_same_search_as_an_index_built_in_memory(tmp_path):
    articles = [synthetic.article(f"a{i}", [words]) for i, words in enumerate(TEXTS[:400])]
    SavedIndex(tmp_path).rebuild(articles)
    memory = SearchIndex()
    for article in articles:
        memory.add(article)
    loaded = reopened(tmp_path)
    for query in QUERIES:
        ours, theirs = loaded.search(" ".join(query), 10), memory.search(" ".join(query), 10)
        assert [h.passage.id for h in ours] == [h.passage.id for h in theirs]
        assert np.allclose([h.score for h in ours], [h.score for h in theirs])


def test_no_files_is_reported_as_no_saved_index(tmp_path):
    with pytest.raises(NoSavedIndex):
        SavedIndex(tmp_path / "nothing").load()


def test_another_analyzer_version_or_setting_is_refused(tmp_path, seed_articles, monkeypatch):
    SavedIndex(tmp_path).rebuild(seed_articles[:3])
    with pytest.raises(IndexFileError, match="another version"):
        SavedIndex(tmp_path, analyzer=Analyzer(stem=False)).load()
    monkeypatch.setattr("search.persist.ANALYZER_VERSION", 10_000)
    with pytest.raises(IndexFileError, match="another version"):
        SavedIndex(tmp_path).load()


def test_another_format_version_is_refused(tmp_path, seed_articles, monkeypatch):
    SavedIndex(tmp_path).rebuild(seed_articles[:3])
    monkeypatch.setattr("search.persist.FORMAT_VERSION", 10_000)
    with pytest.raises(IndexFileError, match="another version"):
        SavedIndex(tmp_path).load()


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage"])
def test_a_damaged_snapshot_is_refused(tmp_path, seed_articles, damage):
    SavedIndex(tmp_path).rebuild(seed_articles)
    path = tmp_path / SNAPSHOT
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) - 100]
    elif damage == "flip":
        data[-500] ^= 0x40
    else:
        data = bytearray(b"not an index at all")
    path.write_bytes(bytes(data))
    with pytest.raises(IndexFileError):
        SavedIndex(tmp_path).load()


def test_a_cut_journal_tail_is_dropped_with_one_log_line(tmp_path, seed_articles, caplog):
    live = SavedIndex(tmp_path)
    live.rebuild(seed_articles[:3])
    live.add(seed_articles[3])
    live.add(seed_articles[4])
    journal = tmp_path / JOURNAL
    journal.write_bytes(journal.read_bytes()[:-10])
    with caplog.at_level(logging.WARNING, logger="search.persist"):
        loaded = reopened(tmp_path)
    assert len(caplog.records) == 1 and "journal" in caplog.records[0].getMessage()
    assert loaded.article_ids() == {a.id for a in seed_articles[:4]}
    loaded.add(seed_articles[4])
    assert reopened(tmp_path).article_ids() == {a.id for a in seed_articles[:5]}, "appends after the cut"


def test_a_journal_of_another_snapshot_is_not_replayed(tmp_path, seed_articles):
    live = SavedIndex(tmp_path)
    live.rebuild(seed_articles[:3])
    live.add(seed_articles[3])
    old_journal = (tmp_path / JOURNAL).read_bytes()
    live.save()
    live.remove(seed_articles[3].id)
    (tmp_path / JOURNAL).write_bytes(old_journal)  # as after a crash between the two renames
    assert reopened(tmp_path).article_ids() == {a.id for a in seed_articles[:4]}


@pytest.mark.parametrize("edit", ["object column", "doc out of range"])
def test_a_snapshot_whose_checksum_holds_but_whose_columns_do_not_is_refused(tmp_path, seed_articles, edit):
    SavedIndex(tmp_path).rebuild(seed_articles)
    path = tmp_path / SNAPSHOT
    data = path.read_bytes()
    magic = data.split(b"\n", 1)[0] + b"\n"
    (size,) = struct.unpack_from("<Q", data, len(magic))
    header = json.loads(data[len(magic) + 8 : len(magic) + 8 + size])
    payload = bytearray(data[len(magic) + 8 + size :])
    column = next(
        c for c in header["columns"] if c[0] == ("dates" if edit == "object column" else "posting_docs")
    )
    if edit == "object column":
        column[1] = "|O"
    else:
        payload[column[2] : column[2] + 4] = struct.pack("<i", 10**6)
    header["crc32"] = zlib.crc32(payload)
    raw = json.dumps(header).encode()
    path.write_bytes(magic + struct.pack("<Q", len(raw)) + raw + bytes(payload))
    with pytest.raises(IndexFileError):
        SavedIndex(tmp_path).load()


def test_concurrent_adds_removes_and_compactions_are_all_saved(tmp_path, monkeypatch):
    monkeypatch.setattr("search.persist.MIN_COMPACT_BYTES", 30_000)
    live = SavedIndex(tmp_path)
    live.rebuild(synthetic.article(f"a{i}", [TEXTS[i]]) for i in range(100))
    errors = []

    def writer(start):
        try:
            for i in range(start, 1500, 4):
                live.add(synthetic.article(f"a{i}", [TEXTS[i]]))
                if i % 3 == 0:
                    live.remove(f"a{i - 60}")
        except Exception as error:
            errors.append(error)

    def reader():
        try:
            for query in QUERIES * 3:
                for hit in live.search(" ".join(query), 5):
                    assert hit.passage.text
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(100 + k,)) for k in range(4)]
    threads += [threading.Thread(target=reader) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors
    loaded = reopened(tmp_path)
    assert loaded.article_ids() == live.article_ids()
    kept = sorted(live.article_ids(), key=lambda a: int(a[1:]))
    bm25 = rank_bm25.BM25Plus([TEXTS[int(a[1:])] for a in kept])
    for query in QUERIES[:20]:
        assert_same_top10(loaded, bm25, query, kept)


def test_a_web_articles_url_outlet_and_date_source_survive_the_journal_and_the_snapshot(
    tmp_path, seed_articles
):
    web = seed_articles[0].model_copy(
        update={"url": "https://wire.example/a", "outlet": "EuroWire", "date_source": "page"}
    )
    live = SavedIndex(tmp_path)
    live.rebuild(seed_articles[1:])
    live.add(web)
    from_journal = reopened(tmp_path)
    from_journal.save()
    for index in (from_journal, reopened(tmp_path)):
        assert index.get(web.id).citation == web.citation
        assert index.get(seed_articles[1].id).citation.url is None
        hit = next(h for h in index.search(web.passages[0].text[:60], 10) if h.citation.article_id == web.id)
        assert (hit.citation.url, hit.citation.outlet, hit.citation.date_source) == (
            "https://wire.example/a",
            "EuroWire",
            "page",
        )
