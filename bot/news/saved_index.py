"""The saved search index, kept beside the store: a start opens it instead of parsing every article.

At start the files are checked against the store: missing, of another version or damaged, they are
rebuilt from the store (one log line); when they lack articles the store holds, or hold articles the
store has removed, they are repaired: only those articles are parsed or dropped. Article ids are
derived from the article's text, so the same set of ids means the same contents. When nothing changed,
no stored article is parsed.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from bot.stores.articles import article_of
from bot.stores.store import POSTGRES_SCHEMES, Store, sqlite_path
from search import SearchIndex
from search.persist import IndexFileError, NoSavedIndex, SavedIndex

log = logging.getLogger(__name__)


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


def save_snapshot(index: SavedIndex) -> None:
    """Write the index as one snapshot (its journal emptied): after a first start, which read the whole
    folder. A start replays a journal ten times slower than it reads a snapshot."""
    try:
        index.save()
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
