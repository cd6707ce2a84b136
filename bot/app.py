"""The Bolt app factory: the one place that wires the Slack handlers to the search index."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App
from slack_sdk import WebClient

from bot.settings import Settings
from handlers import actions, commands, mentions
from handlers.slack_client import build_web_client
from search import SearchIndex

LISTENER_THREADS = 32


def create_app(settings: Settings, index: SearchIndex, *, client: WebClient | None = None) -> App:
    """A Bolt app answering from `index`; Web API calls go to `settings.slack_api_url` (or `client`).

    The client carries the token, which is not checked at start (no auth.test then): the app starts
    without reaching Slack.
    Listeners run on their own pool: requests are acknowledged as soon as the listener calls ack().
    """
    client = client or build_web_client(settings.slack_bot_token, settings.slack_api_url)
    app = App(
        signing_secret=settings.slack_signing_secret,
        client=client,
        token_verification_enabled=False,
        request_verification_enabled=not settings.socket_mode,
        listener_executor=ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="listener"),
    )
    commands.register(app, index, command=settings.slash_command)
    mentions.register(app, index, command=settings.slash_command)
    actions.register(app, index)
    return app
