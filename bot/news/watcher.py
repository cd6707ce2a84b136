"""Watching the articles folder: file-system events, plus a periodic rescan as a safety net.

A file is ingested only once it has settled: its size and modification time are the same at two
checks `settle_seconds` apart, so a file still being written is never read half-written. Nothing a
file does (unreadable, vanished, refused) stops the watcher: each failure is one log line. Files in
hidden folders (`.Trash`, `.git`) are not looked at. When the folder itself is deleted and made again
(or replaced), the watch on the old one is dead: the watcher notices within a second, watches the new
folder and rescans it.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
import time
from dataclasses import KW_ONLY, dataclass
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from bot.news.folder import Ingestor, Signature, file_signature
from bot.stores.types import StoreUnavailable
from search.loader import in_hidden_folder, is_article_name

log = logging.getLogger(__name__)

SETTLE_SECONDS = 0.5
RESCAN_SECONDS = 30.0
TICK_SECONDS = 0.1
STORE_RETRY_SECONDS = 2.0


@dataclass(eq=False)
class FolderWatcher:
    """Feeds an `Ingestor` the files that appear, change or vanish in its folder, from a thread."""

    ingestor: Ingestor
    _: KW_ONLY
    settle_seconds: float = SETTLE_SECONDS
    rescan_seconds: float = RESCAN_SECONDS
    use_events: bool = True

    def __post_init__(self) -> None:
        self.folder = self.ingestor.folder
        self._changed: set[Path] = set()
        self._settling: dict[Path, tuple[Signature, float]] = {}
        self._unrecorded: set[Path] = set()  # the store could not record them: tried again later
        self._retry_at = 0.0
        self._rescan_now = threading.Event()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._observer = None
        self._folder_identity: tuple[int, int] | None = None

    def start(self) -> FolderWatcher:
        """Watch from now on: events when the platform has them, and a rescan every `rescan_seconds`."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self._folder_identity = folder_identity(self.folder)
        if self.use_events:
            self._watch()
        self._thread = threading.Thread(target=self._run, name="folder-watcher", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching; a file being parsed is given up (the ingestor's parser restarts when used)."""
        self._stop.set()
        self._wake.set()
        self.ingestor.close()
        self._unwatch()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _watch(self) -> None:
        """Events from the folder as it is now (a new observer: the old one's watch died with its folder)."""
        self._unwatch()
        observer = Observer()
        observer.schedule(_Events(self), str(self.folder), recursive=True)
        observer.daemon = True
        observer.start()
        self._observer = observer

    def _unwatch(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
            self._observer = None

    def _events_alive(self) -> bool:
        emitters = self._observer.emitters if self._observer is not None else ()
        return bool(emitters) and all(emitter.is_alive() for emitter in emitters)

    def _follow_folder(self) -> None:
        """When the folder was deleted, made again or replaced: watch the new one and rescan it."""
        identity = folder_identity(self.folder)
        replaced = identity != self._folder_identity
        lost = self.use_events and identity is not None and not self._events_alive()
        if not (replaced or lost):
            return
        self._folder_identity = identity
        if identity is None:
            log.warning("Articles folder %s is gone; watching for it to come back", self.folder)
        elif self.use_events:
            try:
                self._watch()
            except OSError as error:
                log.warning("Cannot watch %s (%s); the rescan still sees its changes", self.folder, error)
            else:
                log.info("Watching %s again", self.folder)
        self._rescan()

    def rescan_soon(self) -> None:
        """Look at the whole folder again now (e.g. the store works again after a failure)."""
        self._rescan_now.set()
        self._wake.set()

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def waiting_for_store(self) -> int:
        """Files read but not recorded (the store could not): they are tried again."""
        return len(self._unrecorded)

    def __enter__(self) -> FolderWatcher:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def notice(self, path: str | Path) -> None:
        """A path changed (created, written, moved or deleted): look at it soon."""
        path = Path(path)
        if is_article_name(path.name) and not in_hidden_folder(path, self.folder):
            with self._lock:
                self._changed.add(path)
            self._wake.set()

    def _run(self) -> None:
        next_rescan = time.monotonic() + self.rescan_seconds
        while not self._stop.is_set():
            self._follow_folder()
            if time.monotonic() >= next_rescan or self._rescan_now.is_set():
                self._rescan_now.clear()
                self._rescan()
                next_rescan = time.monotonic() + self.rescan_seconds
            if self._unrecorded and time.monotonic() >= self._retry_at:
                for path in self._unrecorded:
                    self.notice(path)
                self._unrecorded.clear()
            self._settle_changes()
            self._wake.wait(TICK_SECONDS if self._settling else min(1.0, self.rescan_seconds))
            self._wake.clear()

    def _rescan(self) -> None:
        try:
            for path in self.ingestor.article_files():
                self.notice(path)
            for source in self.ingestor.removed_sources():
                self.ingestor.remove(source)
        except StoreUnavailable as error:
            log.debug("Rescan of %s put off: %s", self.folder, error)
        except Exception:
            log.exception("Rescan of %s failed; the next one will try again", self.folder)

    def _settle_changes(self) -> None:
        with self._lock:
            changed, self._changed = self._changed, set()
        for path in changed:
            self._settling.setdefault(path, ((-1, -1), time.monotonic()))
        for path in list(self._settling):
            try:
                self._settle(path)
            except StoreUnavailable as error:
                # Not recorded, so not seen: kept, with the others, for one try in a while (the
                # store's health says why, once).
                self._unrecorded.update([path, *self._settling])
                self._settling.clear()
                self._retry_at = time.monotonic() + STORE_RETRY_SECONDS
                log.debug("Could not record %s yet: %s", path, error)
                return
            except Exception:
                self._settling.pop(path, None)
                log.exception("Could not ingest %s; the watcher carries on", path)

    def _settle(self, path: Path) -> None:
        signature = file_signature(path)
        if signature is None and not path.is_symlink():
            self._settling.pop(path)
            self.ingestor.remove(path)
            return
        previous, seen_at = self._settling[path]
        now = time.monotonic()
        if signature != previous:
            self._settling[path] = (signature, now)
        elif now - seen_at >= self.settle_seconds:
            self._settling.pop(path)
            self.ingestor.ingest(path)


class _Events(FileSystemEventHandler):
    def __init__(self, watcher: FolderWatcher) -> None:
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            self.watcher._wake.set()  # perhaps the folder itself went: the watcher looks at once
            return
        for path in (event.src_path, getattr(event, "dest_path", "")):
            if path:
                self.watcher.notice(path if isinstance(path, str) else path.decode())


def folder_identity(folder: Path) -> tuple[int, int] | None:
    """The device and inode of `folder`, or None when it is not a folder (any more)."""
    try:
        status = os.stat(folder)
    except OSError:
        return None
    return (status.st_dev, status.st_ino) if stat.S_ISDIR(status.st_mode) else None
