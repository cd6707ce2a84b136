"""The one outbox worker: every kind of post (announcements, their story edits, channel posts and
story replies, recounts, digests) goes through the same cycle, written once here.

The cycle, for one claimed row:
- gone: what it was for is no more (the article was removed): the kind records it, nothing is posted.
- recovered (an earlier claim timed out, or a post may have gone out): the row is first looked for
  in the channel's history. Found: recorded. Slack does not answer: retried later, never posted
  blindly. Slack refuses to show the history (a missing scope, say): posted again, since a rare
  duplicate is better than news nobody hears about.
- a posting slot, for the kinds that take one when posting (bot/stores/channels.py): none free, the
  row is given back until the next one, which is no failed attempt.
- post (or edit), then record it.
- refused: Slack's refusal is read once (bot/posting/refusals.py); for good, the row fails with one
  log line; for a while (429, 5xx, the network), it is retried after the Retry-After or a backoff.
  A call that may have been carried out (a timeout, a cut connection) is retried as unsure, so it
  is looked for in the history first. Kinds that count attempts give up after the backoff's
  `max_attempts`.

What differs between kinds is in their `PostKind`: how the next row is claimed, gone, built, posted,
found in the history, recorded; which refusals are for good; what a refusal does to the channel.
Each kind is also the one place its rows' store calls are made (claim, finish, retry, fail).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Generic, TypeVar

from slack_sdk.errors import SlackApiError

from bot.posting.refusals import DEFAULT_BACKOFF, Backoff, Refusal, describe, read_refusal
from bot.posting.worker import Worker
from handlers.replies import DELIVERY_ERRORS

C = TypeVar("C")  # a kind's claim

# Slack allows about one message a second per channel.
PACE_SECONDS = 1.0


class PostKind(Generic[C]):
    """One kind of post in the outbox; `C` is its claim (a row taken with a lease).

    A kind that counts attempts returns them from `attempts`; the others (edits, digests) are
    retried for as long as it takes, after `Backoff.delay(1)`.
    """

    log: logging.Logger
    activity = "Posting"  # in log lines: "Posting X failed (...); retrying in 4 s"
    rate_limit_is_attempt = True  # False: a 429 waits its Retry-After without counting an attempt

    def claim(self) -> C | None:
        raise NotImplementedError

    def what(self, claim: C) -> str:
        """The row in log lines."""
        raise NotImplementedError

    def gone(self, claim: C) -> bool:
        """True (recorded) when there is nothing to post any more."""
        return False

    def recovered(self, claim: C) -> bool:
        """Whether the row may have been posted already (an earlier claim ran out, or was unsure);
        edits are made again safely, so their claims have no `recovered`."""
        return getattr(claim, "recovered", False)

    def find(self, claim: C) -> str | None:
        """The ts of the post in the channel's history, or None; raises the client's errors."""
        return None

    def message(self, claim: C) -> dict | None:
        """The message to post; None (recorded) when there is nothing to say."""
        raise NotImplementedError

    def take_slot(self, claim: C) -> bool:
        return True

    def send(self, claim: C, message: dict) -> str:
        """Post (or edit): the message's ts."""
        raise NotImplementedError

    def finish(self, claim: C, ts: str) -> None:
        raise NotImplementedError

    def for_good(self, refusal: Refusal) -> bool:
        return refusal.permanent

    def refused(self, claim: C, refusal: Refusal) -> None:
        """What a refusal does besides failing or retrying the row (pause the channel, hold its slots)."""

    def attempts(self, claim: C) -> int | None:
        return None

    def fail(self, claim: C, reason: str) -> None:
        raise NotImplementedError

    def retry(self, claim: C, reason: str, delay: float, *, unsure: bool, throttled: bool) -> None:
        raise NotImplementedError


class Outbox(Worker):
    """Posts the rows of `kinds`, one of each per round; `wake()` when one may be waiting."""

    def __init__(
        self,
        thread_name: str,
        activity: str,
        kinds: Sequence[PostKind],
        *,
        poll_seconds: float = 1.0,
        pace_seconds: float = PACE_SECONDS,
        backoff: Backoff = DEFAULT_BACKOFF,
    ) -> None:
        """`pace_seconds`: how long a row that found no posting slot waits."""
        super().__init__(thread_name, activity, poll_seconds)
        self.kinds = list(kinds)
        self.pace_seconds = pace_seconds
        self.backoff = backoff

    def run_once(self) -> bool:
        """Claim and post one row of each kind; False when there was none."""
        return any([self.deliver_next(kind) for kind in self.kinds])

    def deliver_next(self, kind: PostKind[C]) -> bool:
        claim = kind.claim()
        if claim is None:
            return False
        self.deliver(kind, claim)
        return True

    def deliver(self, kind: PostKind[C], claim: C) -> None:
        """The cycle (see the module's docstring) for one claimed row."""
        if kind.gone(claim):
            return
        if kind.recovered(claim) and self._found(kind, claim):
            return
        message = kind.message(claim)
        if message is None:
            return
        if not kind.take_slot(claim):
            kind.retry(claim, "waiting for a posting slot", self.pace_seconds, unsure=False, throttled=True)
            return
        try:
            ts = kind.send(claim, message)
        except DELIVERY_ERRORS as error:
            self._refused(kind, claim, read_refusal(error))
            return
        kind.finish(claim, ts)

    def _found(self, kind: PostKind[C], claim: C) -> bool:
        """After a crash or an unsure post: True when the post is in the channel (then recorded), or
        when Slack did not answer (the row is given back, to look again later); False to post it."""
        try:
            ts = kind.find(claim)
        except SlackApiError as error:
            kind.log.warning(
                "Slack refuses to show the history (%s); posting %s again",
                read_refusal(error).reason,
                kind.what(claim),
            )
            return False
        except DELIVERY_ERRORS as error:
            self._retry(kind, claim, f"history unreadable: {describe(error)}", unsure=True)
            return True
        if ts is None:
            return False
        kind.log.info("%s was posted already (found in the history)", kind.what(claim))
        kind.finish(claim, ts)
        return True

    def _refused(self, kind: PostKind[C], claim: C, refusal: Refusal) -> None:
        kind.refused(claim, refusal)
        if kind.for_good(refusal):
            kind.fail(claim, refusal.code)
            kind.log.error("Slack refused %s: %s", kind.what(claim), refusal.reason)
            return
        self._retry(kind, claim, refusal.reason, refusal.retry_after, unsure=refusal.unsure)

    def _retry(
        self,
        kind: PostKind[C],
        claim: C,
        reason: str,
        retry_after: float | None = None,
        *,
        unsure: bool = False,
    ) -> None:
        attempts = kind.attempts(claim)
        throttled = attempts is not None and retry_after is not None and not kind.rate_limit_is_attempt
        if attempts is not None and not throttled and attempts + 1 >= self.backoff.max_attempts:
            kind.fail(claim, reason)
            kind.log.error("Gave up on %s after %d attempts: %s", kind.what(claim), attempts + 1, reason)
            return
        delay = self.backoff.delay(1 if attempts is None else attempts, retry_after)
        kind.retry(claim, reason, delay, unsure=unsure, throttled=throttled)
        kind.log.warning(
            "%s %s failed (%s); retrying in %.0f s", kind.activity, kind.what(claim), reason, delay
        )
