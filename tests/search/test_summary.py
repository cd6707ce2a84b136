from pathlib import Path

import pytest

from search import parse_article
from search.summary import summarize
from tests.benchmarks.summary_bench import averages, evaluate, rouge_n, table, tokens

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def test_summarize_beats_lead_3_on_rouge_1_and_rouge_2(capsys):
    scores = evaluate()
    with capsys.disabled():
        print("\n" + table(scores))
    ours, lead = averages(scores["summarize"]), averages(scores["lead-3"])
    assert ours["rouge1"] > lead["rouge1"]
    assert ours["rouge2"] > lead["rouge2"]


def test_rouge_n_counts_clipped_overlap_and_folds_accents():
    assert rouge_n("le modèle créé", "le modele cree", 1) == 1.0
    assert rouge_n("a a a", "a b", 1) == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))
    assert rouge_n("a b c", "c b a", 2) == 0.0
    assert tokens("Modèle « Large »") == ["modele", "large"]


@pytest.mark.parametrize("path", sorted(SEEDS.glob("*.txt")), ids=lambda p: p.name)
def test_seed_summaries_are_two_or_three_of_the_articles_own_sentences_in_order(seed_articles, path):
    article = next(a for a in seed_articles if a.source == path.name)
    summary = summarize(article)
    sentences = [
        " ".join(p.text[s:e].split()) for p in article.passages if p.kind == "body" for s, e in p.sentences
    ]
    used = [s for s in sentences if s in summary]
    assert len(summary) <= 500
    assert 2 <= len(used) <= 3
    assert [summary.index(s) for s in used] == sorted(summary.index(s) for s in used)


def test_french_article_gets_a_french_summary(seed_articles):
    article = next(a for a in seed_articles if a.language == "fr")
    summary = summarize(article)
    assert any(word in summary.split() for word in ("le", "la", "de", "des", "et"))
    assert "announcing" not in summary


def test_leaves_out_captions_bylines_headings_embeds_and_questions():
    text = (
        "date 2024-03-01 Arthur Mensch in Paris on May 2, 2023. (AFP)\n\n"
        "Mistral AI Raises Money Again\n\n"
        "By Jane Doe\n\n"
        "Mistral AI raised 600 million euros on Tuesday from investors led by General Catalyst.\n\n"
        "– Global Business –\n\n"
        "The round values the Paris start-up at about $6 billion, according to two people close to it.\n\n"
        "Will the money be enough to compete with OpenAI and Google in the years to come?\n\n"
        "We're thrilled to welcome new investors to Mistral today. https://t.co/abc\n"
        "— Arthur Mensch (@arthurmensch) June 11, 2024\n\n"
        "The company will spend the money on computing power and on hiring engineers in Europe."
    )
    summary = summarize(parse_article(text, "raise.txt"))
    assert "600 million euros" in summary
    assert "$6 billion" in summary
    for left_out in ("AFP", "Jane Doe", "Global Business", "compete with OpenAI", "thrilled", "t.co"):
        assert left_out not in summary


def test_interviewer_questions_are_left_out(seed_articles):
    interview = next(a for a in seed_articles if "Marina Ferrari" in a.text)
    summary = summarize(interview)
    assert "?" not in summary
    assert "LA Tribune" not in summary and "Marina Ferrari –" not in summary
    assert "15 million euros" in summary


def test_short_article_returns_what_there_is():
    article = parse_article("Mistral AI opens an office in Singapore.", "short.txt")
    assert summarize(article) == "Mistral AI opens an office in Singapore."


def test_one_long_sentence_is_cut_at_a_word_with_an_ellipsis():
    sentence = "Mistral AI announced " + ", ".join(f"partner number {i}" for i in range(80)) + "."
    summary = summarize(parse_article(sentence, "long.txt"))
    assert len(summary) <= 500
    assert summary.endswith("…")
    assert summary[:-1] == sentence[: len(summary) - 1]
    assert not summary[:-1].endswith(" ")


def test_respects_a_smaller_budget(seed_articles):
    for article in seed_articles:
        assert len(summarize(article, max_sentences=2, max_chars=200)) <= 200
