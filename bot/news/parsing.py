"""Reading article files in a worker process, so that no file holds ingestion up for longer than a budget.

Parsing is linear in the file's size, but a file may still meet a slow path nobody has found yet, and a
thread cannot be stopped in Python: the parse runs in a child process, which is killed when it takes
longer than the budget. The child is kept warm between files (the parser's modules are loaded once) and
started again, lazily, after a kill. The start of a child is not counted in the budget.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import weakref
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

from search import Article
from search.loader import ArticleFileError, parse_limited, read_article_text

log = logging.getLogger(__name__)

PARSE_SECONDS = 10.0  # an article at search/loader.py's limits is read in a tenth of a second
START_SECONDS = 60.0  # a child that cannot start in this time is a broken machine, not a slow file

Parse = Callable[[Path, str], Article]


def parse_file(path: Path, source: str) -> Article:
    """The article in the file at `path`; ArticleFileError or OSError when it cannot be one (too big
    to be a news article included)."""
    return parse_limited(read_article_text(path), source)


def _context() -> multiprocessing.context.BaseContext:
    """forkserver where there is one: a clean, quick child even when the app runs threads; else spawn."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["search"])
        return context
    return multiprocessing.get_context("spawn")


class ParseWorker:
    """Parses files one at a time in a child process; a parse over `seconds` is stopped and refused."""

    def __init__(self, parse: Parse = parse_file, seconds: float = PARSE_SECONDS) -> None:
        self.parse_function = parse
        self.seconds = seconds
        self.timeouts = 0  # parses stopped for taking too long, since this worker was made
        self._lock = threading.Lock()
        self._child: multiprocessing.process.BaseProcess | None = None
        self._connection: Connection | None = None
        self._finalizer: weakref.finalize | None = None

    def parse(self, path: Path, source: str) -> Article:
        """The article in `path`; ArticleFileError when it is not one or took longer than the budget."""
        with self._lock:
            try:
                connection = self._started()
                connection.send((str(path), source))
                if not connection.poll(self.seconds):
                    self.timeouts += 1
                    self._stop()
                    raise ArticleFileError(
                        f"took longer than {self.seconds:g} s to read, so it was stopped; "
                        "it is read again when it changes"
                    )
                ok, value = connection.recv()
            except (EOFError, OSError) as error:
                self._stop()
                raise ArticleFileError(f"the parser stopped while reading it ({error!r})") from None
        if ok:
            return value
        raise value

    def close(self) -> None:
        """Stop the child; a parse in progress in another thread ends at once, refused."""
        child = self._child
        if child is not None and child.is_alive():
            child.kill()  # the parse waiting on it sees the pipe close
        with self._lock:
            self._stop()

    def _started(self) -> Connection:
        if self._connection is not None and self._child is not None and self._child.is_alive():
            return self._connection
        self._stop()
        context = _context()
        parent_end, child_end = context.Pipe()
        child = context.Process(
            target=_serve, args=(child_end, self.parse_function), name="article-parser", daemon=True
        )
        child.start()
        child_end.close()
        self._child, self._connection = child, parent_end
        self._finalizer = weakref.finalize(self, _stop_child, child, parent_end)
        if not parent_end.poll(START_SECONDS):
            self._stop()
            raise ArticleFileError(f"the parser process did not start within {START_SECONDS:g} s")
        parent_end.recv()  # "ready"
        return parent_end

    def _stop(self) -> None:
        if self._finalizer is not None:
            self._finalizer()
        self._child = self._connection = self._finalizer = None


def _stop_child(child: multiprocessing.process.BaseProcess, connection: Connection) -> None:
    connection.close()
    if child.is_alive():
        child.kill()
    child.join(timeout=5)


def _serve(connection: Connection, parse: Parse) -> None:
    """The child's loop: a path in, `(True, article)` or `(False, exception)` out, until the pipe closes."""
    connection.send("ready")
    while True:
        try:
            path, source = connection.recv()
        except (EOFError, OSError):
            return
        try:
            result = (True, parse(Path(path), source))
        except (ArticleFileError, OSError) as error:
            result = (False, error)
        except Exception as error:
            result = (False, ArticleFileError(f"could not be parsed ({error!r})"))
        connection.send(result)
