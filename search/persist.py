"""A saved index: the analysed passages and their postings in files, so a start neither parses nor
analyses the articles again. (Passage embeddings, with an embedder, are not saved yet: a load embeds
the passages again.)

Two files in one folder (the caller chooses it; the bot puts it beside its store):
- `snapshot.bin`: the whole index in columns (article fields, passage texts, kinds, sentence spans,
  lengths, postings, and the analyser's word cache: the words met so far with their terms, so that
  after a start the words of hits are not analysed again), written at once to a temporary file and
  renamed over the old one. A JSON header
  carries the version (`FORMAT_VERSION` and the analyser's `ANALYZER_VERSION` and settings), a
  generation number, where each column lies, and a CRC-32 of the columns.
- `journal.bin`: the articles added (with their analysed terms) and removed since that snapshot, one
  record each (length, CRC-32, JSON), appended as they happen. When it grows past a quarter of the
  snapshot the index is written again and the journal started afresh (compaction).

Anything that does not check out (missing, other version, bad checksum, truncated) raises
`IndexFileError` and the caller rebuilds; a damaged journal tail (a crash mid-write) is cut off with one
log line: the caller's check against its store adds back what it lacked. The journal is not fsynced per
record for that reason: the store is the record, the files are a cache checked against it.

Files, not a database: the search library stays free of any database; the bot decides where they live.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import struct
import threading
import zlib
from array import array
from pathlib import Path

import numpy as np

from search import loader
from search.analysis import ANALYZER_VERSION, LANGUAGES, Analyzer
from search.index import (
    _LANGUAGES,
    DEFAULT_SCORER,
    AnalysedPassage,
    ArticleRecord,
    SearchIndex,
    collector_paused,
)
from search.scoring import HEADING, KIND_CODES, KINDS, Scorer, TermPostings

log = logging.getLogger(__name__)

# 3: the analyser's word cache is saved; 4: rebuilt once for the store's undated library (migration 8).
FORMAT_VERSION = 4
SNAPSHOT = "snapshot.bin"
JOURNAL = "journal.bin"
_SNAPSHOT_MAGIC = b"MNB-INDEX-SNAPSHOT\n"
_JOURNAL_MAGIC = b"MNB-INDEX-JOURNAL\n"
_RECORD = struct.Struct("<II")  # payload length, CRC-32 of the payload
MIN_COMPACT_BYTES = 1 << 20
_NUMERIC = frozenset(np.dtype(t).str for t in ("i4", "i8", "f8", "u1", "u2"))


class IndexFileError(Exception):
    """The saved index cannot be used as it is (missing, another version, damaged): rebuild it."""


class NoSavedIndex(IndexFileError):
    """There is no saved index yet (a first start)."""


def index_version(analyzer: Analyzer) -> str:
    """What the saved passages and terms depend on: the file format, the loader's rules (the passages
    of a text), the analyser's rules and its settings."""
    settings = ",".join(
        f"{f.name}={getattr(analyzer, f.name)}" for f in dataclasses.fields(analyzer) if f.init
    )
    return (
        f"format {FORMAT_VERSION}; loader {loader.LOADER_VERSION}; analyzer {ANALYZER_VERSION} ({settings})"
    )


class SavedIndex(SearchIndex):
    """A SearchIndex kept in a folder: `load` it, or `rebuild` it from articles; every later `add`
    and `remove` is appended to the journal."""

    def __init__(
        self, folder: str | Path, analyzer: Analyzer | None = None, scorer: Scorer = DEFAULT_SCORER, **options
    ) -> None:
        super().__init__(analyzer, scorer, **options)
        self._options = options
        self.folder = Path(folder)
        self._journal: _Journal | None = None
        self._snapshot_bytes = 0

    @property
    def version(self) -> str:
        return index_version(self.analyzer)

    # -- opening --------------------------------------------------------------------------------------

    def load(self) -> None:
        """Fill this (empty) index from the folder's files; IndexFileError when they cannot be used."""
        path = self.folder / SNAPSHOT
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise NoSavedIndex(f"no saved index in {self.folder}") from None
        except OSError as error:
            raise IndexFileError(f"cannot read {path}: {error}") from None
        try:
            header, columns = _read_snapshot(data, self.version)
        except (ValueError, KeyError, TypeError, IndexError, struct.error) as error:
            raise IndexFileError(f"the snapshot is damaged ({type(error).__name__}: {error})") from None
        with self._lock, collector_paused():
            if self._slots:
                raise ValueError("load() fills an empty index")
            _fill(self, columns)
            self._snapshot_bytes = len(data)
            del data, columns
            generation = header["generation"]
            journal = _Journal(self.folder / JOURNAL, self.version, generation)
            replayed = journal.replay(self)
            self._journal = journal
            if journal.size > self._compact_threshold():
                self.save()
        if replayed:
            log.debug("Replayed %d journal records from %s", replayed, journal.path)
        self.embed_missing()

    def rebuild(self, articles) -> None:
        """Index `articles` afresh (analysing them) and save the result, replacing any files there."""
        with self._lock:
            self._journal = None
            if self._slots or self._texts:
                SearchIndex.__init__(self, self.analyzer, self.scorer, **self._options)
            self.extend(articles)
            self.save()

    # -- changes --------------------------------------------------------------------------------------

    def _insert(self, records: list[ArticleRecord]) -> None:
        super()._insert(records)
        if self._journal is not None and records:
            self._log_changes([{"add": _record_json(record)} for record in records])

    def remove(self, article_id: str) -> bool:
        with self._lock:
            removed = super().remove(article_id)
            if removed and self._journal is not None:
                self._log_changes([{"remove": article_id}])
            return removed

    def _log_changes(self, entries: list[dict]) -> None:
        """Append to the journal, and compact when it has grown; a disk error stops saving (the index
        goes on in memory, and the next start repairs the files from the store)."""
        try:
            self._journal.append(entries)
            if self._journal.size > self._compact_threshold():
                self.save()
        except OSError as error:
            log.error(
                "The search index in %s can no longer be saved (%s); it is repaired at the next start",
                self.folder,
                error,
            )
            self._journal = None

    def _compact_threshold(self) -> int:
        return max(MIN_COMPACT_BYTES, self._snapshot_bytes // 4)

    def save(self) -> None:
        """Write the whole index as a new snapshot (a new generation) and start an empty journal."""
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            generation = (self._journal.generation + 1) if self._journal else _next_generation(self.folder)
            self._snapshot_bytes = _write_snapshot(self, self.folder / SNAPSHOT, self.version, generation)
            self._journal = _Journal.create(self.folder / JOURNAL, self.version, generation)


# -- snapshot: columns <-> index ----------------------------------------------------------------------


def _columns(index: SearchIndex) -> dict[str, np.ndarray | list[str]]:
    """The live articles and passages in columns, passages renumbered without the removed ones."""
    slots = [slot for slot, article_id in enumerate(index._ids) if article_id is not None]
    slot_array = np.array(slots, dtype=np.int64)
    first = np.frombuffer(index._first_doc, dtype=np.int32).astype(np.int64)[slot_array]
    counts = np.frombuffer(index._doc_counts, dtype=np.int32).astype(np.int64)[slot_array]
    docs = _ranges(first, counts)
    remap = np.full(len(index._texts), -1, dtype=np.int64)
    remap[docs] = np.arange(len(docs))
    bounds = np.frombuffer(index._sentence_bounds, dtype=np.int64)
    sentence_counts = bounds[docs + 1] - bounds[docs]
    span_pairs = np.frombuffer(index._spans, dtype=np.int32).reshape(-1, 2)[
        _ranges(bounds[docs], sentence_counts)
    ]
    terms, offsets, posting_docs, posting_tfs = [], [0], [], []
    for term, postings in index._postings.items():
        mapped = remap[np.frombuffer(postings.docs, dtype=np.int32)]
        keep = mapped >= 0
        if not keep.any():
            continue
        terms.append(term)
        posting_docs.append(mapped[keep].astype(np.int32))
        posting_tfs.append(np.frombuffer(postings.tfs, dtype=np.uint16)[keep])
        offsets.append(offsets[-1] + int(keep.sum()))
    return {
        "article_ids": [index._ids[s] for s in slots],
        "titles": [index._titles[s] for s in slots],
        "sources": [index._sources[s] for s in slots],
        # None is kept as "" (an empty web address, outlet or date source means nothing).
        "urls": [index._urls[s] or "" for s in slots],
        "outlets": [index._outlets[s] or "" for s in slots],
        "date_sources": [index._date_sources[s] or "" for s in slots],
        "dates": np.frombuffer(index._dates, dtype=np.int32)[slot_array],
        "languages": np.frombuffer(bytes(index._article_languages), dtype=np.uint8)[slot_array],
        "doc_counts": counts.astype(np.int32),
        "texts": [index._texts[d] for d in docs.tolist()],
        "kinds": np.frombuffer(bytes(index._kinds), dtype=np.uint8)[docs],
        "positions": np.frombuffer(index._positions, dtype=np.int32)[docs],
        "lengths": np.frombuffer(index._lengths, dtype=np.float64)[docs],
        "sentence_counts": sentence_counts,
        "spans": span_pairs.reshape(-1).astype(np.int32),
        "terms": terms,
        "posting_offsets": np.array(offsets, dtype=np.int64),
        "posting_docs": np.concatenate(posting_docs) if posting_docs else np.empty(0, np.int32),
        "posting_tfs": np.concatenate(posting_tfs) if posting_tfs else np.empty(0, np.uint16),
        **_word_columns(index.analyzer),
    }


_TERM_SEPARATOR = "\x1f"  # never in a term: terms are made of word characters


def _word_columns(analyzer: Analyzer) -> dict[str, list[str]]:
    """The analyser's word cache, per language: the words, and their terms joined."""
    columns = {}
    for language in LANGUAGES:
        known = analyzer.known_words(language)
        columns[f"words_{language}"] = list(known)
        columns[f"word_terms_{language}"] = [_TERM_SEPARATOR.join(terms) for terms in known.values()]
    return columns


def _learn_words(analyzer: Analyzer, columns: dict) -> None:
    for language in LANGUAGES:
        terms = (
            tuple(joined.split(_TERM_SEPARATOR)) if joined else ()
            for joined in columns[f"word_terms_{language}"]
        )
        analyzer.learn(language, dict(zip(columns[f"words_{language}"], terms, strict=True)))


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The concatenation of range(start, start + count) for each pair, without a Python loop."""
    total = int(counts.sum())
    if not total:
        return np.empty(0, np.int64)
    ends = np.cumsum(counts)
    offsets = np.repeat(starts - (ends - counts), counts)
    return np.arange(total, dtype=np.int64) + offsets


def _fill(index: SearchIndex, columns: dict) -> None:
    """Set an empty index's columns and postings from a snapshot's columns."""
    ids = columns["article_ids"]
    counts = columns["doc_counts"].astype(np.int64)
    index._slots = {article_id: slot for slot, article_id in enumerate(ids)}
    index._ids, index._titles, index._sources = ids, columns["titles"], columns["sources"]
    index._urls = [url or None for url in columns["urls"]]
    index._outlets = [outlet or None for outlet in columns["outlets"]]
    index._date_sources = [source or None for source in columns["date_sources"]]
    index._dates = array("i", columns["dates"].astype(np.int32).tobytes())
    index._article_languages = bytearray(columns["languages"].tobytes())
    index._first_doc = array("i", (np.cumsum(counts) - counts).astype(np.int32).tobytes())
    index._doc_counts = array("i", counts.astype(np.int32).tobytes())
    kinds = columns["kinds"]
    index._texts = columns["texts"]
    index._doc_slots = array("i", np.repeat(np.arange(len(ids), dtype=np.int32), counts).tobytes())
    index._kinds = bytearray(kinds.tobytes())
    index._positions = array("i", columns["positions"].astype(np.int32).tobytes())
    bounds = np.concatenate([[0], np.cumsum(columns["sentence_counts"])]).astype(np.int64)
    index._sentence_bounds = array("q", bounds.tobytes())
    index._spans = array("i", columns["spans"].astype(np.int32).tobytes())
    lengths = columns["lengths"].astype(np.float64)
    index._lengths = array("d", lengths.tobytes())
    searchable = kinds != HEADING
    index._alive = int(searchable.sum())
    index._total_length = float(lengths[searchable].sum())
    offsets = columns["posting_offsets"].tolist()
    doc_bytes = columns["posting_docs"].astype(np.int32).tobytes()
    tf_bytes = columns["posting_tfs"].astype(np.uint16).tobytes()
    postings: dict[str, TermPostings] = {}
    for term, start, end in zip(columns["terms"], offsets[:-1], offsets[1:], strict=True):
        entry = postings[term] = TermPostings()
        entry.docs.frombytes(doc_bytes[4 * start : 4 * end])
        entry.tfs.frombytes(tf_bytes[2 * start : 2 * end])
    index._postings = postings
    index._df = {
        term: end - start
        for term, start, end in zip(columns["terms"], offsets[:-1], offsets[1:], strict=True)
    }
    index._dead = set()
    index._removed = bytearray(len(index._texts))
    index._all_df = None
    _learn_words(index.analyzer, columns)


def _write_snapshot(index: SearchIndex, path: Path, version: str, generation: int) -> int:
    """Write the index's columns to `path` atomically; the number of bytes written."""
    parts: list[bytes] = []
    table: list[list] = []
    offset = 0
    for name, column in _columns(index).items():
        if isinstance(column, list):
            text = "".join(column)
            lengths = np.fromiter(map(len, column), dtype=np.int64, count=len(column))
            pieces = [("str", lengths.tobytes()), ("utf8", text.encode("utf-8", "surrogatepass"))]
        else:
            pieces = [(column.dtype.str, np.ascontiguousarray(column).tobytes())]
        for kind, raw in pieces:
            table.append([name, kind, offset, len(raw)])
            parts.append(raw)
            offset += len(raw)
    crc = 0
    for raw in parts:
        crc = zlib.crc32(raw, crc)
    header = json.dumps(
        {"version": version, "generation": generation, "columns": table, "payload": offset, "crc32": crc}
    ).encode()
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with temporary.open("wb") as out:
            out.write(_SNAPSHOT_MAGIC + struct.pack("<Q", len(header)) + header)
            for raw in parts:
                out.write(raw)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return len(_SNAPSHOT_MAGIC) + 8 + len(header) + offset


def _read_snapshot(data: bytes, version: str) -> tuple[dict, dict]:
    """The header and the columns of a snapshot; IndexFileError unless it is whole and of `version`."""
    start = len(_SNAPSHOT_MAGIC) + 8
    if not data.startswith(_SNAPSHOT_MAGIC) or len(data) < start:
        raise IndexFileError("the snapshot is not an index snapshot (or is cut short)")
    (header_size,) = struct.unpack_from("<Q", data, len(_SNAPSHOT_MAGIC))
    try:
        header = json.loads(data[start : start + header_size])
    except ValueError:
        raise IndexFileError("the snapshot's header is damaged") from None
    if not isinstance(header, dict) or header.get("version") != version:
        found = header.get("version") if isinstance(header, dict) else None
        raise IndexFileError(f"the snapshot is of another version ({found!r}, expected {version!r})")
    payload = memoryview(data)[start + header_size :]
    if len(payload) != header.get("payload") or zlib.crc32(payload) != header.get("crc32"):
        raise IndexFileError("the snapshot is damaged (cut short or its checksum does not match)")
    columns: dict = {}
    for name, kind, offset, size in header["columns"]:
        raw = payload[offset : offset + size]
        if kind == "str":
            columns[name] = np.frombuffer(raw, dtype=np.int64)
        elif kind == "utf8":
            text = bytes(raw).decode("utf-8", "surrogatepass")
            ends = np.cumsum(columns[name]).tolist()
            columns[name] = [text[a:b] for a, b in zip([0, *ends], ends, strict=False)]
        elif kind in _NUMERIC:
            columns[name] = np.frombuffer(raw, dtype=np.dtype(kind))
        else:
            raise IndexFileError(f"the snapshot has a column of an unknown type {kind!r}")
    _check(columns)
    return header, columns


def _check(columns: dict) -> None:
    """The columns agree with each other (a bug or a hand-edited file would otherwise crash queries)."""
    n_articles, n_docs = len(columns["article_ids"]), len(columns["texts"])
    counts = columns["doc_counts"]
    sound = (
        len(columns["titles"]) == len(columns["sources"]) == len(counts) == n_articles
        and len(columns["urls"]) == len(columns["outlets"]) == len(columns["date_sources"]) == n_articles
        and int(counts.sum()) == n_docs
        and len(columns["kinds"]) == len(columns["positions"]) == len(columns["lengths"]) == n_docs
        and len(columns["sentence_counts"]) == n_docs
        and all(len(columns[f"words_{lang}"]) == len(columns[f"word_terms_{lang}"]) for lang in LANGUAGES)
        and 2 * int(columns["sentence_counts"].sum()) == len(columns["spans"])
        and len(columns["posting_offsets"]) == len(columns["terms"]) + 1
        and int(columns["posting_offsets"][0]) == 0
        and bool(np.all(np.diff(columns["posting_offsets"]) >= 0))
        and bool(np.all(columns["sentence_counts"] >= 0))
        and int(columns["posting_offsets"][-1]) == len(columns["posting_docs"]) == len(columns["posting_tfs"])
        and (not len(columns["posting_docs"]) or int(columns["posting_docs"].min()) >= 0)
        and (not len(columns["posting_docs"]) or int(columns["posting_docs"].max()) < n_docs)
        and (not len(columns["kinds"]) or int(columns["kinds"].max()) < len(KINDS))
        and len(columns["languages"]) == len(columns["dates"]) == n_articles
        and (not n_articles or int(columns["languages"].max()) < len(_LANGUAGES))
        and (not n_articles or int(columns["dates"].min()) >= 0)
        and len(set(columns["article_ids"])) == n_articles
    )
    if not sound:
        raise IndexFileError("the snapshot's columns do not agree with each other")


def _next_generation(folder: Path) -> int:
    """One more than the generation of the snapshot there, if any is readable (else 1)."""
    try:
        with (folder / SNAPSHOT).open("rb") as snapshot:
            head = snapshot.read(len(_SNAPSHOT_MAGIC) + 8)
            (size,) = struct.unpack_from("<Q", head, len(_SNAPSHOT_MAGIC))
            return int(json.loads(snapshot.read(min(size, 1 << 24)))["generation"]) + 1
    except (OSError, ValueError, KeyError, TypeError, struct.error):
        return 1


# -- journal ------------------------------------------------------------------------------------------


class _Journal:
    """Appended records of the changes since the snapshot of the same generation."""

    def __init__(self, path: Path, version: str, generation: int) -> None:
        self.path = path
        self.version = version
        self.generation = generation
        self.size = 0
        self._lock = threading.Lock()

    @classmethod
    def create(cls, path: Path, version: str, generation: int) -> _Journal:
        journal = cls(path, version, generation)
        header = _JOURNAL_MAGIC + json.dumps({"version": version, "generation": generation}).encode() + b"\n"
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_bytes(header)
        os.replace(temporary, path)
        journal.size = len(header)
        return journal

    def append(self, entries: list[dict]) -> None:
        payload = b"".join(
            _RECORD.pack(len(raw), zlib.crc32(raw)) + raw
            for raw in (
                json.dumps(entry, ensure_ascii=False).encode("utf-8", "surrogatepass") for entry in entries
            )
        )
        with self._lock, self.path.open("ab") as out:
            out.write(payload)
            self.size += len(payload)

    def replay(self, index: SearchIndex) -> int:
        """Apply the journal's records to `index` (the snapshot's contents); the number applied.

        A journal of another generation (a crash between writing a snapshot and its journal) or a
        missing one is started afresh; a damaged tail is cut off with one log line."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            data = b""
        first_line = data.split(b"\n", 2)[:2]
        expected = json.dumps({"version": self.version, "generation": self.generation}).encode()
        if len(first_line) < 2 or first_line[0] + b"\n" != _JOURNAL_MAGIC or first_line[1] != expected:
            if data:
                log.warning("Started a new index journal: %s belongs to another snapshot", self.path)
            fresh = _Journal.create(self.path, self.version, self.generation)
            self.size = fresh.size
            return 0
        cursor = len(_JOURNAL_MAGIC) + len(expected) + 1
        applied = 0
        added: list[ArticleRecord] = []  # inserted together (one sort of their postings), in order
        while cursor < len(data):
            entry = _entry_at(data, cursor)
            if entry is None:
                log.warning(
                    "Cut off a damaged index journal tail in %s (%d bytes): the store check restores it",
                    self.path,
                    len(data) - cursor,
                )
                with self.path.open("r+b") as out:
                    out.truncate(cursor)
                break
            (operation, value), cursor = entry
            if operation == "add":
                added.append(value)
            else:
                index.insert_records(added)
                added.clear()
                index.remove(value)
            applied += 1
        index.insert_records(added)
        self.size = cursor
        return applied


def _entry_at(data: bytes, cursor: int) -> tuple[tuple[str, ArticleRecord | str], int] | None:
    """The record at `cursor` (an added article or a removed id) and where the next starts; None when
    it is cut short or damaged."""
    if cursor + _RECORD.size > len(data):
        return None
    size, crc = _RECORD.unpack_from(data, cursor)
    raw = data[cursor + _RECORD.size : cursor + _RECORD.size + size]
    if len(raw) != size or zlib.crc32(raw) != crc:
        return None
    try:
        value = json.loads(raw.decode("utf-8", "surrogatepass"))
        if "add" in value:
            change: tuple[str, ArticleRecord | str] = ("add", _record_from_json(value["add"]))
        elif isinstance(value.get("remove"), str):
            change = ("remove", value["remove"])
        else:
            return None
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    return change, cursor + _RECORD.size + size


def _record_json(record: ArticleRecord) -> list:
    return [
        record.id,
        record.title,
        record.date.isoformat() if record.date else None,
        record.language,
        record.source,
        [
            [
                p.position,
                p.kind,
                p.text,
                [list(span) for span in p.sentences],
                p.length,
                list(p.counts.items()),
            ]
            for p in record.passages
        ],
        record.url,
        record.outlet,
        record.date_source,
    ]


def _record_from_json(value: list) -> ArticleRecord:
    article_id, title, date, language, source, passages, url, outlet, date_source = value
    if language not in _LANGUAGES:
        raise ValueError(f"unknown language {language!r}")
    analysed = []
    for position, kind, text, spans, length, counts in passages:
        if kind not in KIND_CODES:
            raise ValueError(f"unknown passage kind {kind!r}")
        analysed.append(
            AnalysedPassage(
                int(position),
                kind,
                str(text),
                tuple((int(a), int(b)) for a, b in spans),
                int(length),
                dict(counts),
            )
        )
    return ArticleRecord(
        str(article_id),
        str(title),
        dt.date.fromisoformat(date) if date else None,
        language,
        str(source),
        analysed,
        None if url is None else str(url),
        None if outlet is None else str(outlet),
        None if date_source is None else str(date_source),
    )
