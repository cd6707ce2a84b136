"""The App Home tab: published when a user opens it (app_home_opened), and again after a button."""

from __future__ import annotations

import logging

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from handlers.blocks.home import ChannelNews, home_view
from handlers.context import ChannelWatches, Dependencies, dependencies_of

HOME_STORIES = 5
MAX_CHANNELS_READ = 200


def user_channels(client: WebClient, user: str, logger: logging.Logger) -> list[str]:
    """The channels `user` is in (one page, up to MAX_CHANNELS_READ); [] when Slack does not say."""
    try:
        response = client.users_conversations(
            user=user, types="public_channel,private_channel", exclude_archived=True, limit=MAX_CHANNELS_READ
        )
    except (SlackApiError, SlackClientError, OSError) as error:
        logger.warning("Could not list %s's channels for the home tab: %s", user, error)
        return []
    return [c["id"] for c in response.get("channels") or [] if isinstance(c, dict) and c.get("id")]


def channels_news(channels: ChannelWatches, ids: list[str]) -> list[ChannelNews]:
    found = []
    for channel in ids:
        watches = tuple(w.words for w in channels.watches(channel))
        digest = channels.digest_of(channel)
        if watches or digest:
            found.append(ChannelNews(channel, watches, digest, channels.paused_reason(channel)))
    return found


def publish_home(client: WebClient, user: str, dependencies: Dependencies, logger: logging.Logger) -> None:
    channels, sources, command = dependencies.channels, dependencies.sources, dependencies.slash_command
    stories = [article.citation for article in dependencies.index.newest(HOME_STORIES)]
    followed = channels_news(channels, user_channels(client, user, logger)) if channels is not None else []
    feeds = sources.feeds_text(f"{command} feed add URL") if sources is not None else ""
    view = home_view(stories, feeds, followed, command)
    try:
        client.views_publish(user_id=user, view=view)
    except (SlackApiError, SlackClientError, OSError) as error:
        logger.warning("Could not publish %s's home tab: %s", user, error)


def open_home(event: dict, client: WebClient, context: BoltContext, logger: logging.Logger) -> None:
    if event.get("tab") == "home" and event.get("user"):
        publish_home(client, event["user"], dependencies_of(context), logger)


def register(app: App) -> None:
    app.event("app_home_opened")(open_home)
