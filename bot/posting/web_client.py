"""The Web API client every part of the app sends to Slack with: it retries what cannot have been
carried out, and no more."""

from __future__ import annotations

import socket
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

MAX_RETRIES = 2
TIMEOUT_SECONDS = 10


class UnsentRequestRetryHandler(ConnectionErrorRetryHandler):
    """Retries a call only when it cannot have reached Slack: the connection was refused or the name
    did not resolve.

    A call that timed out or was cut mid-way may have been carried out (a slow Slack still posts):
    sending it again blindly would post the same message twice, so that error goes to the caller.
    """

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:
        if not isinstance(error, URLError) or response is not None:
            return False
        return isinstance(error.reason, ConnectionRefusedError | socket.gaierror)


def build_web_client(
    token: str, base_url: str, *, max_retries: int = MAX_RETRIES, timeout: float = TIMEOUT_SECONDS
) -> WebClient:
    """A WebClient on `base_url` that retries rate limits (after Retry-After), 5xx and refused connections."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[
            UnsentRequestRetryHandler(max_retry_count=max_retries),
            RateLimitErrorRetryHandler(max_retry_count=max_retries),
            ServerErrorRetryHandler(max_retry_count=max_retries),
        ],
    )
