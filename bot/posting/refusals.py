"""How the posting workers read Slack's refusals: what is for good, how long to wait, a one-line reason."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class Backoff:
    base_seconds: float = 2.0
    max_seconds: float = 600.0
    max_attempts: int = 8

    def delay(self, attempts: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return retry_after
        return min(self.base_seconds * 2**attempts, self.max_seconds)


def describe(error: Exception) -> str:
    """A one-line reason for a failed call, e.g. `URLError: timed out`."""
    reason = getattr(error, "reason", None) or error
    return f"{type(error).__name__}: {reason}"


DEFAULT_BACKOFF = Backoff()
