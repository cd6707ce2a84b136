"""Stopping the served app while answers are being written, many times over, in a process of its own.

`python -m tests.stopping DATABASE_URL LOOPS` serves the whole app (tests/served.py) LOOPS times on
the database; each time it sends slash commands at once, the answers held up at Slack's end (each
response_url call is recorded at once but answered late), and stops the app while some are being
sent. Run as a child process, a crash (a segmentation fault) shows as the child's exit status.

After each stop it checks that the stop drained its work: no listener thread is left running, every
question acknowledged is either answered and marked done or left 'answering' for another replica
(never 'posting': an answer sent whose outcome the store never got), and nothing was logged at
ERROR level (a store used after it was closed, say). It prints one line per loop that broke a rule,
and exits 1 if any did.
"""

from __future__ import annotations

import logging
import random
import shutil
import sys
import tempfile
import threading
from pathlib import Path
from urllib.parse import parse_qs

from bot.stores.store import open_store
from tests.fakes import FakeSlack
from tests.fakes.signing import slash_command_body
from tests.served import served_app

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
QUESTIONS = 6  # sent at once each time, more than the served app's 4 HTTP threads
ANSWER_DELAY_SECONDS = 0.2  # how long Slack takes to answer each response_url call
SETTLED = ("done", "answering")  # answered, or left for another replica


class Errors(logging.Handler):
    """The ERROR records logged meanwhile."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def logged(record: logging.LogRecord) -> str:
    """The message, and the exception's traceback if there is one."""
    formatter = logging.Formatter("%(name)s: %(message)s")
    return formatter.format(record)


def main(database_url: str, loops: int) -> int:
    errors = Errors()
    logging.getLogger().addHandler(errors)
    broken = 0
    with FakeSlack() as slack, tempfile.TemporaryDirectory() as folder:
        articles = Path(folder) / "articles"
        shutil.copytree(SEEDS, articles)
        for loop in range(loops):
            problems = stop_while_answering(slack, articles, database_url, random.Random(loop))
            problems += [f"logged: {logged(record)}" for record in errors.records]
            errors.records.clear()
            for problem in problems:
                print(f"loop {loop}: {problem}", flush=True)
            broken += bool(problems)
    print(f"{loops - broken} loops stopped cleanly, {broken} did not", flush=True)
    return 1 if broken else 0


def stop_while_answering(
    slack: FakeSlack, articles: Path, database_url: str, rng: random.Random
) -> list[str]:
    """One start, questions, and a stop while some answers are being sent: the rules it broke."""
    slack.calls.clear()
    slack.delay_next("response_url", ANSWER_DELAY_SECONDS, times=QUESTIONS)
    acknowledged: list[str] = []
    with served_app(slack, articles, database_url) as app:
        senders = [
            threading.Thread(target=ask, args=(app, f"q{n}", acknowledged), daemon=True)
            for n in range(QUESTIONS)
        ]
        for sender in senders:
            sender.start()
        slack.wait_for("response_url", rng.randint(1, QUESTIONS // 2))
    for sender in senders:
        sender.join(30)
    return left_running() + unsettled(slack, database_url, acknowledged)


def ask(app, name: str, acknowledged: list[str]) -> None:
    body = slash_command_body("Mistral", app.slack.response_url(name))
    try:
        status, _ = app.post(body)
    except OSError:  # the server stopped first: Slack sends it again, to another replica
        return
    if status == 200:
        acknowledged.append(parse_qs(body)["trigger_id"][0])


def left_running() -> list[str]:
    return [
        f"thread {thread.name} still running"
        for thread in threading.enumerate()
        if thread.name.startswith("listener")
    ]


def unsettled(slack: FakeSlack, database_url: str, acknowledged: list[str]) -> list[str]:
    store = open_store(database_url)
    try:
        states = {question: store.answers.state(question) for question in acknowledged}
    finally:
        store.close()
    return [
        f"question {question} left {state!r}" for question, state in states.items() if state not in SETTLED
    ]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
