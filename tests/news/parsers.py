"""Parse functions for the ingestor's worker process (it imports them by name, so they live in a module)."""

import time
from pathlib import Path

from bot.news.parsing import parse_file
from search import Article

SLOW_MARK = "PARSE-SLOWLY"
HOLD_SUFFIX = ".hold"


def parse_slowly(path: Path, source: str) -> Article:
    """The real parse, except that a file holding SLOW_MARK never finishes: a file on a slow path."""
    if SLOW_MARK in path.read_text("utf-8", errors="replace"):
        time.sleep(3600)
    return parse_file(path, source)


def parse_held(path: Path, source: str) -> Article:
    """The real parse, once no file `NAME.hold` is beside the file: a test holds a start on a file."""
    hold = path.with_name(path.name + HOLD_SUFFIX)
    while hold.exists():
        time.sleep(0.02)
    return parse_file(path, source)


def parse_crashing(path: Path, source: str) -> Article:
    """A parser with a bug: any exception it raises is a refusal of the file, not a crash of the app."""
    raise RuntimeError("a bug in the parser")
