"""A hang detector for work that must be linear in its input, without assertions on time.

The work runs in a child process that is killed if it has not finished within a generous bound: set
tens of times above what the linear code needs on a busy machine, and tens of times below what the
quadratic or backtracking code it replaces took on the same input. The test then checks the outcome.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from typing import Any

HANG_SECONDS = 60.0


def finishes(work: Callable[[], Any], seconds: float = HANG_SECONDS) -> Any:
    """What `work()` returns, run in a child process; AssertionError if it is still running after `seconds`."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_run, args=(work, sender), daemon=True)
    child.start()
    sender.close()
    try:
        if not receiver.poll(seconds):
            raise AssertionError(f"still running after {seconds:.0f} s: the work is not linear in its input")
        ok, value = receiver.recv()
    finally:
        child.kill()
        child.join()
        receiver.close()
    if not ok:
        raise AssertionError(f"the work raised {value}")
    return value


def _run(work: Callable[[], Any], sender) -> None:
    try:
        result = (True, work())
    except Exception as error:
        result = (False, repr(error))
    sender.send(result)
    sender.close()
