"""How the posting workers read Slack's refusals: what is for good, how long to wait, a one-line reason."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.errors import SlackApiError

PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "no_permission",
        "missing_scope",
        "invalid_blocks",
        "msg_too_long",
        "restricted_action",
    }
)
# Slack's answers when the bot can no longer post in a channel: its watches and digests are paused.
CHANNEL_GONE = frozenset({"channel_not_found", "not_in_channel", "is_archived"})


@dataclass(frozen=True)
class Backoff:
    base_seconds: float = 2.0
    max_seconds: float = 600.0
    max_attempts: int = 8

    def delay(self, attempts: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return retry_after
        return min(self.base_seconds * 2**attempts, self.max_seconds)


DEFAULT_BACKOFF = Backoff()


@dataclass(frozen=True)
class Refusal:
    """A failed Web API call as read once: Slack's error code ('' when Slack did not answer), a
    one-line reason, whether it is for good, Slack's Retry-After (a 429), and whether the call may
    have been carried out all the same (a timeout or a cut connection)."""

    code: str
    reason: str
    permanent: bool = False
    retry_after: float | None = None
    unsure: bool = False

    @property
    def channel_gone(self) -> bool:
        return self.code in CHANNEL_GONE


def read_refusal(error: Exception) -> Refusal:
    """What `error` says (one of handlers.replies.DELIVERY_ERRORS: Slack's refusal, or the network's)."""
    if not isinstance(error, SlackApiError):
        return Refusal("", describe(error), unsure=True)
    response = error.response
    code = str(response.get("error", "")) if response is not None else ""
    retry_after = None
    if response is not None and response.status_code == 429:
        retry_after = float(response.headers.get("retry-after", response.headers.get("Retry-After", 1)))
    return Refusal(code, code or str(error), code in PERMANENT_ERRORS, retry_after)


def describe(error: Exception) -> str:
    """A one-line reason for a failed call, e.g. `URLError: timed out`."""
    reason = getattr(error, "reason", None) or error
    return f"{type(error).__name__}: {reason}"
