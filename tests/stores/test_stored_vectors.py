"""Passage embeddings kept in the store: computed once at ingest, read back at every start.

The embedder here is a small deterministic one of ours (the `Embedder` seam of search/semantic.py,
what the packaged model plugs into), so these run without the `semantic` extra: words hashed into a
fixed-size vector, a few words of one meaning counted as one, as a multilingual model makes them close.
"""

import zlib

import numpy as np
import pytest

from bot.news.folder import ingest_paths
from bot.news.pipeline import Pipeline, RawArticle
from bot.news.saved_index import open_index
from bot.news.search_index import keep_vectors_in
from bot.stores.articles import index_from_store
from bot.stores.store import open_sqlite
from search import SearchIndex
from search.persist import SavedIndex

ARTICLES = [
    "La cantine de Mistral\n\nLe chef prépare la cuisine de Mistral.\n\nLa météo de Paris est clémente.",
    "Mistral funding news\n\nMistral raised money from investors.\n\nMistral opened an office.",
]
SAME_MEANING = {"kitchen": "cuisine", "chef": "cuisine"}


class HashingEmbedder:
    DIMENSIONS = 64

    def __init__(self, model="hashing-64"):
        self.model = model
        self.passages_seen = 0
        self.queries_seen = 0

    def _vector(self, text):
        vector = np.full(self.DIMENSIONS, 0.01, dtype=np.float32)
        for word in text.lower().split():
            word = word.strip("?.,!")
            vector[zlib.crc32(SAME_MEANING.get(word, word).encode()) % self.DIMENSIONS] += 1
        return vector / np.linalg.norm(vector)

    def passages(self, texts):
        self.passages_seen += len(texts)
        return np.stack([self._vector(t) for t in texts])

    def query(self, text):
        self.queries_seen += 1
        return self._vector(text)


def semantic_index(store, embedder):
    index = SearchIndex(embedder=embedder, min_coverage=0)
    keep_vectors_in(index, store)
    return index


def ingest(store, index, texts):
    pipeline = Pipeline(store, index)
    return [pipeline.ingest(RawArticle(text, f"{n}.txt", "file")).article for n, text in enumerate(texts)]


@pytest.fixture
def store(tmp_path):
    store = open_sqlite(tmp_path / "bot.db")
    yield store
    store.close()


def searchable(article):
    return [i for i, p in enumerate(article.passages) if p.kind != "heading"]


def test_the_pipeline_keeps_each_passages_vector_with_the_article(store):
    embedder = HashingEmbedder()
    articles = ingest(store, semantic_index(store, embedder), ARTICLES)
    kept = store.articles.vectors_for([a.id for a in articles], embedder.model)
    assert {a.id: sorted(kept[a.id]) for a in articles} == {a.id: searchable(a) for a in articles}
    assert embedder.passages_seen == sum(len(searchable(a)) for a in articles)
    first = articles[0]
    position = searchable(first)[0]
    stored = np.frombuffer(kept[first.id][position], "<f4")
    assert np.allclose(stored, embedder._vector(first.passages[position].text))


def test_a_restart_embeds_nothing_and_fuses_from_the_kept_vectors(store, tmp_path):
    before = semantic_index(store, HashingEmbedder())
    ingest(store, before, ARTICLES)
    question = "Mistral kitchen"  # shares no word with the cuisine passage: only the vectors find it
    plain = SearchIndex(min_coverage=0)
    index_from_store(store.articles, plain)
    assert "cuisine" not in plain.search(question, 3)[0].passage.text

    restarted = HashingEmbedder()
    after = index_from_store(store.articles, semantic_index(store, restarted))
    hits = after.search(question, 3)
    assert restarted.passages_seen == 0 and restarted.queries_seen == 1
    assert "cuisine" in hits[0].passage.text
    assert hits == before.search(question, 3)


def test_a_saved_index_built_and_loaded_at_start_embeds_nothing(store, tmp_path):
    ingest(store, semantic_index(store, HashingEmbedder()), ARTICLES)
    for _ in ("built", "loaded"):
        embedder = HashingEmbedder()
        index = SavedIndex(tmp_path / "index", min_coverage=0, embedder=embedder)
        keep_vectors_in(index, store)
        open_index(store, index.folder, index)
        assert embedder.passages_seen == 0
        assert len(index._vectors) == index.passage_count
        assert "cuisine" in index.search("Mistral kitchen", 3)[0].passage.text


def test_only_the_missing_vectors_are_computed_at_start_then_kept(store, tmp_path):
    ingest(store, semantic_index(store, HashingEmbedder()), ARTICLES[:1])
    (tmp_path / "late.txt").write_text(ARTICLES[1])
    [report] = ingest_paths(store, [tmp_path / "late.txt"])  # the CLI's ingest has no embedder
    late = store.articles.get(report.article_id)
    assert store.articles.vectors_for([late.id], "hashing-64") == {}

    embedder = HashingEmbedder()
    index = index_from_store(store.articles, semantic_index(store, embedder))
    assert embedder.passages_seen == len(searchable(index.get(late.id)))
    assert sorted(store.articles.vectors_for([late.id], "hashing-64")[late.id]) == searchable(
        index.get(late.id)
    )
    again = HashingEmbedder()
    index_from_store(store.articles, semantic_index(store, again))
    assert again.passages_seen == 0


def test_another_model_recomputes_and_replaces_the_kept_vectors(store):
    articles = ingest(store, semantic_index(store, HashingEmbedder()), ARTICLES)
    other = HashingEmbedder(model="hashing-64-v2")
    index = index_from_store(store.articles, semantic_index(store, other))
    assert other.passages_seen == index.passage_count
    ids = [a.id for a in articles]
    assert store.articles.vectors_for(ids, "hashing-64") == {}
    assert set(store.articles.vectors_for(ids, "hashing-64-v2")) == set(ids)


def test_a_removed_articles_vectors_leave_the_store_and_the_index(store):
    index = semantic_index(store, HashingEmbedder())
    pipeline = Pipeline(store, index)
    removed, kept = (
        pipeline.ingest(RawArticle(t, f"{n}.txt", "file")).article for n, t in enumerate(ARTICLES)
    )
    pipeline.take_down(store.articles.get(removed.id))
    assert store.articles.vectors_for([removed.id, kept.id], "hashing-64").keys() == {kept.id}
    assert len(index._vectors) == index.passage_count == len(searchable(kept))
