"""The in-memory fake's one leased claim (bot/stores/claims.py does it in SQL): the oldest due rows,
held by a worker until a lease's end, moved on only while held."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

Row = TypeVar("Row")


@dataclass(frozen=True)
class MemoryLease:
    """Rows (mutable dataclasses) held by the worker in the attribute `holder` until `until`."""

    holder: str | None = "claimed_by"
    until: str | None = "lease_until"

    def claim(
        self,
        rows: Iterable[Row],
        *,
        worker: str | None,
        lease_until: float | None,
        due: Callable[[Row], bool],
        order: Callable[[Row], Any],
        limit: int | None = 1,
    ) -> list[tuple[Row, Row]]:
        """The due rows, oldest by `order`, at most `limit`, now held by `worker`: each as it was, and itself."""
        taken = sorted((row for row in rows if due(row)), key=order)[:limit]
        claimed = []
        for row in taken:
            before = copy.copy(row)
            if self.holder is not None and self.until is not None:
                setattr(row, self.holder, worker)
                setattr(row, self.until, lease_until)
            claimed.append((before, row))
        return claimed

    def holds(self, row: Any, worker: str) -> bool:
        return row is not None and getattr(row, self.holder) == worker
