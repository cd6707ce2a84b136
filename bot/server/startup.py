"""Checking the bot token with Slack at start: refused is fatal, unreachable is retried.

A token Slack refuses (a placeholder, a revoked or mistyped one) stops the start with one line naming
SLACK_BOT_TOKEN; a Slack that cannot be reached (network, 5xx, rate limit) is asked again with an
exponential backoff, one log line per attempt, until it answers or the app is stopped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.server.health import HealthRegistry, PartHealth
from bot.settings import SettingsError

log = logging.getLogger(__name__)
T = TypeVar("T")

REFUSED_TOKEN_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "not_allowed_token_type",
        "org_login_required",
        "ekm_access_denied",
    }
)


@dataclass(frozen=True)
class Backoff:
    first_seconds: float = 1.0
    max_seconds: float = 30.0

    def delay(self, attempt: int) -> float:
        return min(self.first_seconds * 2 ** (attempt - 1), self.max_seconds)


class Stopped(Exception):
    """The app was asked to stop while it was still starting."""


def check_token(
    client: WebClient,
    health: HealthRegistry,
    *,
    stop: threading.Event | None = None,
    backoff: Backoff = Backoff(),
) -> dict:
    """Slack's `auth.test` answer for the client's token (team, bot user id...).

    SettingsError when Slack refuses the token; Stopped when `stop` is set while retrying.
    """

    def refused(code: str) -> SettingsError:
        health.report("slack", "broken", f"Slack refused the bot token ({code})", logged=True)
        return SettingsError(
            f"SLACK_BOT_TOKEN is refused by Slack ({code}): copy the Bot User OAuth Token "
            "(xoxb-...) from the app's OAuth & Permissions page."
        )

    def waiting(attempt: int, reason: str, delay: float) -> None:
        health.report("slack", "broken", f"cannot reach Slack at {client.base_url}: {reason}", logged=True)
        log.warning(
            "Cannot reach Slack at %s to check the token (attempt %d: %s); trying again in %.0f s",
            client.base_url,
            attempt,
            reason,
            delay,
        )

    answer = _until_answered(client.auth_test, refused, waiting, stop=stop, backoff=backoff)
    health.report("slack", "ok", team=answer.get("team", ""), bot_user_id=answer.get("user_id", ""))
    log.info(
        "Slack accepted the bot token (team %s, bot user %s)",
        answer.get("team"),
        answer.get("user_id"),
    )
    return dict(answer.data) if isinstance(answer.data, dict) else {}


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return (text.splitlines() or [""])[0][:200]


def connect_socket_mode(
    handler, *, stop: threading.Event | None = None, backoff: Backoff = Backoff()
) -> None:
    """Open the Socket Mode connection (`handler.connect()`), as `check_token` checks the bot token:
    an app token Slack refuses is a SettingsError naming SLACK_APP_TOKEN; Slack unreachable is retried."""

    def refused(code: str) -> SettingsError:
        return SettingsError(
            f"SLACK_APP_TOKEN is refused by Slack ({code}): copy the app-level token (xapp-...) "
            "with the connections:write scope from the app's Basic Information page."
        )

    def waiting(attempt: int, reason: str, delay: float) -> None:
        log.warning(
            "Cannot open the Socket Mode connection (attempt %d: %s); trying again in %.0f s",
            attempt,
            reason,
            delay,
        )

    _until_answered(handler.connect, refused, waiting, stop=stop, backoff=backoff)


def _until_answered(
    call: Callable[[], T],
    refused: Callable[[str], SettingsError],
    waiting: Callable[[int, str, float], None],
    *,
    stop: threading.Event | None,
    backoff: Backoff,
) -> T:
    """`call()`'s result once Slack answers: a token Slack refuses (REFUSED_TOKEN_ERRORS) goes to
    `refused`, whose error is raised; any other failure is retried after the backoff's delay, `waiting` told of
    each; Stopped when `stop` is set meanwhile."""
    stop = stop or threading.Event()
    attempt = 0
    while True:
        attempt += 1
        try:
            return call()
        except SlackApiError as error:
            code = str(error.response.get("error", "")) if error.response is not None else ""
            if code in REFUSED_TOKEN_ERRORS:
                raise refused(code) from None
            reason = f"Slack answered {code or error.response.status_code}"
        except (SlackClientError, OSError) as error:
            reason = f"{type(error).__name__}: {_first_line(error)}"
        delay = backoff.delay(attempt)
        waiting(attempt, reason, delay)
        if stop.wait(delay):
            raise Stopped


def slack_health(client: WebClient) -> PartHealth:
    """Slack's part of /healthz, from one `auth.test`: ok, or broken with why (refused, unreachable)."""
    try:
        answer = client.auth_test()
    except SlackApiError as error:
        code = str(error.response.get("error", "")) if error.response is not None else ""
        if code in REFUSED_TOKEN_ERRORS:
            return PartHealth("broken", f"Slack refuses the bot token ({code}): check SLACK_BOT_TOKEN")
        return PartHealth("broken", f"Slack answered {code or error.response.status_code}")
    except (SlackClientError, OSError) as error:
        return PartHealth("broken", f"cannot reach Slack at {client.base_url}: {type(error).__name__}")
    return PartHealth(
        "ok", details={"team": answer.get("team", ""), "bot_user_id": answer.get("user_id", "")}
    )
