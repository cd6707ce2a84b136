import datetime as dt
import logging

import pytest

from search import load_article, load_articles, parse_article
from search.loader import MAX_ARTICLE_BYTES

SEED_EXPECTATIONS = {
    "000": (dt.date(2024, 2, 27), "en", "French company Mistral AI"),
    "001": (dt.date(2024, 2, 28), "en", "Mistral rallied strongly last fall"),
    "002": (None, "en", "Microsoft Teams Up with Mistral AI to Diversify AI Offerings"),
    "003": (None, "en", "Mistral, a French startup, has unveiled its large language model"),
    "004": (None, "fr", "Soutenu par Microsoft, le français Mistral lance une IA conversationnelle"),
}


def by_prefix(articles):
    return {a.source[:3]: a for a in articles}


def test_every_seed_loads_with_date_title_and_language(seed_articles):
    articles = by_prefix(seed_articles)
    assert set(articles) == set(SEED_EXPECTATIONS)
    for prefix, (date, language, title_start) in SEED_EXPECTATIONS.items():
        article = articles[prefix]
        assert article.date == date, prefix
        assert article.language == language, prefix
        assert article.title.startswith(title_start), (prefix, article.title)
        assert len(article.title) <= 100
        assert not article.title.startswith("date")


def test_titles_never_keep_an_interviewer_label(seed_articles):
    assert not by_prefix(seed_articles)["001"].title.startswith("LA Tribune")


def test_photo_caption_after_the_date_is_a_caption(seed_articles):
    first = by_prefix(seed_articles)["000"].passages[0]
    assert first.kind == "caption"
    assert first.text.startswith("Arthur Manns, CEO of Mistral AI")


def test_text_after_the_date_is_body(seed_articles):
    first = by_prefix(seed_articles)["001"].passages[0]
    assert first.kind == "body"
    assert first.text.startswith("LA Tribune – Mistral rallied")


def test_paragraph_repeated_inside_the_next_one_is_kept_once(seed_articles):
    article = by_prefix(seed_articles)["002"]
    starts = [p for p in article.passages if p.text.startswith("In a strategic move")]
    assert len(starts) == 1
    assert "The collaboration revealed on Monday" in starts[0].text


def test_headline_is_the_title_not_a_passage(seed_articles):
    article = by_prefix(seed_articles)["002"]
    assert all(p.text != article.title for p in article.passages)


def test_french_structure_headings_list_and_embed(seed_articles):
    article = by_prefix(seed_articles)["004"]
    kinds = {p.text.split("\n")[0][:30]: p.kind for p in article.passages}
    assert kinds["Tl;dr"] == "heading"
    assert kinds["Collaboration avec Microsoft"] == "heading"
    lists = [p for p in article.passages if p.kind == "list"]
    assert len(lists) == 1 and lists[0].text.count("\n- ") == 3
    embeds = [p for p in article.passages if p.kind == "embed"]
    assert len(embeds) == 1
    assert "@MistralAI" in embeds[0].text and "Satya Nadella (@satyanadella)" in embeds[0].text


def test_dashed_section_headings_and_bylines(seed_articles):
    kinds = {p.text: p.kind for p in by_prefix(seed_articles)["000"].passages}
    assert kinds["– Global Business –"] == "heading"
    byline = by_prefix(seed_articles)["001"].passages[-1]
    assert (byline.kind, byline.text) == ("caption", "Comments collected by Sylvain Rolland")


def test_one_paragraph_per_line(seed_articles):
    article = by_prefix(seed_articles)["003"]
    assert len(article.passages) == 8
    assert all(p.kind == "body" for p in article.passages)


def test_passages_carry_sentence_spans(seed_articles):
    for article in seed_articles:
        for passage in article.passages:
            assert passage.sentences
            for start, end in passage.sentences:
                assert 0 <= start < end <= len(passage.text)
                assert passage.text[start:end] == passage.text[start:end].strip()


def test_french_abbreviation_does_not_end_a_sentence():
    article = parse_article(
        "Titre\n\nM. Mensch a parlé aux clients de la société. Ensuite la société a grandi.", "a.txt"
    )
    assert [article.passages[0].text[s:e] for s, e in article.passages[0].sentences] == [
        "M. Mensch a parlé aux clients de la société.",
        "Ensuite la société a grandi.",
    ]


def test_long_paragraph_is_split_at_sentence_boundaries():
    sentence = "Mistral AI signed a large deal with a cloud provider in Europe this week. "
    article = parse_article("Headline\n\n" + sentence * 30, "long.txt")
    assert len(article.passages) > 1
    assert all(len(p.text) <= 700 for p in article.passages)
    assert all(p.text.endswith("week.") for p in article.passages)


def test_wrapped_lines_are_joined():
    article = parse_article(
        "Headline\n\nMistral AI signed a deal\nwith Microsoft on Monday.\n\nNext one.", "w.txt"
    )
    assert article.passages[0].text == "Mistral AI signed a deal with Microsoft on Monday."


def test_id_is_stable_and_derived_from_content():
    text = "Headline\n\nSome body text about Mistral."
    assert parse_article(text, "a.txt").id == parse_article(text, "b.txt").id
    assert parse_article(text, "a.txt").id != parse_article(text + " More.", "a.txt").id
    assert parse_article(text.replace("\n", "\r\n"), "a.txt").id == parse_article(text, "a.txt").id


def test_reparsing_the_stored_text_gives_the_same_article(seed_articles):
    for article in seed_articles:
        assert parse_article(article.text, article.source) == article


def test_invalid_date_marker_is_ignored(caplog):
    article = parse_article("date 2024-13-45 Mistral news today.\n\nBody text here.", "d.txt")
    assert article.date is None


def test_same_content_under_two_names_loads_once(tmp_path):
    (tmp_path / "a.txt").write_text("Headline\n\nBody about Mistral.", encoding="utf-8")
    (tmp_path / "b.md").write_text("Headline\n\nBody about Mistral.", encoding="utf-8")
    assert [a.source for a in load_articles(tmp_path)] == ["a.txt"]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty file"),
        ("blank.txt", b"  \n\n ", "empty file"),
        ("binary.txt", bytes(range(256)) * 4, "binary"),
        ("digits.txt", b"1234 5678", "no words"),
    ],
)
def test_bad_files_are_skipped_with_one_log_line(tmp_path, caplog, name, content, reason):
    (tmp_path / name).write_bytes(content)
    (tmp_path / "good.txt").write_text("Headline\n\nMistral raised money.", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="search.loader"):
        articles = load_articles(tmp_path)
    assert [a.source for a in articles] == ["good.txt"]
    lines = [r.getMessage() for r in caplog.records if name in r.getMessage()]
    assert len(lines) == 1 and reason in lines[0]


def test_huge_file_is_refused_without_reading_it(tmp_path, caplog):
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:
        handle.truncate(MAX_ARTICLE_BYTES + 1)
    with caplog.at_level(logging.WARNING, logger="search.loader"):
        assert load_article(path) is None
    assert "too large" in caplog.text


def test_windows_1252_file_falls_back_and_keeps_accents(tmp_path, caplog):
    path = tmp_path / "old.txt"
    path.write_bytes(
        "Mistral lève des fonds\n\nLa start-up française a levé 105 millions d’euros.".encode("cp1252")
    )
    with caplog.at_level(logging.WARNING, logger="search.loader"):
        article = load_article(path)
    assert article.title == "Mistral lève des fonds"
    assert "d’euros" in article.passages[0].text
    assert article.language == "fr"
    assert "not UTF-8" in caplog.text


def test_utf8_bom_and_crlf(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffHeadline\r\n\r\nBody about Mistral.\r\n".encode())
    article = load_article(path)
    assert article.title == "Headline"
    assert article.passages[0].text == "Body about Mistral."


def test_missing_folder_gives_no_articles(tmp_path):
    assert load_articles(tmp_path / "nope") == []


def test_title_is_derived_when_there_is_no_headline():
    article = parse_article(
        "Mistral AI, the Paris start-up founded in 2023 by former researchers of Meta and Google, has raised a new round of funding from investors. More text follows here.",
        "t.txt",
    )
    assert article.title.endswith("…")
    assert len(article.title) <= 100


def test_files_in_hidden_folders_are_not_loaded(tmp_path):
    for folder in (".Trash", ".venv/lib", "2024/.git"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "old.txt").write_text(f"Headline\n\nBody about Mistral in {folder}.", "utf-8")
    (tmp_path / "2024" / "news.md").write_text("Headline\n\nBody about Mistral.", encoding="utf-8")
    assert [a.source for a in load_articles(tmp_path)] == ["2024/news.md"]


def test_an_articles_folder_inside_a_hidden_folder_is_read(tmp_path):
    folder = tmp_path / ".local" / "articles"
    folder.mkdir(parents=True)
    (folder / "news.txt").write_text("Headline\n\nBody about Mistral.", encoding="utf-8")
    assert [a.source for a in load_articles(folder)] == ["news.txt"]
