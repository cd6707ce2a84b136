"""Logging for operators: one line per event, with time, level and logger, at LOG_LEVEL.

A log line that spans several lines (a traceback, a message quoting text) breaks log shippers and
lets whoever controls the text forge entries: every record is folded onto one line, and an exception
is summarised as its type, message and where it was raised. The full traceback is logged at DEBUG.
"""

from __future__ import annotations

import logging
import sys
import traceback

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MAX_MESSAGE_CHARS = 2000
# Bolt warns that the token it read from SLACK_BOT_TOKEN "will be unused" when it is handed our own
# configured client, which carries that very token: the warning is noise.
_BOLT_NOISE = ("`token` will be unused",)


class OneLineFormatter(logging.Formatter):
    def __init__(self, *, verbose_exceptions: bool = False) -> None:
        super().__init__(FORMAT)
        self.verbose_exceptions = verbose_exceptions

    def format(self, record: logging.LogRecord) -> str:
        exc_info, record.exc_info, record.exc_text = record.exc_info, None, None
        try:
            line = super().format(record)
        finally:
            record.exc_info = exc_info
        if exc_info and exc_info[1] is not None:
            line += f" [{exception_summary(exc_info[1])}]"
        line = fold(line)
        if exc_info and self.verbose_exceptions:
            line += "\n" + "".join(traceback.format_exception(*exc_info)).rstrip()
        return line


def fold(text: str) -> str:
    """One line, at most MAX_MESSAGE_CHARS long."""
    text = text.replace("\r", "\\r").replace("\n", "\\n")
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"


def exception_summary(error: BaseException) -> str:
    """`TimeoutError: timed out at bot/posting/announcements.py:160`: what went wrong, and where."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f" at {frames[-1].filename.rsplit('site-packages/', 1)[-1]}:{frames[-1].lineno}" if frames else ""
    return f"{type(error).__name__}: {error}{where}"


class _DropNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(noise in message for noise in _BOLT_NOISE)


def configure_logging(level: str = "INFO", stream=None) -> None:
    """Log to stderr (or `stream`) at `level`; tracebacks in full only at DEBUG."""
    handler = logging.StreamHandler(stream or sys.stderr)
    numeric = logging.getLevelName(level.upper())
    handler.setFormatter(OneLineFormatter(verbose_exceptions=numeric == logging.DEBUG))
    handler.addFilter(_DropNoise())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    # slack_sdk logs each of its own retries at INFO; ours say once what failed and what happens next.
    logging.getLogger("slack_sdk").setLevel(max(numeric, logging.WARNING))
