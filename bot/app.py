"""The app factory: the one place that wires real parts (store, index, watcher, notifier, Slack handlers)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from slack_bolt import App
from slack_sdk import WebClient

from bot.notifier import NewsFeed, start_news_feed
from bot.settings import Settings, SettingsError
from handlers import actions, commands, mentions
from handlers.slack_client import build_web_client
from search import SearchIndex

LISTENER_THREADS = 32


def create_app(
    settings: Settings,
    index: SearchIndex,
    *,
    client: WebClient | None = None,
    sources: commands.NewsSources | None = None,
) -> App:
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
    commands.register(app, index, command=settings.slash_command, sources=sources)
    mentions.register(app, index, command=settings.slash_command)
    actions.register(app, index)
    return app


@dataclass
class RunningApp:
    """The Bolt app and the news feed (store, index, watcher, notifier) it answers from."""

    bolt: App
    feed: NewsFeed

    @property
    def index(self) -> SearchIndex:
        return self.feed.index

    def health(self) -> dict:
        """The news sources' part of /healthz: feeds, and those that keep failing."""
        return self.feed.poller.health() if self.feed.poller is not None else {}

    def stop(self) -> None:
        self.feed.stop()


def start_app(settings: Settings, *, client: WebClient | None = None) -> RunningApp:
    """Open the store, rebuild the index, catch up with the articles folder, start watching and
    announcing, and create the Bolt app on that index. SettingsError for a bad folder or store URL."""
    if not Path(settings.articles_dir).is_dir():
        raise SettingsError(
            f"ARTICLES_DIR {settings.articles_dir!r} is not a folder: set it to the articles folder."
        )
    client = client or build_web_client(settings.slack_bot_token, settings.slack_api_url)
    try:
        feed = start_news_feed(settings, client)
    except ValueError as error:
        raise SettingsError(str(error)) from None
    return RunningApp(create_app(settings, feed.index, client=client, sources=feed.sources), feed)
