import threading

import numpy as np
import pytest
import rank_bm25

from search import QueryError, SearchIndex, parse_article
from search.models import Citation, Passage
from search.scoring import VARIANTS
from tests import synthetic

VOCAB = synthetic.vocabulary(3000)
TEXTS = synthetic.passages(1500, VOCAB, seed=3)
QUERIES = synthetic.queries(60, VOCAB, seed=5, skip_top=0)


def synthetic_index(texts, scorer=None, start=0):
    index = SearchIndex(scorer=scorer) if scorer else SearchIndex()
    for i, words in enumerate(texts, start=start):
        index.add(synthetic.article(f"a{i}", [words]))
    return index


def plain_top(bm25, query, k=10):
    scores = bm25.get_scores(query)
    order = np.argsort(-scores, kind="stable")[:k]
    return scores, order


def assert_same_top10(index, bm25, query, ids):
    scores, order = plain_top(bm25, query)
    ours = index.rank(query, 10)
    ours_scores = np.array([score for _, score in ours])
    matched = scores[order] > scores.min() if len(set(scores)) > 1 else np.zeros(len(order), bool)
    expected = order[matched]
    assert np.allclose(ours_scores[: len(expected)], scores[expected]), query
    strict = [i for i in range(len(expected)) if np.sum(np.isclose(scores, scores[expected[i]])) == 1]
    assert [ours[i][0].article_id for i in strict] == [ids[expected[i]] for i in strict], query


@pytest.mark.parametrize("name", list(VARIANTS))
def test_same_top10_and_scores_as_rank_bm25(name):
    index = synthetic_index(TEXTS, VARIANTS[name])
    bm25 = getattr(rank_bm25, name)(TEXTS)
    ids = [f"a{i}" for i in range(len(TEXTS))]
    for query in QUERIES:
        assert_same_top10(index, bm25, query, ids)


def test_search_gives_the_same_top10_as_bm25plus_for_the_same_tokens():
    index = synthetic_index(TEXTS)
    bm25 = rank_bm25.BM25Plus(TEXTS)
    for query in QUERIES:
        scores, order = plain_top(bm25, query)
        hits = index.search(" ".join(query), 10)
        assert [h.citation.article_id for h in hits] == [f"a{i}" for i in order[: len(hits)]]
        assert np.allclose([h.score for h in hits], scores[order[: len(hits)]])


def test_parity_holds_after_incremental_adds_and_removes():
    index = synthetic_index(TEXTS[:1000])
    for i, words in enumerate(TEXTS[1000:], start=1000):
        index.add(synthetic.article(f"a{i}", [words]))
    removed = set(range(0, 1500, 7))
    for i in removed:
        assert index.remove(f"a{i}")
    kept = [i for i in range(1500) if i not in removed]
    bm25 = rank_bm25.BM25Plus([TEXTS[i] for i in kept])
    for query in QUERIES:
        assert_same_top10(index, bm25, query, [f"a{i}" for i in kept])


def test_parity_holds_after_compaction():
    index = synthetic_index(TEXTS)
    for i in range(1200):
        index.remove(f"a{i}")
    assert len(index._dead) < 1200, "removing most of the index compacts the postings"
    bm25 = rank_bm25.BM25Plus(TEXTS[1200:])
    for query in QUERIES:
        assert_same_top10(index, bm25, query, [f"a{i}" for i in range(1200, 1500)])


def test_okapi_half_the_passages_term_scores_zero_and_is_no_filler():
    """BM25Okapi gives idf 0 to a term in exactly half of the passages: matching it alone is no answer."""
    texts = [
        ["zoparavi", "pasutogu"],
        ["zoparavi", "bukuguvi"],
        ["vobumitu", "datodimo"],
        ["datodimo", "kupafobu"],
    ]
    index = synthetic_index(texts, VARIANTS["BM25Okapi"])
    assert index.rank(["zoparavi"], 10) == []
    assert len(index.search("zoparavi", 10)) == 0
    assert [p.article_id for p, _ in index.rank(["zoparavi", "pasutogu"], 10)] == ["a0"]


def test_query_matching_nothing_returns_no_hits(seed_index):
    assert seed_index.search("zebra xylophone", 5) == []


def test_hits_are_never_zero_score_filler(seed_index):
    hits = seed_index.search("Satya Nadella", 10)
    assert hits and all(h.score > 0 for h in hits)
    assert all("Nadella" in h.passage.text for h in hits)


@pytest.mark.parametrize("query", ["", "   ", "\x00\x01", "x" * 501])
def test_unusable_query_raises_a_clear_error(seed_index, query):
    with pytest.raises(QueryError):
        seed_index.search(query, 5)


def test_hits_carry_citations_and_marked_snippets(seed_index):
    hit = seed_index.search("valuation", 3)[0]
    assert hit.citation.title == "Microsoft Teams Up with Mistral AI to Diversify AI Offerings"
    assert hit.citation.source.startswith("002")
    assert "**valuation**" in hit.snippet.marked()
    assert len(hit.snippet.text) <= 330


def test_hits_passages_and_citations_are_the_articles_own(seed_index, seed_articles):
    """The index makes them from its columns: they equal the parsed article's, and copy and dump alike."""
    by_id = {article.id: article for article in seed_articles}
    for hit in seed_index.search("Mistral valuation", 5):
        article = by_id[hit.citation.article_id]
        assert hit.passage in article.passages
        assert hit.passage.model_dump() == Passage(**hit.passage.model_dump()).model_dump()
        assert hit.citation == Citation(
            article_id=article.id,
            title=article.title,
            date=article.date,
            source=article.source,
            language=article.language,
            url=article.url,
            outlet=article.outlet,
            date_source=article.date_source,
        )
        assert hit.citation.model_copy(update={"title": "x"}).title == "x"


def test_stem_prefix_finds_other_forms(seed_index):
    snippets = [h.snippet.marked() for h in seed_index.search("valuation", 5)]
    assert any("**valued**" in s for s in snippets)


def test_repeated_paragraph_appears_once():
    body = "Mistral AI signed a partnership with Microsoft in Paris on Monday."
    index = SearchIndex()
    index.add(parse_article(f"One\n\n{body}\n\nOther text.", "a.txt"))
    index.add(parse_article(f"Two\n\n{body}\n\nSomething else.", "b.txt"))
    hits = index.search("partnership Microsoft", 5)
    assert [h.passage.text for h in hits].count(body) == 1


def test_one_article_does_not_fill_the_list():
    many = "\n\n".join(f"Mistral partnership news number {i} about Microsoft deal {i}." for i in range(8))
    index = SearchIndex()
    index.add(parse_article(f"Many\n\n{many}", "many.txt"))
    index.add(parse_article("Other\n\nThe Mistral partnership was also covered elsewhere.", "other.txt"))
    sources = [h.citation.source for h in index.search("Mistral partnership", 3)]
    assert sources.count("many.txt") == 2 and "other.txt" in sources


def test_per_article_cap_yields_when_only_one_article_matches():
    many = "\n\n".join(f"Mistral partnership news number {i}." for i in range(5))
    index = SearchIndex()
    index.add(parse_article(f"Many\n\n{many}", "many.txt"))
    assert len(index.search("partnership", 4)) == 4


def test_add_is_idempotent_and_remove_reports(seed_articles):
    index = SearchIndex()
    assert index.add(seed_articles[0]) is True
    assert index.add(seed_articles[0]) is False
    assert (index.article_count, index.passage_count) == (
        1,
        sum(p.searchable for p in seed_articles[0].passages),
    )
    assert index.remove(seed_articles[0].id) is True
    assert index.remove(seed_articles[0].id) is False
    assert (index.article_count, index.passage_count) == (0, 0)
    assert index.search("Mistral", 5) == []


def test_removed_article_is_never_returned(seed_articles):
    index = SearchIndex()
    for article in seed_articles:
        index.add(article)
    target = next(a for a in seed_articles if a.source.startswith("002"))
    index.remove(target.id)
    assert all(h.citation.article_id != target.id for h in index.search("valuation multibillion", 10))


def test_related_articles_exclude_the_article_itself(seed_index, seed_articles):
    article = next(a for a in seed_articles if a.source.startswith("002"))
    related = seed_index.related(article, 3)
    assert len(related) == 3
    assert article.id not in {c.article_id for c in related}


def test_queries_stay_correct_while_articles_are_added_and_removed():
    index = synthetic_index(TEXTS[:500])
    errors, removed = [], set()
    stop = threading.Event()

    def writer():
        for i, words in enumerate(TEXTS[500:800], start=500):
            index.add(synthetic.article(f"a{i}", [words]))
            if i % 3 == 0:
                index.remove(f"a{i - 250}")
                removed.add(i - 250)
        stop.set()

    def reader():
        while not stop.is_set():
            try:
                for query in QUERIES[:10]:
                    for hit in index.search(" ".join(query), 5):
                        assert hit.passage.text
            except Exception as error:
                errors.append(error)
                return

    threads = [threading.Thread(target=writer)] + [threading.Thread(target=reader) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    kept = [i for i in range(800) if i not in removed]
    bm25 = rank_bm25.BM25Plus([TEXTS[i] for i in kept])
    for query in QUERIES[:20]:
        assert_same_top10(index, bm25, query, [f"a{i}" for i in kept])


def test_a_photo_caption_ranks_below_the_articles_own_text():
    caption = parse_article(
        "date 2024-02-27 Arthur Mensch, CEO, at the Bletchley summit. (Pool/Agency)\n\nBody text about models.",
        "a.txt",
    )
    body = parse_article(
        "Headline\n\nThe CEO, Arthur Mensch, told investors in London that revenue grew.", "b.txt"
    )
    index = SearchIndex()
    index.add(caption)
    index.add(body)
    assert caption.passages[0].kind == "caption"
    terms = index.analyzer.query_terms("Arthur Mensch CEO")
    assert index.rank(terms, 1)[0][0].kind == "caption", "plain BM25 puts the short caption first"
    assert [h.citation.source for h in index.search("Arthur Mensch CEO", 2)] == ["b.txt", "a.txt"]


def test_a_build_pauses_the_cycle_collector_and_gives_it_back_as_it_was():
    import gc

    from search.index import collector_paused

    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():  # a build in another thread
            assert not gc.isenabled()
        assert not gc.isenabled(), "still paused while the first build runs"
    assert gc.isenabled()
    synthetic_index(TEXTS[:50])
    SearchIndex().extend(synthetic.article(f"a{i}", [words]) for i, words in enumerate(TEXTS[:50]))
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled(), "a collector that was off stays off"
    finally:
        gc.enable()
