"""Waiting for what background threads do, by polling with a deadline rather than sleeping blindly."""

import time


def wait_until(predicate, timeout: float = 15.0, interval: float = 0.05) -> None:
    """Return once `predicate()` is true; AssertionError, naming it, if it is not within `timeout` s."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout}s: {getattr(predicate, '__name__', predicate)}")
        time.sleep(interval)
