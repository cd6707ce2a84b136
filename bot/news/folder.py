"""Ingesting article files: from the folder into the store and the search index, one file at a time.

Every bad file (empty, binary, mis-encoded beyond repair, too large, too long or of too many passages
for a news article (search/loader.py's limits), a symlink out of the folder, a temporary or hidden
file, a file in a hidden folder, a file whose parse takes longer than the budget) is skipped with one
log line; the same unchanged file is not logged, nor read, again.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bot.news.parsing import PARSE_SECONDS, Parse, ParseWorker, parse_file
from bot.news.pipeline import Outcome, Pipeline, RawArticle, Recorded
from bot.news.progress import StartProgress
from bot.news.stories import dated_in_store
from bot.stores.store import Store
from search import Article, SearchIndex
from search.loader import (
    MAX_ARTICLE_BYTES,
    ArticleFileError,
    article_paths,
    in_hidden_folder,
    is_article_name,
    parse_limited,
    read_article_text,
)

log = logging.getLogger(__name__)

Signature = tuple[int, int]  # (size, mtime in ns)


@dataclass(frozen=True)
class IngestReport:
    source: str
    outcome: Outcome | Literal["skipped"]  # "skipped": a file refused before the pipeline saw it
    article_id: str | None = None
    reason: str = ""
    announced: bool = True  # False for an article recorded before the first start: part of the library
    off_subject: str = ""  # the judge's reason, for a file taken though judged off-subject

    def line(self) -> str:
        """One line for people: `added`, `already known` or `skipped: reason`; and the judge's doubt."""
        judged = (
            f" (judged off-subject: {self.off_subject}; taken as the operator's own)"
            if self.off_subject
            else ""
        )
        return self._outcome() + judged

    def _outcome(self) -> str:
        if self.outcome == "skipped":
            return f"{self.source}: skipped: {self.reason}"
        if self.outcome == "known":
            return f"{self.source}: already known" + (f" as {self.reason}" if self.reason else "")
        if self.outcome == "removed":
            return f"{self.source}: not added: an operator removed it (python -m bot remove)"
        if self.outcome == "copy":
            return f"{self.source}: added as another outlet's copy of {self.reason} (indexed, not announced)"
        if self.outcome == "added" and not self.announced:
            return f"{self.source}: added (not announced: the server has not started on this store yet)"
        return f"{self.source}: {self.outcome}"


def file_signature(path: Path) -> Signature | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


class Ingestor:
    """Keeps the store and the index in line with the files of one folder.

    Files are parsed in a worker process: one whose parse takes longer than `parse_seconds` is refused
    (and read again only once its size or modification time changes). `parse` is what the worker runs
    on each file; it must be importable by name (a module-level function).
    """

    def __init__(
        self,
        store: Store,
        index: SearchIndex,
        folder: str | Path,
        *,
        on_added: Callable[[str], None] | None = None,
        max_bytes: int = MAX_ARTICLE_BYTES,
        parse_seconds: float = PARSE_SECONDS,
        parse: Parse = parse_file,
        pipeline: Pipeline | None = None,
    ) -> None:
        self.store = store
        self.index = index
        self.folder = Path(folder).absolute()
        self.on_added = on_added
        self.max_bytes = max_bytes
        self.parser = ParseWorker(parse, parse_seconds)
        self.pipeline = pipeline or Pipeline(store, index, on_added=on_added)
        self._seen: dict[str, tuple[Signature, IngestReport]] = {}

    def forget(self) -> None:
        """Check every file against the store again (it was restored, or lost writes)."""
        self._seen.clear()

    def close(self) -> None:
        """Stop the parser's worker process (it is also stopped when the ingestor is garbage-collected)."""
        self.parser.close()

    def source_of(self, path: str | Path) -> str:
        path = Path(path)
        path = path if path.is_absolute() else self.folder / path
        try:
            return path.absolute().relative_to(self.folder).as_posix()
        except ValueError:
            return path.as_posix()

    def ingest(self, path: str | Path) -> IngestReport:
        """Read one file and record it; announced when new, unless the folder's baseline is not set."""
        path = self.folder / self.source_of(path)
        source = self.source_of(path)
        signature = file_signature(path)
        cached = self._seen.get(source)
        if cached and signature is not None and cached[0] == signature and self._still_current(cached[1]):
            return cached[1]
        report = self._unchanged_since_recorded(source, signature)
        if report is None:
            report = self._ingest_file(path, source)
            if signature is not None and report.article_id is not None:
                self.store.articles.remember_file(source, *signature, report.article_id)
        if report.outcome == "skipped":
            log.warning("Skipped %s: %s", path, report.reason)
        elif report.outcome != "known":
            judged = f"; judged off-subject: {report.off_subject}" if report.off_subject else ""
            log.info("Ingested %s: %s (%s)%s", source, report.outcome, report.article_id, judged)
        if signature is not None:
            self._seen[source] = (signature, report)
        return report

    def _unchanged_since_recorded(self, source: str, signature: Signature | None) -> IngestReport | None:
        """The indexed article, when the file has the size and mtime it had when it was read.

        The index is rebuilt from the store at start: this keeps a restart from reading the whole
        folder again. A file edited while the app was stopped has another signature and is read.
        """
        if signature is None:
            return None
        article_id = self.store.articles.recorded_file(source, *signature)
        if article_id is None or article_id not in self.index:
            return None
        return IngestReport(source, "known", article_id)

    def _still_current(self, report: IngestReport) -> bool:
        return report.outcome in ("skipped", "removed") or (
            report.article_id is not None and report.article_id in self.index
        )

    def _ingest_file(self, path: Path, source: str) -> IngestReport:
        reason = self.refusal(path)
        if reason:
            return IngestReport(source, "skipped", reason=reason)
        try:
            article = self.parser.parse(path, source)
        except (ArticleFileError, OSError) as error:
            return IngestReport(source, "skipped", reason=str(error))
        return self.record(article)

    def refusal(self, path: Path) -> str | None:
        return file_refusal(path, max_bytes=self.max_bytes, folder=self.folder)

    def record(self, article: Article) -> IngestReport:
        """Store `article` through the pipeline (dedupe, index, announce): a file of the folder."""
        return report_of(self.pipeline.record(article, origin="folder"), article.source)

    def remove(self, path: str | Path) -> str | None:
        """A file is gone: its article leaves the index and is marked removed; its id, or None."""
        source = self.source_of(path)
        self._seen.pop(source, None)
        article_id = self.store.articles.mark_removed(source)
        if article_id:
            self.index.remove(article_id)
            log.info("Removed %s (%s): the file is gone", source, article_id)
        return article_id

    def article_files(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(article_paths(self.folder))

    def removed_sources(self, listed: set[str] | None = None) -> list[str]:
        """Sources the store holds as active whose file is no longer in the folder, or is in a hidden
        folder (recorded by a version that read them: a file in `.Trash` is a deleted one). Given
        the sources of the folder's article files just `listed`, every other one."""
        if listed is not None:
            return [source for source in self.store.articles.active_sources() if source not in listed]
        return [
            source
            for source in self.store.articles.active_sources()
            if not (self.folder / source).exists() or in_hidden_folder(self.folder / source, self.folder)
        ]

    def scan(self, progress: StartProgress | None = None) -> list[IngestReport]:
        """Bring store and index in line with the whole folder (the start, and the periodic safety
        net); `progress` counts the files done (a start's).

        The files the store remembers are read from it at once, and one that is as remembered costs
        a stat (see `_as_recorded`): a restart on 100,000 unchanged files makes no query per file."""
        progress = progress or StartProgress()
        paths = self.article_files()
        progress.folder_listed(len(paths))
        recorded = self.store.articles.recorded_files()
        prefix = f"{self.folder}{os.sep}"
        reports, listed = [], set()
        for path in paths:
            source = str(path).removeprefix(prefix).replace(os.sep, "/")
            listed.add(source)
            reports.append(self._as_recorded(path, source, recorded) or self.ingest(path))
            progress.file_done()
        for source in self.removed_sources(listed):
            self.remove(source)
        return reports

    def _as_recorded(
        self, path: Path, source: str, recorded: dict[str, tuple[int, int, str]]
    ) -> IngestReport | None:
        """The file's report when it has the size and mtime the store remembers for it and its
        article is indexed (what `ingest` would find, without its query); None otherwise."""
        known = recorded.get(source)
        if known is None or source in self._seen:
            return None
        signature = file_signature(path)
        if signature != known[:2] or known[2] not in self.index:
            return None
        report = IngestReport(source, "known", known[2])
        self._seen[source] = (signature, report)
        return report


def file_refusal(path: Path, *, max_bytes: int, folder: Path | None = None) -> str | None:
    """Why `path` cannot be ingested, found without reading it; None when it may be read."""
    if not is_article_name(path.name):
        return "not an article file (.txt or .md), or a hidden or temporary file"
    if folder is not None and in_hidden_folder(path, folder):
        return "in a hidden folder"
    if folder is not None and path.is_symlink():
        try:
            path.resolve(strict=True).relative_to(folder.resolve())
        except (OSError, ValueError):
            return "a symbolic link pointing outside the articles folder (or nowhere)"
    if not path.is_file():
        return "no such file" if not path.exists() else "not a regular file"
    size = path.stat().st_size
    if size > max_bytes:
        return f"too large ({size:,} bytes; the limit is {max_bytes:,})"
    return None


def start_ingest(
    store: Store, index: SearchIndex, ingestor: Ingestor, progress: StartProgress | None = None
) -> list[IngestReport]:
    """At start: what changed in the folder while stopped is recorded (and announced, once).

    On the very first start (no baseline yet), the folder's articles are recorded without being
    announced: they are the starting library, not news. A store that came back empty is no first
    start: the articles the saved index lists are recorded without announcement, the others are
    announced (see `Pipeline.take_loss`); those of its articles the store did not get back leave it.
    """
    first_start = not store.articles.baseline_done()
    lost = ingestor.pipeline.take_loss()
    reports = ingestor.scan(progress)
    if lost:
        for article_id in index.article_ids() - store.articles.active_ids():
            index.remove(article_id)
        announced = sum(r.outcome == "added" and r.announced for r in reports)
        log.info("After the store was lost: %d articles announced, the others recorded again", announced)
    elif first_start:
        log.info("First start: %d articles recorded without announcement", len(reports))
    if first_start:
        store.articles.mark_baseline_done()
    return reports


def report_of(recorded: Recorded, source: str) -> IngestReport:
    known = recorded.known
    reason = ""
    if known is not None and recorded.outcome in ("known", "copy"):
        reason = f"“{known.title}”" + (f" ({known.outlet})" if known.outlet else f" ({known.source})")
    off_subject = recorded.judged.reason if recorded.judged else ""
    return IngestReport(
        source, recorded.outcome, recorded.article_id, reason, recorded.announced, off_subject
    )


FILE_SOURCE_PREFIX = "file:"


def file_source(store: Store, path: Path, article_id: str) -> str:
    """`file:NAME` for a file added with `ingest FILE`; with the article id when the name is taken."""
    source = FILE_SOURCE_PREFIX + path.name
    if store.articles.by_source(source) is None:
        return source
    return f"{FILE_SOURCE_PREFIX}{path.stem}-{article_id[:8]}{path.suffix}"


def ingest_one(pipeline: Pipeline, path: Path, max_bytes: int = MAX_ARTICLE_BYTES) -> IngestReport:
    """Record one file as an added article of its own: not copied anywhere, never removed by a scan."""
    name = path.name
    reason = file_refusal(path, max_bytes=max_bytes)
    if reason:
        return IngestReport(name, "skipped", reason=reason)
    try:
        text = read_article_text(path)
        article_id = parse_limited(text, name).id
    except (ArticleFileError, OSError) as error:
        return IngestReport(name, "skipped", reason=str(error))
    known = pipeline.store.articles.get(article_id)
    if known is not None and known.removed_at is None:
        return IngestReport(known.source, "known", article_id)
    source = file_source(pipeline.store, path, article_id)
    return report_of(pipeline.ingest(RawArticle(text, source, "file")), source)


def ingest_paths(store: Store, paths: Iterable[Path]) -> list[IngestReport]:
    """Record each file in the store, whether a server runs or not (a running one picks them up)."""
    pipeline = Pipeline(store, SearchIndex(), stories_from=dated_in_store(store.articles))
    pipeline.follow_from()
    return [ingest_one(pipeline, Path(path)) for path in paths]
