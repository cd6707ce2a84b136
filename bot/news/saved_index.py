"""The saved search index, kept beside the store: a start opens it instead of parsing every article.

At start the files are checked against the store: missing, of another version or damaged, they are
rebuilt from the store (one log line); when they lack articles the store holds, or hold articles the
store has removed, they are repaired: only those articles are parsed or dropped. Article ids are
derived from the article's text, so the same set of ids means the same contents. When nothing changed,
no stored article is parsed.

Beside it, `near-copies.bin` keeps the near-copy signatures of the articles it was checked against
(see `open_near_copies`): a start reads them instead of the texts of every stored article.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot.stores.articles import article_of
from bot.stores.store import POSTGRES_SCHEMES, Store, sqlite_path
from search import SearchIndex
from search.dedupe import PERMUTATIONS, SIGNATURE_VERSION, VALUE_TYPE, NearDuplicates
from search.persist import IndexFileError, NoSavedIndex, SavedIndex

log = logging.getLogger(__name__)

NEAR_COPIES = "near-copies.bin"
_NEAR_COPIES_MAGIC = b"MNB-NEAR-COPIES\n"


def index_folder(database_url: str) -> Path:
    """The folder of the saved index for the store at `database_url`: beside a SQLite file
    (`data/bot.db` -> `data/bot.index`); for a database server, a cache folder of this machine's user
    named after the URL (each replica keeps its own; each is checked against the database at start)."""
    if database_url.startswith(POSTGRES_SCHEMES):
        digest = hashlib.sha256(database_url.encode()).hexdigest()[:16]
        return Path.home() / ".cache" / "mistral-news-bot" / f"index-{digest}"
    return sqlite_path(database_url).with_suffix(".index")


def open_index(store: Store, folder: str | Path, index: SavedIndex | None = None) -> SavedIndex:
    """The index of the store's active articles, loaded from `folder` or rebuilt there.

    Pass an empty `index` to have it filled (e.g. one the Slack handlers already hold, from a
    background thread); without one a new index is made. Safe to call from any thread.
    """
    index = index if index is not None else SavedIndex(folder)
    try:
        index.load()
    except IndexFileError as error:
        log.log(
            logging.INFO if isinstance(error, NoSavedIndex) else logging.WARNING,
            "Rebuilding the search index in %s: %s",
            folder,
            error,
        )
        rebuild(index, store)
        return index
    repair(index, store)
    return index


def rebuild(index: SavedIndex, store: Store) -> None:
    """Index every active stored article afresh and save it; in memory only when it cannot be saved."""
    try:
        index.rebuild(article_of(stored) for stored in store.articles.active_articles())
    except OSError as error:
        log.error(
            "The search index could not be saved in %s (%s): it is rebuilt at each start", index.folder, error
        )


def save_all(index: SavedIndex, store: Store, duplicates: NearDuplicates) -> None:
    """Write the index as one snapshot (its journal emptied) and the near-copy signatures of the
    store's active articles: after a first start, which read the whole folder. A start replays a
    journal ten times slower than it reads a snapshot, and signs the texts it lacks signatures for."""
    try:
        index.save()
        write_near_copies(index.folder, duplicates, store.articles.active_ids())
    except OSError as error:
        log.error("The search index could not be saved in %s (%s)", index.folder, error)


def repair(index: SavedIndex, store: Store) -> None:
    """Bring a loaded index in line with the store: add what it lacks, drop what the store removed.

    A store that came back empty is not followed: the index lists what the app knew (see
    `came_back_empty`); the start's scan of the folder records those articles again."""
    if came_back_empty(store, index):
        return
    wanted, held = store.articles.active_ids(), index.article_ids()
    removed = held - wanted
    for article_id in removed:
        index.remove(article_id)
    missing = sorted(wanted - held)
    index.extend(
        article_of(stored) for article_id in missing if (stored := store.articles.get(article_id)) is not None
    )
    if removed or missing:
        log.info(
            "Search index repaired from the store: %d articles added, %d removed", len(missing), len(removed)
        )


def came_back_empty(store: Store, index: SearchIndex) -> bool:
    """The store holds no article and the app never started on it, yet the index lists articles: the
    store was lost (its file deleted, or replaced by an empty one) while the app knew them."""
    return (
        bool(index.article_count) and not store.articles.baseline_done() and not store.articles.active_ids()
    )


@dataclass(frozen=True)
class SavedNearCopies:
    """What `near-copies.bin` holds: the ids checked (a text too short to compare has no signature)
    and the signatures of those that have one."""

    checked: frozenset[str] = frozenset()
    keys: list[str] = field(default_factory=list)
    values: np.ndarray = field(default_factory=lambda: np.empty((0, PERMUTATIONS), VALUE_TYPE))


def open_near_copies(store: Store, folder: str | Path, duplicates: NearDuplicates) -> int:
    """Fill `duplicates` with the store's active articles: the signatures saved in `folder`, and
    the texts of the articles they lack (then saved again); how many texts were read."""
    wanted = store.articles.active_ids()
    saved = read_near_copies(Path(folder))
    rows = [row for row, key in enumerate(saved.keys) if key in wanted]
    duplicates.add_signatures([saved.keys[row] for row in rows], saved.values[rows])
    missing = sorted(wanted - saved.checked)
    for article_id in missing:
        stored = store.articles.get(article_id)
        if stored is not None and stored.removed_at is None:
            duplicates.add(stored.id, stored.text)
    if missing or saved.checked != wanted:
        try:
            write_near_copies(Path(folder), duplicates, wanted)
        except OSError as error:
            log.error("The near-copy signatures could not be saved in %s (%s)", folder, error)
    return len(missing)


def read_near_copies(folder: Path) -> SavedNearCopies:
    """The saved signatures, or none when there are none yet or they cannot be used (one log line)."""
    path = folder / NEAR_COPIES
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return SavedNearCopies()
    except OSError as error:
        log.warning("Computing the near-copy signatures again: cannot read %s (%s)", path, error)
        return SavedNearCopies()
    try:
        return _parse_near_copies(data)
    except (ValueError, KeyError, TypeError) as error:
        log.warning("Computing the near-copy signatures again: %s is unusable (%s)", path, error)
        return SavedNearCopies()


def _parse_near_copies(data: bytes) -> SavedNearCopies:
    if not data.startswith(_NEAR_COPIES_MAGIC):
        raise ValueError("not a near-copies file")
    line_end = data.index(b"\n", len(_NEAR_COPIES_MAGIC))
    header = json.loads(data[len(_NEAR_COPIES_MAGIC) : line_end])
    if header["version"] != SIGNATURE_VERSION:
        raise ValueError(f"signatures of another version ({header['version']})")
    body = data[line_end + 1 :]
    if len(body) != header["bytes"] or zlib.crc32(body) != header["crc"]:
        raise ValueError("truncated or damaged")
    ids = body[: header["ids_bytes"]].decode().split("\n") if header["ids_bytes"] else []
    signed = header["signed"]
    values = np.frombuffer(body, VALUE_TYPE, offset=header["ids_bytes"]).reshape(signed, PERMUTATIONS)
    return SavedNearCopies(frozenset(ids), ids[:signed], values)


def write_near_copies(folder: Path, duplicates: NearDuplicates, checked: set[str]) -> None:
    """Save the signatures of `duplicates` and the ids `checked`, at once (a temporary file renamed)."""
    keys, values = duplicates.signatures()
    signed = set(keys)
    ids = "\n".join([*keys, *sorted(checked - signed)]).encode()
    body = ids + np.ascontiguousarray(values, VALUE_TYPE).tobytes()
    header = {
        "version": SIGNATURE_VERSION,
        "signed": len(keys),
        "ids_bytes": len(ids),
        "bytes": len(body),
        "crc": zlib.crc32(body),
    }
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f"{NEAR_COPIES}.tmp"
    with open(temporary, "wb") as out:
        out.write(_NEAR_COPIES_MAGIC + json.dumps(header).encode() + b"\n" + body)
    os.replace(temporary, folder / NEAR_COPIES)
