import sys
import unicodedata
from pathlib import Path

import pytest
import snowballstemmer
from snowballstemmer import english_stemmer, french_stemmer

from search.analysis import Analyzer, detect_language, fold_accents
from search.words import WORD_RE

analyzer = Analyzer()


def shares_a_term(query: str, text: str, language: str) -> bool:
    return bool(set(analyzer.query_terms(query)) & set(analyzer.terms(text, language)))


@pytest.mark.parametrize(
    ("query", "text", "language"),
    [
        ("Timothee", "Timothée Lacroix", "fr"),
        ("Timothée", "Timothee Lacroix", "en"),
        ("Etats-Unis", "aux États-Unis", "fr"),
        ("ia", "l’IA générative", "fr"),
        ("intelligence", "d'intelligence artificielle", "fr"),
        ("Mistral-Large", "Dubbed Mistral-Large, this model", "en"),
        ("large", "Dubbed Mistral-Large, this model", "en"),
        ("multibillion dollar", "a multibillion-dollar valuation", "en"),
        ("multibillion-dollar", "a multibillion-dollar valuation", "en"),
        ("Mistral", "Mistral’s larger model", "en"),
        ("Mistrals", "Mistral's success", "en"),
        ("founders", "the founders said", "en"),
        ("founder", "three French founders", "en"),
        ("105", "raised 105 million euros", "en"),
        ("$2 billion", "valued at around $2 billion", "en"),
        ("1000", "1,000 users", "en"),
        ("2,5 milliards", "2.5 milliards", "fr"),
        ("partenariats", "un partenariat fructueux", "fr"),
    ],
)
def test_query_finds_the_word_in_its_other_form(query, text, language):
    assert shares_a_term(query, text, language)


def test_accent_folding():
    assert fold_accents("Créée à Paris, États-Unis, œuvre") == "Creee a Paris, Etats-Unis, œuvre"


def test_folding_drops_exactly_the_combining_marks_of_every_script():
    """The fast path (Latin marks by one pattern) agrees with the definition on every code point."""

    def by_definition(text):
        decomposed = unicodedata.normalize("NFD", text)
        return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))

    points = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    for chunk in range(0, len(points), 64):
        text = "é".join(points[chunk : chunk + 64])
        assert fold_accents(text) == by_definition(text), [hex(ord(c)) for c in text[:2]]
    assert fold_accents("e\u034fe") == "e\u034fe"  # the grapheme joiner is no mark


def test_french_elisions_are_dropped():
    assert analyzer.terms("l’IA d'Europe qu’elle", "fr") == ["ia", "europ"]


def test_possessives_are_dropped():
    assert analyzer.terms("Mistral’s Microsoft's", "en") == ["mistral", "microsoft"]


def test_hyphenated_words_give_parts_and_whole():
    assert analyzer.terms("Mistral-Large", "en") == ["mistral", "larg", "mistrallarg"]


def test_stop_words_are_removed_by_language():
    assert analyzer.terms("the partnership of the year", "en") == ["partnership", "year"]
    assert analyzer.terms("le partenariat de l'année", "fr") == ["partenariat", "anne"]


def test_numbers_and_amounts_are_kept():
    assert analyzer.terms("$2 billion, 105 million €, 1,000 and 2,5", "en") == [
        "dollar",
        "2",
        "billion",
        "105",
        "million",
        "euro",
        "1000",
        "2.5",
    ]


def test_query_in_clear_french_uses_french_only():
    assert analyzer.query_languages("la valorisation de Mistral") == ("fr",)
    assert analyzer.query_languages("who founded Mistral") == ("en",)
    assert analyzer.query_languages("Mistral Azure") == ("en", "fr")


def test_query_of_unclear_language_drops_stop_words_of_either():
    assert analyzer.query_terms("Mistral et Microsoft") == ["mistral", "microsoft"]


def test_every_step_can_be_switched_off():
    plain = Analyzer(stem=False, remove_stopwords=False, fold_accents=False, split_compounds=False)
    assert plain.terms("Les États-Unis", "fr") == ["les", "étatsunis"]


def test_tokens_keep_their_spans():
    text = "Le « Chat » d’IA"
    tokens = analyzer.tokens(text, "fr")
    assert [(text[t.start : t.end], t.terms) for t in tokens] == [
        ("Le", ()),
        ("Chat", ("chat",)),
        ("d’IA", ("ia",)),
    ]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Mistral AI lance son nouveau modèle de langage avec Microsoft et les clients d’Azure.", "fr"),
        ("Mistral AI launched its new model with Microsoft and the customers of Azure.", "en"),
    ],
)
def test_language_detection(text, language):
    assert detect_language(text) == language


@pytest.mark.parametrize(
    "forms",
    [
        ("créé", "créée", "créés", "créées", "creee", "cree"),
        ("annoncé", "annoncée", "annoncées", "annoncee", "annonce"),
        ("dévoilé", "dévoilée", "devoilee"),
        ("valorisée", "valorisé", "valorisee"),
        ("fondée", "fondé", "fondee"),
    ],
)
def test_french_forms_of_one_word_share_one_stem_with_or_without_accents(forms):
    """The French stemmer reads accents: stemming before folding gives `créé` and `créée` one stem."""
    assert len({analyzer.terms(form, "fr")[0] for form in forms}) == 1


@pytest.mark.parametrize(
    ("text", "language", "terms"),
    [
        ("$2bn", "en", ["dollar", "2", "billion"]),
        ("$2 billion", "en", ["dollar", "2", "billion"]),
        ("2 billion dollars", "en", ["2", "billion", "dollar"]),
        ("2 milliards de dollars", "fr", ["2", "billion", "dollar"]),
        ("€105m", "en", ["euro", "105", "million"]),
        ("105 millions d'euros", "fr", ["105", "million", "euro"]),
        ("105 M€", "fr", ["105", "million", "euro"]),
        ("2,5 Md€", "fr", ["2.5", "billion", "euro"]),
        ("5.8bn", "en", ["5.8", "billion"]),
        ("15M€", "fr", ["15", "million", "euro"]),
        ("100k users", "en", ["100", "thousand", "user"]),
        ("£3m", "en", ["pound", "3", "million"]),
    ],
)
def test_numbers_are_split_from_units_and_currencies(text, language, terms):
    assert analyzer.terms(text, language) == terms


def test_letters_after_a_number_that_are_no_unit_stay_one_word():
    assert analyzer.terms("Mixtral 8x7B and GPT-4", "en") == ["mixtral", "8x7b", "gpt", "4", "gpt4"]


SEED_WORDS = sorted(
    {
        word
        for folder in ("seeds", "tests/fixtures")
        for path in Path(__file__).parents[2].joinpath(folder).rglob("*.txt")
        for word in WORD_RE.findall(path.read_text(encoding="utf-8").lower())
    }
)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_stemmer_in_use_gives_the_snowball_reference_stems(language):
    """PyStemmer (C) runs when installed: its stems must be those of snowballstemmer's own Python
    algorithms, or saved indexes would hold other terms than a fresh analysis gives."""
    reference = {"en": english_stemmer.EnglishStemmer, "fr": french_stemmer.FrenchStemmer}[language]()
    in_use = snowballstemmer.stemmer({"en": "english", "fr": "french"}[language])
    assert type(in_use).__module__ == "Stemmer"
    assert len(SEED_WORDS) > 2000
    assert [in_use.stemWord(w) for w in SEED_WORDS] == [reference.stemWord(w) for w in SEED_WORDS]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_plain_words_give_the_terms_of_the_general_rules(language):
    """A word of ASCII letters takes a short path; with an apostrophe after it (which the rules strip)
    the same word goes through every rule: the terms must agree."""
    words = [w for w in SEED_WORDS if w.isascii() and w.isalpha()]
    words += [w.upper() for w in words[:200]] + ["bn", "Mds", "USD", "eur", "a", "le", "the", "creee"]
    fresh = Analyzer()
    assert [fresh.word_terms(w, language) for w in words] == [
        Analyzer().word_terms(w + "'", language) for w in words
    ]
