"""Query expansion (acronyms, titles, the English<->French lexicon), typos, and the "nothing found" gate."""

import pytest

from search import SearchIndex
from search.analysis import Analyzer
from search.lexicon import DATA, EXPANSION_WEIGHT, FILES, default_lexicon, read_lines
from search.query import TYPO_WEIGHT
from tests.search.judged import judged_articles, judged_index

NO_ENTRY_QUERIES = ["Aleph Alpha", "Satya Nadella", "Mistral-Large", "Marina Ferrari", "Emmanuel Macron"]


@pytest.fixture(scope="module")
def articles():
    return judged_articles()


@pytest.fixture(scope="module")
def index(articles):
    return judged_index(articles)


@pytest.fixture(scope="module")
def plain(articles):
    """The same index without expansion and without the gate: BM25 on the user's own words."""
    return judged_index(articles, expand=False, min_coverage=0)


def top(index, query, n=3):
    return [(h.citation.source, h.passage.text) for h in index.search(query, n)]


def answered_by(index, query, source, phrase, n=3):
    return any(s.startswith(source) and phrase in text for s, text in top(index, query, n))


def test_the_data_files_hold_several_hundred_meanings_in_two_columns():
    lines = [line for name in FILES for line in read_lines(DATA / name)]
    assert len(lines) >= 300
    assert all({language for language, _ in line} == {"en", "fr"} for line in lines)


def test_a_malformed_data_line_is_named(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_text("# comment\nceo\tpdg\nonly one column\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.tsv:3"):
        read_lines(path)


@pytest.mark.parametrize("query", NO_ENTRY_QUERIES)
def test_a_query_with_no_lexicon_entry_ranks_exactly_as_without_the_lexicon(query, index, plain):
    assert default_lexicon(index.analyzer).expand(query, ("en", "fr"), ()).weights == {}
    ours = [(h.passage.id, h.score) for h in index.search(query, 10)]
    assert ours and ours == [(h.passage.id, h.score) for h in plain.search(query, 10)]


def test_expansions_weigh_less_than_the_users_own_words(index):
    weights = index.query_weights("who is the boss of Mistral?")
    assert weights["boss"] == 1 and weights["mistral"] == 1
    assert weights["ceo"] == EXPANSION_WEIGHT and weights["pdg"] == EXPANSION_WEIGHT
    assert all(w < 1 for term, w in weights.items() if term not in ("boss", "mistral"))


@pytest.mark.parametrize(
    ("query", "source", "phrase"),
    [
        ("qui dirige Mistral ?", "002", "CEO Arthur Mensch"),  # French question, English answer
        ("Who is the CTO of Mistral?", "fr_serie_b", "directeur technique"),  # and the reverse
        ("who is the boss of Mistral?", "002", "CEO Arthur Mensch"),  # other words
        ("what's the price tag on Mistral", "002", "valuation"),
        ("règlement européen sur l'IA", "002", "Artificial Intelligence Act"),
        ("la réglementation va-t-elle freiner l'innovation", "002", "stifle innovation"),
        ("IPO Mistral", "fr_serie_b", "introduction en Bourse"),  # an acronym, written out in French
        ("participation minoritaire de Microsoft", "003", "acquiring a minority stake"),
        ("a16z", "en_series_a", "Andreessen Horowitz"),
    ],
)
def test_the_lexicon_finds_what_plain_search_misses(query, source, phrase, index, plain):
    assert answered_by(index, query, source, phrase)
    assert not answered_by(plain, query, source, phrase)


def test_an_abbreviation_that_is_a_word_expands_only_in_capitals():
    lexicon = default_lexicon(Analyzer())
    assert "etat" in lexicon.expand("US office", ("en",), ()).weights
    assert "etat" not in lexicon.expand("tell us about the office", ("en",), ()).weights


def test_a_noun_finds_its_verb(index):
    weights = index.query_weights("Microsoft acquisition")
    assert weights["acquir"] == EXPANSION_WEIGHT
    assert answered_by(index, "Microsoft acquisition", "003", "acquiring a minority stake")


def test_words_matched_through_the_lexicon_are_bold_in_the_snippet(index):
    snippets = [hit.snippet.marked() for hit in index.search("qui dirige Mistral ?", 3)]
    assert "**PDG**" in snippets[0]
    assert any("**CEO**" in snippet for snippet in snippets)


def test_a_typo_finds_the_word_one_edit_away(index, plain):
    assert all("Mensch" in text for _, text in top(index, "Arthur Mensh"))
    assert index.query_weights("Microsfot") == {"microsfot": 1, "microsoft": TYPO_WEIGHT}
    assert plain.query_weights("Microsfot") == {"microsfot": 1}
    assert index.query_weights("Microsoft") == {"microsoft": 1}  # a known word is never "corrected"


def test_a_name_in_an_english_question_finds_its_french_stem(index):
    assert answered_by(index, "how many programming languages does Codestral know", "fr_serie_b", "Codestral")


@pytest.mark.parametrize(
    "query",
    [
        "What's the weather in Paris tomorrow?",
        "Apple a-t-il racheté Mistral ?",
        "Mistral carbon footprint",
    ],
)
def test_nothing_found_when_the_important_words_are_unknown(query, index, plain):
    assert index.coverage(query) < index.min_coverage
    assert index.search(query, 5) == []
    assert plain.search(query, 5), "without the gate a weak match on a common word comes back"


@pytest.mark.parametrize(
    "query",
    [
        "qui dirige Mistral ?",
        "Arthur Mensh",
        "how much did Microsoft put into Mistral",
        "€105m",
        "IPO Mistral",
    ],
)
def test_the_gate_keeps_questions_whose_words_are_known_in_any_form(query, index):
    assert index.coverage(query) >= index.min_coverage
    assert index.search(query, 5)


def test_the_gate_weighs_words_by_idf(index):
    """One unknown word among rare known ones passes; one among only common ones does not."""
    assert index.coverage("Mistral footprint") < index.coverage("Codestral Bpifrance footprint")
    assert index.coverage("Codestral Bpifrance footprint") >= index.min_coverage


def test_the_gate_threshold_is_a_parameter(articles):
    off = judged_index(articles, min_coverage=0)
    strict = judged_index(articles, min_coverage=1)
    assert off.search("Mistral carbon footprint", 5)
    assert strict.search("Aleph Alpha", 5)
    assert strict.search("Aleph Alpha unicorn", 5) == []


def test_empty_index_says_nothing_found():
    assert SearchIndex().search("Mistral", 5) == []
