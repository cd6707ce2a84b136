"""The command line for news sources and the store: ingest FILE_OR_URL, feeds, export, remove.

What the operator gives here may be local (an intranet site, a feed on localhost): no address guard.
A running server sees the changes within a second (its feed poller follows the store).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from bot.news.folder import ingest_one
from bot.news.pipeline import Pipeline
from bot.news.sources.http import Fetcher
from bot.news.sources.manage import Sources, describe
from bot.news.sources.urls import BadUrl, normalise_url
from bot.news.stories import dated_in_store
from bot.settings import Settings
from bot.stores.report import judged_text, report, report_text
from bot.stores.store import Store, open_store
from bot.stores.types import StoredArticle
from search import SearchIndex
from search.judgement.subject import SubjectJudge, load_subject
from search.loader import article_paths


@contextmanager
def opened_sources(settings: Settings) -> Iterator[Sources]:
    store = open_store(settings.database_url)
    try:
        judge = SubjectJudge(load_subject(settings.subject))
        pipeline = Pipeline(store, SearchIndex(), judge=judge, stories_from=dated_in_store(store.articles))
        pipeline.follow_from()
        yield Sources(store.feeds, Fetcher(allowed_hosts=settings.allowed_hosts), pipeline)
    finally:
        store.close()


def is_url(target: str) -> bool:
    return target.startswith(("http://", "https://"))


def run_ingest(settings: Settings, targets: Sequence[str], out=None, *, anyway: bool = False) -> int:
    """`ingest [--anyway] FILE_OR_URL...`: one line each; status 1 when anything was not added. A link
    judged off-subject is added only with `anyway` (files are the operator's own: always)."""
    out = out or sys.stdout
    failed = False
    with opened_sources(settings) as sources:
        for target in targets:
            if is_url(target):
                ok, said = sources.add_link(
                    target,
                    public_only=False,
                    anyway=anyway,
                    anyway_command="python -m bot ingest --anyway {url}",
                )
                print(f"{target}: {said}", file=out)
                failed |= not ok and not said.startswith("Already known")
                continue
            paths = folder_files(Path(target))
            if paths is not None and not paths:
                print(f"{target}: a folder without article files (.txt or .md)", file=out)
                failed = True
            for path in paths if paths is not None else [Path(target)]:
                report = ingest_one(sources.pipeline, path)
                print(report.line(), file=out)
                failed |= report.outcome in ("skipped", "removed")
    return 1 if failed else 0


def folder_files(path: Path) -> list[Path] | None:
    """The article files of a folder given to `ingest`, in name order; None when `path` is no folder."""
    return sorted(article_paths(path)) if path.is_dir() else None


def run_feeds(
    settings: Settings, action: str, urls: Sequence[str], out=None, *, how_to_add: str = "feeds add URL"
) -> int:
    """`feeds list | add URL... | remove URL...`; `how_to_add`: the command that adds a feed."""
    out = out or sys.stdout
    with opened_sources(settings) as sources:
        if action == "list":
            print(sources.feeds_text(how_to_add), file=out)
            return 0
        status = 0
        for url in urls:
            ok, said = sources.add_feed(url, origin="cli") if action == "add" else sources.remove_feed(url)
            print(said, file=out)
            status |= not ok
        return status


def export_record(stored: StoredArticle) -> dict:
    return {
        "id": stored.id,
        "url": stored.url,
        "outlet": stored.outlet,
        "title": stored.title,
        "date": stored.date.isoformat() if stored.date else None,
        "date_source": stored.date_source,
        "language": stored.language,
        "text": stored.text,
        "story": stored.story_id,
        "added_at": dt.datetime.fromtimestamp(stored.added_at, dt.UTC).isoformat(timespec="seconds"),
    }


def run_export(settings: Settings, out=None) -> int:
    """`export`: every article in the store (not removed), one JSON object a line."""
    out = out or sys.stdout
    store = open_store(settings.database_url)
    try:
        for stored in store.articles.active_articles():
            print(json.dumps(export_record(stored), ensure_ascii=False), file=out)
    finally:
        store.close()
    return 0


def find_article(store: Store, target: str) -> StoredArticle | None:
    if is_url(target):
        try:
            return store.articles.by_url(normalise_url(target))
        except BadUrl:
            return None
    return store.articles.get(target.strip())


def run_remove(settings: Settings, targets: Sequence[str], out=None) -> int:
    """`remove ID_OR_URL...`: out of the index and the answers, kept in the store marked removed."""
    out = out or sys.stdout
    status = 0
    with opened_sources(settings) as sources:
        for target in targets:
            stored = find_article(sources.pipeline.store, target)
            if stored is None:
                print(f"{target}: no such article (give its id, as `export` prints it, or its URL)", file=out)
                status = 1
            elif stored.taken_down_at is not None:
                print(f"{target}: already removed", file=out)
            else:
                sources.pipeline.take_down(stored)
                print(f"{target}: removed {describe(stored.title, stored.outlet, stored.date)}", file=out)
    return status


def run_report(settings: Settings, days: float, *, now: float | None = None) -> int:
    """`report --days N`: the questions with no answer or a 👎 in the last N days, the most frequent
    first; then the articles judged off-subject, by feed and reason."""
    store = open_store(settings.database_url)
    try:
        until = time.time() if now is None else now
        since = until - days * 86400
        print(report_text(report(store.feedback, since, until + 1), days))
        print()
        print(judged_text(store.judgements, since, until + 1, days))
    finally:
        store.close()
    return 0
