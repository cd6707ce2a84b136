"""The app's settings: read from the environment and a `.env` file, here and nowhere else."""

from __future__ import annotations

from pydantic import ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from search.index import DEFAULT_MIN_COVERAGE
from search.judgement.subject import DEFAULT_SUBJECT, subject_file

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it and says what to do."""


# The numeric settings' ranges, each with what to say when a value is outside it.
NUMBER_RANGES = {
    "port": (lambda value: 1 <= value <= 65535, "must be a TCP port between 1 and 65535"),
    "min_query_coverage": (
        lambda value: 0.0 <= value <= 1.0,
        "must be a share between 0 (never say nothing found) and 1, e.g. 0.4",
    ),
    "feed_poll_seconds": (
        lambda value: 0 < value <= 7 * 24 * 3600,
        "must be a number of seconds above 0 and at most a week, e.g. 600",
    ),
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: str = ""
    slack_signing_secret: str = ""
    slack_app_token: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    port: int = 3000
    articles_dir: str = "seeds"
    database_url: str = "sqlite:///data/bot.db"
    notify_channel: str | None = None
    slash_command: str = "/mistral"
    log_level: str = "INFO"
    # "Nothing found" below this share of a question's information that the articles know (0 = off).
    min_query_coverage: float = DEFAULT_MIN_COVERAGE
    # Fuse BM25 with multilingual embeddings (needs the `semantic` extra); off: it did not earn it (README).
    semantic_search: bool = False
    feeds: str = ""  # feed URLs to poll, separated by spaces or commas
    feed_poll_seconds: float = 600.0
    fetch_allow_hosts: str = ""  # host or host:port that links given in Slack may reach though not public
    # What the desk follows: a subject with a data file in search/subjects, or a path to such a .json file.
    subject: str = DEFAULT_SUBJECT

    @property
    def feed_urls(self) -> list[str]:
        return [url for url in self.feeds.replace(",", " ").split() if url]

    @property
    def allowed_hosts(self) -> frozenset[str]:
        return frozenset(host.lower() for host in self.fetch_allow_hosts.replace(",", " ").split())

    @property
    def socket_mode(self) -> bool:
        return bool(self.slack_app_token)

    @field_validator("slack_app_token", "notify_channel", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: str) -> str:
        if value and not value.startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp- (it turns on Socket Mode)")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL, e.g. https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @field_validator(*NUMBER_RANGES)
    @classmethod
    def _in_range(cls, value: float, info: ValidationInfo) -> float:
        accepts, message = NUMBER_RANGES[info.field_name]
        if not accepts(value):
            raise ValueError(message)
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return level

    @field_validator("feeds")
    @classmethod
    def _feeds(cls, value: str) -> str:
        for url in value.replace(",", " ").split():
            if not url.startswith(("http://", "https://")):
                raise ValueError(
                    f"must be http:// or https:// feed URLs separated by spaces or commas, not {url!r}"
                )
        return value

    @field_validator("subject")
    @classmethod
    def _subject(cls, value: str) -> str:
        subject_file(value.strip())
        return value.strip()

    @field_validator("slash_command")
    @classmethod
    def _slash_command(cls, value: str) -> str:
        if not value.startswith("/") or len(value) < 2 or any(c.isspace() for c in value):
            raise ValueError("must be a command name starting with /, e.g. /mistral")
        return value


def load_settings(require_slack: bool = True, **overrides: object) -> Settings:
    """The settings from the environment (and `.env`), with `overrides` on top.

    Raises SettingsError naming the first bad setting; with `require_slack`, the Slack credentials
    the chosen mode needs must be there.
    """
    try:
        settings = Settings(**overrides)
    except ValidationError as error:
        raise SettingsError(_describe(error)) from None
    if require_slack:
        check_slack_credentials(settings)
    return settings


def check_slack_credentials(settings: Settings) -> None:
    """SettingsError unless the Slack tokens the chosen mode (HTTP or Socket Mode) needs are set, and
    none is still a placeholder (`.env.example`'s `xoxb-your-bot-token`): such a start would only ask
    Slack again and again."""
    token_help = "copy the Bot User OAuth Token (xoxb-...) of the app."
    if not settings.slack_bot_token:
        raise SettingsError(f"SLACK_BOT_TOKEN is not set: {token_help}")
    if is_placeholder(settings.slack_bot_token):
        raise SettingsError(f"SLACK_BOT_TOKEN is still a placeholder: {token_help}")
    if settings.slack_app_token is not None and is_placeholder(settings.slack_app_token):
        raise SettingsError(
            "SLACK_APP_TOKEN is still a placeholder: copy the app-level token (xapp-...) from the app's "
            "Basic Information page, or leave it empty for HTTP mode."
        )
    if settings.socket_mode:
        return
    secret_help = "copy the app's Signing Secret, or set SLACK_APP_TOKEN (xapp-...) to use Socket Mode."
    if not settings.slack_signing_secret:
        raise SettingsError(f"SLACK_SIGNING_SECRET is not set: {secret_help}")
    if is_placeholder(settings.slack_signing_secret):
        raise SettingsError(f"SLACK_SIGNING_SECRET is still a placeholder: {secret_help}")


_PLACEHOLDER_MARKS = ("your-", "your_", "...", "<", ">", "changeme", "placeholder")


def is_placeholder(value: str) -> bool:
    """A value written to be replaced (`xoxb-your-bot-token`, `xoxb-...`, `<secret>`): Slack's tokens and
    secrets are letters, digits and dashes, never these."""
    lowered = value.lower()
    return any(mark in lowered for mark in _PLACEHOLDER_MARKS)


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    name = str(first["loc"][0]).upper() if first["loc"] else "a setting"
    reason = first["msg"].removeprefix("Value error, ")
    return f"{name} {reason}."
