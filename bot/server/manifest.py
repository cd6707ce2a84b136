"""The Slack app manifest, from the settings: HTTP mode with request URLs, or Socket Mode."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from bot.settings import Settings, SettingsError

APP_NAME = "Mistral News"
DESCRIPTION = "Answers questions about Mistral AI news, with cited snippets from the articles."
BOT_SCOPES = [
    "app_mentions:read",  # the app_mention event
    "channels:history",  # after a crash: was the announcement already posted (NOTIFY_CHANNEL, watches)?
    "channels:read",  # App Home: the channels a user is in, to show their watches and digests
    "chat:write",  # answers in threads and DMs, shared answers
    "chat:write.public",  # share an answer in a public channel the bot has not joined
    "commands",  # the slash command
    "groups:history",  # the same check in a private channel
    "groups:read",  # App Home: the private channels a user is in
    "im:history",  # the message.im event
    "im:read",
    "im:write",
    "users:read",  # users.info: the timezone a digest is set in
]
EVENTS_PATH = "/slack/events"


def manifest(settings: Settings, url: str | None = None) -> dict:
    """The manifest as a dict: with `url` (https://HOST) for HTTP mode, without for Socket Mode."""
    request_url = events_url(url) if url is not None else None
    command = {
        "command": settings.slash_command,
        "description": "Search Mistral AI news",
        "usage_hint": "valuation lang:fr | latest | watch WORDS | watches | digest daily 08:30 | help",
        "should_escape": False,
    }
    events: dict = {"bot_events": ["app_home_opened", "app_mention", "message.im"]}
    interactivity: dict = {"is_enabled": True}
    if request_url:
        command["url"] = request_url
        events["request_url"] = request_url
        interactivity["request_url"] = request_url
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {"name": APP_NAME, "description": DESCRIPTION, "background_color": "#fa520f"},
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": APP_NAME, "always_online": True},
            "slash_commands": [command],
        },
        "oauth_config": {"scopes": {"bot": BOT_SCOPES}},
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": request_url is None,
            "token_rotation_enabled": False,
        },
    }


def events_url(base_url: str) -> str:
    """Where Slack sends requests under the public https origin `base_url` (`https://HOST[:PORT]`).

    SettingsError for anything else: Slack only calls https URLs, and a path, query or fragment would
    be silently dropped or doubled.
    """
    problem = origin_problem(base_url)
    if problem:
        raise SettingsError(
            f"--url must be the app's public https origin, e.g. https://bot.example.com: {problem} "
            f"(got {base_url!r})"
        )
    return base_url.rstrip("/") + EVENTS_PATH


def origin_problem(url: str) -> str | None:
    """Why `url` is not an https origin, or None when it is one."""
    if not url.strip() or any(c.isspace() for c in url):
        return "it is empty or has spaces"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as error:
        return f"it is not a URL ({error})"
    if parts.scheme != "https":
        return "it must start with https://"
    if not parts.hostname or parts.username or parts.password:
        return "it needs a host name, without user or password"
    if parts.path not in ("", "/") or parts.query or parts.fragment or url.endswith(("?", "#")):
        return f"it must not have a path, query or fragment ({EVENTS_PATH} is added for you)"
    return None


def manifest_text(settings: Settings, url: str | None = None) -> str:
    """The manifest as YAML, ready to paste in https://api.slack.com/apps (Create from manifest)."""
    mode = (
        f"HTTP mode: Slack sends requests to {url}" if url is not None else "Socket Mode: set SLACK_APP_TOKEN"
    )
    return f"# Slack app manifest for {APP_NAME} ({mode})\n" + to_yaml(manifest(settings, url)).rstrip("\n")


def to_yaml(value: object, indent: int = 0) -> str:
    """YAML for the plain data of a manifest; strings are JSON-quoted, which YAML reads as they are."""
    pad = " " * indent
    if isinstance(value, dict):
        lines = []
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                lines.append(f"{pad}{key}:\n{to_yaml(item, indent + 2)}")
            else:
                lines.append(f"{pad}{key}: {_scalar(item)}\n")
        return "".join(lines)
    if isinstance(value, list):
        lines = []
        for item in value:
            if isinstance(item, dict) and item:
                nested = to_yaml(item, indent + 2)
                lines.append(f"{pad}- {nested[indent + 2 :]}")
            else:
                lines.append(f"{pad}- {_scalar(item)}\n")
        return "".join(lines)
    return f"{pad}{_scalar(value)}\n"


def _scalar(value: object) -> str:
    if isinstance(value, dict | list):
        return "{}" if isinstance(value, dict) else "[]"
    return json.dumps(value, ensure_ascii=False)
