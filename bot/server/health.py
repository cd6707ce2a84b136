"""What `/healthz` reports: each running part (store, Slack, index, watcher, feeds...) says how it is.

A part either reports its state when it changes (`report`) or is asked each time `/healthz` is read
(`watch`, for counts that move all the time, such as the index's). A part is `ok`, `loading` (starting,
not broken) or `broken` (with the reason, for people); the whole is broken as soon as one part is.
A change of state is logged once, not at every check.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

log = logging.getLogger(__name__)

Status = Literal["ok", "loading", "broken"]
SEVERITY: dict[Status, int] = {"ok": 0, "loading": 1, "broken": 2}


@dataclass(frozen=True)
class PartHealth:
    status: Status
    reason: str = ""
    details: Mapping[str, object] = field(default_factory=dict)  # counts and facts, shown as they are

    def as_json(self) -> dict[str, object]:
        shown: dict[str, object] = {"status": self.status}
        if self.reason:
            shown["reason"] = self.reason
        return {**shown, **self.details}


class HealthRegistry:
    """The parts' latest states; thread-safe (parts report from their own threads)."""

    def __init__(self) -> None:
        self._reported: dict[str, PartHealth] = {}
        self._watched: dict[str, Callable[[], PartHealth]] = {}
        self._lock = threading.Lock()

    def report(
        self, part: str, status: Status, reason: str = "", *, logged: bool = False, **details: object
    ) -> None:
        """Set `part`'s state; a change of status (or of the reason it is broken) is logged once,
        unless the part `logged` it itself."""
        health = PartHealth(status, reason, details)
        with self._lock:
            before = self._reported.get(part)
            self._reported[part] = health
        changed = before is None or (before.status, before.reason) != (health.status, health.reason)
        if changed and not logged:
            _log_change(part, before, health)

    def watch(self, part: str, check: Callable[[], PartHealth]) -> None:
        """Ask `check()` for `part`'s state whenever the health is read (it must be quick)."""
        with self._lock:
            self._watched[part] = check

    def part(self, name: str) -> PartHealth | None:
        with self._lock:
            check = self._watched.get(name)
            reported = self._reported.get(name)
        return _checked(check) if check is not None else reported

    def parts(self) -> dict[str, PartHealth]:
        with self._lock:
            reported = dict(self._reported)
            watched = dict(self._watched)
        return {**reported, **{name: _checked(check) for name, check in watched.items()}}

    def snapshot(self) -> dict[str, object]:
        """`{"status": worst of the parts, "parts": {name: {"status", "reason"?, counts...}}}`."""
        parts = self.parts()
        worst = max((p.status for p in parts.values()), key=SEVERITY.__getitem__, default="loading")
        return {"status": worst, "parts": {name: part.as_json() for name, part in sorted(parts.items())}}


def _checked(check: Callable[[], PartHealth]) -> PartHealth:
    try:
        return check()
    except Exception as error:  # a health check must not take /healthz down with it
        return PartHealth("broken", f"health check failed: {type(error).__name__}: {error}")


def _log_change(part: str, before: PartHealth | None, after: PartHealth) -> None:
    if after.status == "broken":
        log.error("%s is broken: %s", part.capitalize(), after.reason)
    elif before is not None and before.status == "broken":
        log.info("%s works again", part.capitalize())


class PeriodicCheck:
    """Asks `check()` for a part's state every `every` seconds, from a thread, and reports it."""

    def __init__(
        self, health: HealthRegistry, part: str, check: Callable[[], PartHealth], every: float = 2.0
    ) -> None:
        self.health = health
        self.part = part
        self.check = check
        self.every = every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, *, check_now: bool = True) -> PeriodicCheck:
        if check_now:
            self.run_once()
        self._thread = threading.Thread(target=self._run, name=f"{self.part}-health", daemon=True)
        self._thread.start()
        return self

    def run_once(self) -> PartHealth:
        health = _checked(self.check)
        self.health.report(self.part, health.status, health.reason, **health.details)
        return health

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.run_once()
