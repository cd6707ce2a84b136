"""This replica's share of the answer queue: its listeners' hold on it, and the worker that answers
questions other replicas acknowledged and never answered (handlers/questions.py says how; the table's
rules are in bot/stores/answer_queue.py).

The worker claims a question whose lease ran out (its replica died, or hangs), and answers it as the
listener would have. A slash command's response_url takes answers for 30 minutes after Slack sent
the command: one too old to be answered in time is dropped, with a log line, rather than answered
late (a mention is answered in its thread whenever). Now and then, it prunes old settled rows.

Its cycle is not the outbox's (bot/posting/outbox.py): a question is answered by the listeners' own
code (handlers/questions.py), which brackets the post with the queue and apologises when Slack
refuses, so this worker posts nothing of its own and reads no refusal; it shares the workers' loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from slack_sdk import WebClient

from bot.posting.worker import Worker
from bot.stores.claims import worker_name
from bot.stores.types import Answers as AnswerStore
from bot.stores.types import Question
from handlers.context import Dependencies
from handlers.listeners import reply_for
from handlers.questions import answer

log = logging.getLogger(__name__)

LEASE_SECONDS = 15.0
RESPONSE_URL_SECONDS = 30 * 60 - 60  # Slack's 30 minutes, less a minute for the answer to get there
KEEP_SECONDS = 86400.0  # settled rows are kept a day
PRUNE_EVERY_SECONDS = 3600.0


class Answers(Worker):
    """The answer queue as this replica's listeners and worker use it (`handlers.context.AnswerQueue`)."""

    def __init__(
        self,
        store: AnswerStore,
        client: WebClient,
        dependencies: Callable[[], Dependencies],
        *,
        worker_id: str | None = None,
        lease_seconds: float = LEASE_SECONDS,
        poll_seconds: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`dependencies()` is what answering needs, as the listeners get it; `clock` tells a
        response_url's age."""
        super().__init__("answers", "Answering left questions", poll_seconds)
        self.store = store
        self.client = client
        self.dependencies = dependencies
        self.worker_id = worker_id or worker_name()
        self.lease_seconds = lease_seconds
        self.clock = clock
        self._next_prune = 0.0  # time.monotonic

    # -- the listeners' side --------------------------------------------------------------------------

    def record(self, question: Question) -> bool:
        return self.store.record(question, self.worker_id, self.lease_seconds)

    def start_posting(self, question_id: str) -> bool:
        return self.store.start_posting(question_id, self.worker_id)

    def finish(self, question_id: str) -> bool:
        return self.store.finish(question_id, self.worker_id)

    def drop(self, question_id: str, reason: str) -> bool:
        return self.store.drop(question_id, self.worker_id, reason)

    # -- the worker -----------------------------------------------------------------------------------

    def run_once(self) -> bool:
        """Answer one question whose lease ran out (False when there is none), and prune now and then."""
        answered = self._answer_one()
        self._prune()
        return answered

    def _answer_one(self) -> bool:
        question = self.store.claim(self.worker_id, self.lease_seconds)
        if question is None:
            return False
        age = self.clock() - question.asked_at
        if question.kind == "command" and age > RESPONSE_URL_SECONDS:
            self.drop(question.id, "the response_url expired")
            log.warning(
                "Dropped question %s (%r): asked %.0f s ago, its response_url no longer takes answers",
                question.id,
                question.text,
                age,
            )
            return True
        logger = log.getChild("worker")
        if answer(question, reply_for(question, self.dependencies(), self.client), self.client, logger, self):
            log.info(
                "Answered question %s, %.0f s after it was asked, for a replica that did not",
                question.id,
                age,
            )
        return True

    def _prune(self) -> None:
        if time.monotonic() < self._next_prune:
            return
        self._next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
        if pruned := self.store.prune(KEEP_SECONDS):
            log.info("Pruned %d settled questions from the answer queue", pruned)
