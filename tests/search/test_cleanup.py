"""The loader's tidying rules: datelines, credit lines, unrecognised headlines, dangling lead-ins."""

from itertools import groupby

import pytest

from search import parse_article
from search.loader import is_credit_line, looks_like_headline, strip_dateline

BODY = "The agency said the talks would resume next week in Geneva with all parties present."


def body_texts(article):
    return [p.text for p in article.passages if p.kind == "body"]


@pytest.mark.parametrize(
    "dateline",
    [
        "PARIS, June 11 (Reuters) - ",
        "VIENNA (AP) — ",
        "(Reuters) - ",
        "PARIS (AFP) - ",
        "LYON, 3 mars (AFP) - ",
        "MUNICH — ",
        "HAMBURG, Germany — ",
        "SAN FRANCISCO, Calif., March 3 (Reuters) -- ",
        "TOULOUSE – ",
    ],
)
def test_wire_datelines_are_removed_from_the_lead(dateline):
    lead = "French start-up Helia Labs has raised 450 million euros, the company said on Wednesday."
    article = parse_article(f"Helia Labs raises money\n\n{dateline}{lead}\n\n{BODY}", "wire.txt")
    assert body_texts(article) == [lead, BODY]


@pytest.mark.parametrize(
    "text",
    [
        "LA Tribune – Mistral rallied strongly last fall, with the support of the state.",
        "Marina Ferrari – No, we were not aware of the negotiations.",
        "AI – the two letters everyone repeats – is everywhere this year.",
        "The PARIS office — opened in May — employs 40 people.",
    ],
)
def test_text_that_only_looks_like_a_dateline_is_kept(text):
    assert strip_dateline(text) == text


def test_dateline_is_only_looked_for_at_the_start_of_the_article():
    later = "BERLIN — The German government said it would not comment on the deal."
    article = parse_article(f"Headline here\n\nFirst paragraph of the article.\n\n{BODY}\n\n{later}", "a.txt")
    assert later in body_texts(article)


def test_dateline_with_the_text_after_the_date_marker():
    article = parse_article(f"date 2025-10-02 VIENNA (AP) — {BODY}\n\nMore text follows here.", "a.txt")
    assert body_texts(article)[0] == BODY


@pytest.mark.parametrize(
    "line",
    [
        "Interview by James Whitfield",
        "Updated 9 September 2025, 18:42",
        "Mis à jour le 12/03/2025 à 14h05",
        "(Reporting by Claire Martin in Paris; Editing by Mark Potter)",
        "Additional reporting by Tom Hughes",
        "Avec AFP",
        "jl/abc/def",
        "Propos recueillis par Antoine Girard",
    ],
)
def test_credit_lines_are_captions_not_text(line):
    article = parse_article(
        f"Headline here\n\n{BODY}\n\n{line}\n\nAnother paragraph of the article.", "a.txt"
    )
    assert line not in body_texts(article)
    assert any(p.kind == "caption" and p.text == line for p in article.passages)


@pytest.mark.parametrize(
    "text",
    [
        "Updated figures show that the company grew faster than expected.",
        "Interviews by the police continued all night.",
        "He said it was an and/or choice for the board members in the room.",
    ],
)
def test_sentences_that_start_like_credits_are_text(text):
    assert not is_credit_line(text)


def test_long_headline_without_full_stop_becomes_the_title():
    headline = (
        "Lumen Cloud unveils its first chip made in Europe at an event in Dresden on Tuesday, "
        "saying it will cut the cost of running AI models by half for its customers"
    )
    article = parse_article(f"date 2025-08-06 {headline}\n\n{BODY}\n\nMore text here.", "chip.txt")
    assert article.title.startswith("Lumen Cloud unveils its first chip")
    assert all(headline not in p.text for p in article.passages)


def test_headline_after_a_photo_caption_is_the_title():
    text = (
        "date 2025-06-11 Nora Vidal in Paris, May 22, 2025. (Reuters/Benoit Tessier)\n\n"
        f"Helia Labs raises 450 million euros\n\n{BODY}"
    )
    article = parse_article(text, "a.txt")
    assert article.title == "Helia Labs raises 450 million euros"
    assert [p.kind for p in article.passages] == ["caption", "body"]


def test_question_headline_becomes_the_title():
    question = "What is the EU's AI code of practice, and why are tech companies split over it?"
    article = parse_article(f"{question}\n\n{BODY}", "q.txt")
    assert article.title == question
    assert body_texts(article) == [BODY]


@pytest.mark.parametrize(
    "text",
    [
        "Mistral AI raised money. Will it be enough? Investors think so",
        "Did the company raise money? It did, and a lot of it, according to the filings.",
        "A sentence that ends properly with a full stop and is the lead of the story.",
    ],
)
def test_leads_are_not_taken_for_headlines(text):
    assert not looks_like_headline(text) or "\n" in text


def test_sentence_cut_where_a_post_was_removed_is_set_apart():
    text = (
        "Chip launch\n\n"
        "Lumen Cloud unveiled its first chip on Tuesday. "
        "Chief executive Jonas Weber announced the chip in a post on X, writing:\n\n"
        "The company has spent 300 million euros on the project since 2023."
    )
    article = parse_article(text, "a.txt")
    assert body_texts(article) == [
        "Lumen Cloud unveiled its first chip on Tuesday.",
        "The company has spent 300 million euros on the project since 2023.",
    ]
    dangling = [p for p in article.passages if p.kind == "caption"]
    assert [p.text for p in dangling] == [
        "Chief executive Jonas Weber announced the chip in a post on X, writing:"
    ]


def test_french_dangling_lead_in_with_a_space_before_the_colon():
    text = (
        "Avion électrique\n\n"
        "Son président, Marc Sabatier, s'est félicité sur X de cette étape, en écrivant :\n\n"
        "Le programme a coûté 220 millions d'euros depuis 2021."
    )
    article = parse_article(text, "a.txt")
    assert body_texts(article) == ["Le programme a coûté 220 millions d'euros depuis 2021."]


@pytest.mark.parametrize(
    "following",
    [
        "- faster chips\n- lower prices",
        "“We are proud of this chip,” he wrote.",
    ],
)
def test_a_colon_that_introduces_a_list_or_a_quote_is_kept(following):
    lead_in = "Chief executive Jonas Weber listed the chip's advantages in a statement on Tuesday:"
    article = parse_article(f"Chip launch\n\n{lead_in}\n\n{following}", "a.txt")
    assert lead_in in [p.text for p in article.passages]
    assert all(p.kind != "caption" for p in article.passages)


def test_short_section_heading_ending_with_a_colon_stays_a_heading():
    article = parse_article(f"Chip launch\n\n{BODY}\n\nKey figures:\n\nMore text about the chip.", "a.txt")
    assert any(p.kind == "heading" and p.text == "Key figures:" for p in article.passages)


def test_rules_read_a_bounded_prefix_of_huge_blocks():
    huge = "PARIS " * 200_000 + "— text."
    assert strip_dateline(huge) == huge
    assert not looks_like_headline("Headline " * 100_000)
    assert not is_credit_line("By " + "Jane Doe " * 100_000)
    article = parse_article(
        "Headline\n\n" + "A, " * 100_000 + "end.\n\n" + "word " * 50_000 + "he wrote in a post :\n\nText.",
        "big.txt",
    )
    # A huge block is cut into passages of bounded length: the kinds, run by run, are what counts.
    assert [kind for kind, _ in groupby(p.kind for p in article.passages)] == ["body", "caption", "body"]
