"""How far a start has got, for the log and /healthz: each phase logged as it ends, with its seconds,
and the folder's catch-up counted file by file (a first start of a big folder reads every file).

The phases, in order: `token` (Slack checks the bot token), `store` (the database opened), `index`
(the saved index loaded, or rebuilt, and checked against the store; the near-copy signatures),
`folder` (the folder compared with the store: what changed while stopped is read), `ready` (the
watcher, the notifier, the feeds and the answer queue started).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

PHASES = ("token", "store", "index", "folder", "ready")
PROGRESS_SECONDS = 5.0  # while the folder is caught up, one log line this often


class StartProgress:
    """The phases done (with their seconds) and the folder's files done of total. Thread-safe:
    the start updates it, /healthz reads it."""

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, progress_seconds: float = PROGRESS_SECONDS
    ) -> None:
        self.clock = clock
        self.progress_seconds = progress_seconds
        self.seconds: dict[str, float] = {}  # by phase, once it has ended
        self.files_done = 0
        self.files_total: int | None = None  # known once the folder is listed
        self._began = self._phase_began = clock()
        self._next_line = 0.0
        self._lock = threading.Lock()

    @property
    def phase(self) -> str:
        """The phase under way (`ready` once every one has ended)."""
        return PHASES[min(len(self.seconds), len(PHASES) - 1)]

    def begin(self) -> None:
        """The start begins now: the first phase's seconds count from here."""
        self._began = self._phase_began = self.clock()

    def ended(self, phase: str, detail: str = "") -> None:
        """`phase` has just ended: one log line with its seconds (and `detail`, for people)."""
        now = self.clock()
        with self._lock:
            seconds = now - self._phase_began
            self.seconds[phase] = seconds
            self._phase_began = now
        suffix = f" ({detail})" if detail else ""
        if phase == PHASES[-1]:
            suffix += f"; ready {now - self._began:.2f} s after the start began"
        log.info("Start phase %s: %.2f s%s", phase, seconds, suffix)

    def folder_listed(self, total: int) -> None:
        with self._lock:
            self.files_total, self.files_done = total, 0
            self._next_line = self.clock() + self.progress_seconds

    def file_done(self) -> None:
        """One more file of the folder compared (and read, when it changed); a log line every
        `progress_seconds`."""
        now = self.clock()
        with self._lock:
            self.files_done += 1
            due = now >= self._next_line and self.files_done < (self.files_total or 0)
            if due:
                self._next_line = now + self.progress_seconds
        if due:
            log.info(
                "Catching up with the articles folder: %d of %d files", self.files_done, self.files_total
            )

    def details(self) -> dict[str, object]:
        """For /healthz while starting: the phase, and the folder's files done of total once listed."""
        shown: dict[str, object] = {"phase": self.phase}
        if self.files_total is not None:
            shown.update(articles_done=self.files_done, articles_total=self.files_total)
        return shown
