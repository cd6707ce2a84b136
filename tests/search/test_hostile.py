"""Hostile files: every step of loading, summarising and quoting is linear in its input.

Each input is sized so that the quadratic or backtracking code these tests replaced needs minutes to
hours on it (measured on the old code: the figure is in each test), while the linear code needs a few
seconds; `finishes` only detects a hang, and each test then checks what came out.
"""

from itertools import islice, product
from string import ascii_lowercase

from search import Summarizer, parse_article
from search.analysis import Analyzer, Token, _cached_stem
from search.loader import is_credit
from search.models import Article, Passage
from search.summary import make_snippet
from tests.hang import finishes

SUMMARIZER = Summarizer(Analyzer())


def test_many_one_line_paragraphs_are_parsed_and_a_repeat_is_dropped():
    # The old duplicate check compared every paragraph with every other: 2.2 s for 4,000, x4 per doubling.
    count = 50_000
    lines = [f"Paragraph {n} says that Mistral AI shipped model number {n} this week." for n in range(count)]
    lines.insert(10, lines[5])
    text = "Headline\n\n" + "\n".join(lines)

    def kept():
        article = parse_article(text, "many.txt")
        return len(article.passages), sum(p.text == lines[5] for p in article.passages)

    assert finishes(kept) == (count, 1)


def test_a_paragraph_repeated_inside_a_neighbour_is_kept_once_in_a_long_file():
    lines = [f"Paragraph {n} says that Mistral AI shipped model number {n} this week." for n in range(20_000)]
    teaser = "Mistral AI raised 600 million euros from its investors on Tuesday."
    lines[1000:1000] = [teaser, teaser + " The round values the company at 6 billion euros."]
    article = finishes(lambda: parse_article("Headline\n\n" + "\n".join(lines), "teaser.txt"))
    assert [p.text for p in article.passages if teaser in p.text] == [lines[1001]]


def test_a_long_first_line_with_slashes_is_not_taken_for_a_photo_credit():
    # The old credit pattern backtracked: 18 s for 100 KB, x4 per doubling; this line is 400 KB.
    line = "date 2024-01-01 (" + "a/" * 200_000

    def first_passage():
        article = parse_article(line + "\n\nMistral AI raised money on Monday.", "slashes.txt")
        return article.date.isoformat(), article.passages[0].kind

    assert finishes(first_passage) == ("2024-01-01", "body")


def test_photo_credits_are_recognised_from_the_last_parenthesis():
    assert is_credit("Arthur Mensch in Paris (Photo: Joel Saget / AFP)")
    assert is_credit("The team at work (Getty Images) ")
    assert is_credit("Arthur Mensch (AP)")
    assert is_credit("Arthur Mensch (Mistral AI/Handout)")
    assert not is_credit("Mistral AI raised money (a lot of it)")
    assert not is_credit("Mistral (AI) raised money")
    assert not is_credit("Mistral AI raised (money/time")
    assert not is_credit("nested (a (b/c))")


def test_a_paragraph_wrapped_over_a_million_lines_is_joined():
    # Joining by concatenation copied the paragraph at every line: 39 s for 400,000 lines, x4 per doubling.
    count = 1_000_000
    text = "Headline\n\nMistral AI said\n" + "\n".join(["and more"] * count)

    def body():
        article = parse_article(text, "wrapped.txt")
        return sum(p.text.count("and more") for p in article.passages)

    assert finishes(body) == count


def test_a_list_of_a_million_items_is_kept_in_passages_of_bounded_length():
    # Grouping items by concatenation: 52 s for 400,000 items, x4 per doubling.
    count = 1_000_000
    text = "Headline\n\n" + "\n".join(["- item"] * count)

    def lists():
        article = parse_article(text, "list.txt")
        return (
            {p.kind for p in article.passages},
            sum(p.text.count("- item") for p in article.passages),
            max(len(p.text) for p in article.passages),
        )

    kinds, items, longest = finishes(lists)
    assert kinds == {"list"} and items == count and longest <= 700


def test_a_dash_line_padded_with_spaces_is_classified_at_once():
    # The dashed-heading pattern took 6 s on a 4,000-space line, more than x4 per doubling.
    text = "Headline\n\n- " + " " * 50_000 + "x\n\nMistral AI raised money."
    article = finishes(lambda: parse_article(text, "dash.txt"))
    assert article.passages[0].kind == "list"


def test_a_megabyte_of_opening_quotes_is_cut_into_sentences():
    # sentencex is quadratic on a run of opening quotes: 0.4 s for 40 KB, x4 per doubling.
    text = "Headline\n\n" + "« " * 500_000

    def spans_are_within_their_passages():
        article = parse_article(text, "quotes.txt")
        return all(0 <= s < e <= len(p.text) for p in article.passages for s, e in p.sentences)

    assert finishes(spans_are_within_their_passages)


def test_a_megabyte_line_without_punctuation_gives_short_passages():
    text = "Headline\n\n" + "mistral " * 125_000
    article = finishes(lambda: parse_article(text, "line.txt"))
    assert len(article.passages) > 100
    assert max(len(p.text) for p in article.passages) <= 1000
    assert sum(p.text.count("mistral") for p in article.passages) == 125_000


def long_sentence_article(sentence: str) -> Article:
    passage = Passage(article_id="a", position=0, text=sentence, sentences=((0, len(sentence)),))
    return Article(id="a", title="Mistral AI", source="a.txt", text=sentence, passages=(passage,))


def test_a_summary_of_a_sentence_made_of_number_separators_is_made():
    # The amount pattern retried `\b\d[\d.,]*` from every digit: 1.1 s for 8 KB, x4 per doubling.
    sentence = "Mistral AI raised " + "1." * 100_000 + " times"
    summary = finishes(lambda: SUMMARIZER.summarize(long_sentence_article(sentence)))
    assert summary.startswith("Mistral AI raised") and len(summary) <= 500


def test_query_terms_of_a_word_of_a_hundred_thousand_hyphenated_parts():
    # Each part's terms were looked for in a list of the terms before: quadratic in the parts.
    parts = ["".join(letters) for letters in islice(product(ascii_lowercase, repeat=4), 100_000)]
    terms = finishes(lambda: Analyzer().query_terms("-".join(parts)))
    assert terms[:2] == ["aaaa", "aaab"] and len(terms) > 90_000


def test_a_snippet_of_a_passage_with_many_sentences_and_marks():
    # Each sentence's coverage read every mark of the passage: sentences x marks.
    count = 100_000
    text = " ".join(["Mistral won."] * count)
    sentences = tuple((13 * n, 13 * n + 12) for n in range(count))
    passage = Passage(article_id="a", position=0, text=text, sentences=sentences)
    marks = [Token(13 * n, 13 * n + 7, ("mistral",)) for n in range(count)]
    snippet = finishes(lambda: make_snippet(passage, marks, {"mistral": 1.0}))
    assert snippet.text.startswith("Mistral won.")
    assert all(snippet.text[s:e] == "Mistral" for s, e in snippet.highlights)


def test_long_words_are_not_kept_in_the_analysis_caches():
    # A file of long distinct words would otherwise fill the word and stem caches with them.
    analyzer = Analyzer()
    words = [f"{'x' * 1000}{n}" for n in range(50)]
    stems_before = _cached_stem.cache_info().currsize
    assert len(analyzer.terms(" ".join(words), "en")) == 50
    assert analyzer._cache["en"] == {}
    assert _cached_stem.cache_info().currsize == stems_before
    assert analyzer.terms("Mistral models", "en") == ["mistral", "model"]
    assert set(analyzer._cache["en"]) == {"Mistral", "models"}
