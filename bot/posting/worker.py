"""The loop shared by the background workers (the outboxes, bot/posting/outbox.py; the answerer).

A worker thread calls `run_once` again at once while it finds work, else waits for the next poll or
a `wake()`. A store that cannot record puts the work off without a log line each tick (its health
check says why, once); any other error is logged and the work tried again at the next poll.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Self

from bot.stores.articles import StoreUnavailable

log = logging.getLogger(__name__)

# How long a stop waits for the work under way (listeners answering, workers posting) before the
# store is closed under what is still running.
STOP_SECONDS = 5.0


class Worker:
    """A background thread running `run_once` (True when it did something) until `stop()`."""

    def __init__(self, thread_name: str, activity: str, poll_seconds: float) -> None:
        """`activity` names the work in log lines ("Announcing")."""
        self.poll_seconds = poll_seconds
        self._thread_name = thread_name
        self._activity = activity
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> bool:
        raise NotImplementedError

    def start(self) -> Self:
        self._thread = threading.Thread(target=self._run, name=self._thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wake(self, article_id: str | None = None) -> None:
        """Something may be waiting in the outbox: look now rather than at the next poll."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once()
            except StoreUnavailable as error:
                log.debug("%s put off: %s", self._activity, error)
                busy = False
            except Exception:
                log.exception("%s failed unexpectedly; trying again shortly", self._activity)
                busy = False
            if not busy:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()


def worker_name() -> str:
    """This process's name in the claims it takes: host, pid and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def stop_all(stops: Mapping[str, Callable[[], None]], seconds: float = STOP_SECONDS) -> None:
    """Run every stop at once, each in its own thread, and wait `seconds` at most for them all.

    One still running then is logged and left to finish by itself: what it does with the store
    after the caller closes it fails with StoreUnavailable.
    """
    threads = {
        name: threading.Thread(target=stop, name=f"stop-{name}", daemon=True) for name, stop in stops.items()
    }
    for thread in threads.values():
        thread.start()
    deadline = time.monotonic() + seconds
    for thread in threads.values():
        thread.join(max(0.0, deadline - time.monotonic()))
    if running := [name for name, thread in threads.items() if thread.is_alive()]:
        log.warning(
            "Stopping: %s still running after %g s; stopping all the same", ", ".join(running), seconds
        )
