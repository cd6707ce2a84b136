"""The judged sets of tests/fixtures/judged are whole: every article listed once and readable by the loader,
labels from the documented vocabulary, both splits, and the sizes their READMEs promise."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from search import load_article

JUDGED = Path(__file__).resolve().parents[1] / "fixtures" / "judged"
ABOUT_KINDS = {
    "funding",
    "models",
    "product",
    "partners",
    "people",
    "regulation",
    "outage",
    "business",
    "legal",
}
NOT_ABOUT_KINDS = {
    "homonym_missile",
    "homonym_wind",
    "homonym_ship",
    "homonym_horse",
    "homonym_hotel",
    "homonym_other",
    "passing_mention",
    "other_ai",
    "unrelated",
}
PAIR_KINDS = {"copy", "rewrite", "template_distinct", "same_subject_distinct", "cross_same", "cross_distinct"}


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file, delimiter="\t"))


def test_the_subject_set_lists_every_article_once_with_a_known_label():
    labels = rows(JUDGED / "subject" / "labels.tsv")
    files = sorted(p.name for p in (JUDGED / "subject" / "articles").glob("*.txt"))
    assert sorted(r["file"] for r in labels) == files
    assert len(files) >= 300
    for row in labels:
        kinds = ABOUT_KINDS if row["label"] == "about" else NOT_ABOUT_KINDS
        assert row["label"] in ("about", "not_about") and row["kind"] in kinds, row
        assert row["split"] in ("dev", "test") and row["lang"] in ("en", "fr"), row
    splits = Counter((r["split"], r["label"], r["lang"]) for r in labels)
    assert all(
        splits[("test", label, lang)] >= 20 for label in ("about", "not_about") for lang in ("en", "fr")
    )


@pytest.mark.parametrize("folder", ["subject", "stories"])
def test_every_judged_article_is_read_by_the_loader_in_its_language(folder):
    languages = {r["file"]: r["lang"] for r in rows(JUDGED / "subject" / "labels.tsv")}
    for path in sorted((JUDGED / folder / "articles").glob("*.txt")):
        article = load_article(path)
        assert article is not None and article.date is not None and article.passages, path.name
        if path.name in languages:
            assert article.language == languages[path.name], path.name


def test_the_story_pairs_name_existing_articles_and_never_cross_the_split():
    articles = {p.name for p in (JUDGED / "stories" / "articles").glob("*.txt")}
    pairs = [row for path in sorted((JUDGED / "stories").glob("*pairs.tsv")) for row in rows(path)]
    split_of: dict[str, str] = {}
    for pair in pairs:
        assert {pair["a"], pair["b"]} <= articles and pair["a"] != pair["b"], pair
        assert pair["kind"] in PAIR_KINDS and pair["same"] == (
            "1" if pair["kind"] in ("copy", "rewrite", "cross_same") else "0"
        )
        for name in (pair["a"], pair["b"]):
            assert split_of.setdefault(name, pair["split"]) == pair["split"], f"{name} is in both splits"
    keys = [frozenset((p["a"], p["b"])) for p in pairs]
    assert len(keys) == len(set(keys)), "a pair is listed twice"
    kinds = Counter(p["kind"] for p in pairs)
    assert kinds["cross_same"] >= 40 and kinds["cross_distinct"] >= 200
    assert kinds["copy"] + kinds["rewrite"] >= 100 and kinds["template_distinct"] >= 100


def test_pairs_within_a_language_are_so_and_cross_pairs_are_not():
    folder = JUDGED / "stories" / "articles"
    language = {path.name: load_article(path).language for path in folder.glob("*.txt")}
    for path in sorted((JUDGED / "stories").glob("*pairs.tsv")):
        for pair in rows(path):
            across = pair["kind"].startswith("cross_")
            assert (language[pair["a"]] != language[pair["b"]]) == across, pair
