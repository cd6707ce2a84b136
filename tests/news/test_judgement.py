"""News judgement in the pipeline: what is not about the subject is left out (feeds, links) or kept with its
judgement (folder files, links added anyway); each story once, in either language."""

from __future__ import annotations

import datetime as dt
import html
import logging
from pathlib import Path

import pytest

from bot.news.pipeline import Pipeline, RawArticle
from bot.news.sources.http import Fetcher
from bot.news.sources.manage import Sources
from bot.news.stories import dated_in_index
from bot.stores.report import judged_text
from bot.stores.store import open_sqlite
from search import SearchIndex, load_article
from tests.fakes import FakeWeb
from tests.search import stories_eval
from tests.search.stories_eval import Pair
from tests.search.subject_eval import cases

JUDGED = Path(__file__).resolve().parents[1] / "fixtures" / "judged"
MISSILE = "s007.txt"  # MBDA's Mistral missile (dev part of the subject set)
WIND = "s012.txt"  # the mistral wind in the Rhône vineyards


def judged_article(name: str):
    return load_article(JUDGED / "subject" / "articles" / name)


def as_raw(name: str, url: str, origin="feed", folder: Path = JUDGED / "subject" / "articles") -> RawArticle:
    article = load_article(folder / name)
    body = "\n\n".join(p.text for p in article.passages)
    return RawArticle(
        body,
        url,
        origin,
        url=url,
        title=article.title,
        outlet="Outlet",
        date=article.date,
        date_source="page",
    )


@pytest.fixture
def store(tmp_path):
    store = open_sqlite(tmp_path / "store.db")
    store.articles.mark_baseline_done()
    yield store
    store.close()


@pytest.fixture
def pipeline(store):
    return Pipeline(store, SearchIndex())


def test_a_feed_article_off_the_subject_is_left_out_and_recorded_with_its_reason(pipeline, store, caplog):
    url = "https://defence.example/missile"
    with caplog.at_level(logging.INFO, logger="bot.news.pipeline"):
        recorded = pipeline.ingest(
            RawArticle(**{**as_raw(MISSILE, url).__dict__, "feed": "https://defence.example/rss"})
        )
    assert recorded.outcome == "left_out" and recorded.article_id is None
    assert recorded.judged.verdict == "homonym" and "missile" in recorded.judged.reason
    assert store.articles.by_url(url) is None and pipeline.index.article_count == 0
    assert sum(store.announcements.counts().values()) == 0
    left = store.judgements.left_out(url)
    assert (left.feed, left.origin, left.kept) == ("https://defence.example/rss", "feed", False)
    [line] = [r for r in caplog.records if r.getMessage().startswith("Left out")]
    assert line.levelno == logging.INFO and url in line.getMessage() and "missile" in line.getMessage()
    assert "https://defence.example/rss — a homonym (another thing of the same name) ×1" in judged_text(
        store.judgements, 0, 2e9, 7
    )


def test_an_article_about_the_subject_is_taken_and_announced(pipeline, store):
    about = next(case.file for case in cases("dev") if case.about)
    recorded = pipeline.ingest(as_raw(about, "https://news.example/about"))
    assert recorded.outcome == "added" and recorded.announced and recorded.judged is None
    assert store.judgements.between(0, 2e9) == []


def test_a_link_added_anyway_is_kept_with_its_judgement(pipeline, store):
    url = "https://weather.example/wind"
    assert pipeline.ingest(as_raw(WIND, url, "link")).outcome == "left_out"
    kept = pipeline.ingest(as_raw(WIND, url, "link"), anyway=True)
    assert kept.outcome == "added" and kept.judged.kept and kept.judged.article_id == kept.article.id
    assert store.judgements.left_out(url) is None
    assert "Taken though judged off-subject (folder files, links added anyway): 1" in judged_text(
        store.judgements, 0, 2e9, 7
    )


def test_a_folder_file_off_the_subject_is_taken_as_it_is_and_its_judgement_shown(pipeline, store):
    text = (JUDGED / "subject" / "articles" / MISSILE).read_text(encoding="utf-8")
    recorded = pipeline.ingest(RawArticle(text, "missile.txt", "folder"))
    assert recorded.outcome == "added" and recorded.article.id in pipeline.index
    assert recorded.judged.kept and recorded.judged.verdict == "homonym"
    [judged] = store.judgements.between(0, 2e9)
    assert (judged.key, judged.origin, judged.article_id) == ("missile.txt", "folder", recorded.article.id)


@pytest.mark.parametrize(
    ("title", "body", "verdict"),
    [
        ("", "Mistral", "empty"),
        ("Mistral AI", "Short.", "empty"),
        (
            "Neues Modell",
            "Das französische Unternehmen Mistral AI hat ein neues Sprachmodell vorgestellt, sagte es am Dienstag in Paris.",
            "about",
        ),
        ("Mistral AI", "Mistral AI. " * 200, "about"),
    ],
)
def test_bad_input_from_a_feed_gets_a_decision_and_never_a_crash(pipeline, title, body, verdict):
    """(An empty page never reaches the pipeline: the fetch refuses it, see tests/news/sources.)"""
    recorded = pipeline.ingest(
        RawArticle(body or " ", "https://x.example/a", "feed", url="https://x.example/a", title=title or None)
    )
    if verdict == "about":
        assert recorded.outcome == "added"
    else:
        assert (
            recorded.outcome == "left_out" and recorded.judged.verdict == verdict and recorded.judged.reason
        )


def test_a_link_judged_off_the_subject_is_not_added_and_the_answer_says_how_to_add_it_anyway(store):
    article = judged_article(MISSILE)
    paragraphs = "".join(f"<p>{html.escape(p.text)}</p>" for p in article.passages)
    page = (
        f"<!DOCTYPE html><html lang='en'><head><title>{html.escape(article.title)}</title>"
        f'<meta property="og:site_name" content="Defence Weekly"></head><body><article>'
        f"<h1>{html.escape(article.title)}</h1><time datetime='2025-02-26'>2025-02-26</time>{paragraphs}"
        "</article></body></html>"
    )
    with FakeWeb() as web:
        web.put("/defence/missile.html", page, "text/html; charset=utf-8")
        url = web.url("/defence/missile.html")
        sources = Sources(store.feeds, Fetcher(timeout=2.0, deadline=5.0), Pipeline(store, SearchIndex()))
        command = "/mistral add {url} anyway"
        ok, said = sources.add_link(url, public_only=False, anyway_command=command)
        assert not ok and "does not look like news about Mistral AI" in said and "missile" in said
        assert f"`/mistral add {url} anyway`" in said
        fetched = len(web.page_requests())
        again_ok, again = sources.add_link(url, public_only=False, anyway_command=command)
        assert not again_ok and again == said and len(web.page_requests()) == fetched, "not fetched again"
        ok, said = sources.add_link(url, public_only=False, anyway=True)
        assert ok and said.startswith("Added") and "though judged off-subject" in said
    assert store.articles.by_url(url) is not None


# -- stories ------------------------------------------------------------------------------------------


def pairs(kind: str) -> list[Pair]:
    return [pair for split in ("dev", "test") for pair in stories_eval.pairs(split) if pair.kind == kind]


def story_raw(name: str, origin="feed") -> RawArticle:
    folder = JUDGED / "stories" / "articles"
    return as_raw(name, f"https://{Path(name).stem}.example/story", origin, folder)


def test_the_same_story_in_the_other_language_goes_into_the_first_one_s_story(pipeline, store):
    pair = pairs("cross_same")[0]
    first = pipeline.ingest(story_raw(pair.a))
    later = pipeline.ingest(story_raw(pair.b))
    assert first.outcome == "added" and first.announced
    assert later.outcome == "copy" and later.known.id == first.article.id
    assert store.announcements.state(later.article.id) == "skipped"
    assert {m.language for m in store.articles.story_members(first.article.id)} == {"en", "fr"}


def test_distinct_stories_sharing_a_template_are_each_announced(store):
    names = sorted({n for pair in pairs("template_distinct") for n in (pair.a, pair.b)})
    articles = sorted(
        (load_article(JUDGED / "stories" / "articles" / n) for n in names), key=lambda a: a.date
    )
    pipeline = Pipeline(store, SearchIndex())
    outcomes = [pipeline.ingest(story_raw(Path(a.source).name)).outcome for a in articles]
    copies = [a for a, o in zip(articles, outcomes, strict=True) if o == "copy"]
    assert len(names) >= 40
    assert copies == [], f"{len(copies)} of {len(names)} distinct stories taken for copies"


def test_weeks_apart_the_same_words_are_two_stories(pipeline):
    first = story_raw(pairs("copy")[0].a)
    later = RawArticle(
        **{
            **first.__dict__,
            "url": "https://later.example/x",
            "source": "https://later.example/x",
            "date": first.date + dt.timedelta(days=40),
        }
    )
    assert pipeline.ingest(first).outcome == "added"
    assert pipeline.ingest(later).outcome == "added"


def test_a_server_reads_the_stories_around_today_before_the_first_article_needs_them(store):
    """`read_around_today` (a server runs it once started) fills the story index from the search index,
    so the day's first article reads nothing more: a later copy of a known story is found at once."""
    pair = pairs("copy")[0]
    index = SearchIndex()
    known = Pipeline(store, index).ingest(story_raw(pair.a)).article
    asked: list[tuple] = []

    def dated(first, last):
        asked.append((first, last))
        return dated_in_index(index)(first, last)

    restarted = Pipeline(store, index, stories_from=dated, today=lambda: known.date)
    restarted.read_around_today()
    assert len(restarted.stories) == 1 and asked
    asked.clear()
    later = restarted.ingest(story_raw(pair.b))
    assert later.outcome == "copy" and later.known.id == known.id and asked == []
