"""Settings: defaults, validation with a message naming the setting, and `.env` files."""

import pytest

from bot.settings import Settings, SettingsError, load_settings

ENV_NAMES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "PORT",
    "ARTICLES_DIR",
    "DATABASE_URL",
    "NOTIFY_CHANNEL",
    "SLASH_COMMAND",
    "MIN_QUERY_COVERAGE",
)


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No Slack variables in the environment, and a working directory without a `.env`."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def test_defaults(clean_env):
    settings = load_settings(require_slack=False)
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.port == 3000
    assert settings.articles_dir == "seeds"
    assert settings.database_url == "sqlite:///data/bot.db"
    assert settings.slash_command == "/mistral"
    assert settings.notify_channel is None
    assert not settings.socket_mode


def test_reads_the_environment(clean_env):
    clean_env.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    clean_env.setenv("SLACK_SIGNING_SECRET", "secret")
    clean_env.setenv("PORT", "8080")
    clean_env.setenv("SLASH_COMMAND", "/news")
    settings = load_settings()
    assert (settings.slack_bot_token, settings.port, settings.slash_command) == ("xoxb-1", 8080, "/news")


def test_reads_a_dot_env_file(clean_env, tmp_path):
    (tmp_path / ".env").write_text("SLACK_BOT_TOKEN=xoxb-from-file\nSLACK_APP_TOKEN=xapp-1\n")
    settings = load_settings()
    assert settings.slack_bot_token == "xoxb-from-file"
    assert settings.socket_mode


def test_api_url_gets_its_trailing_slash():
    assert Settings(_env_file=None, slack_api_url="http://127.0.0.1:9/api").slack_api_url == (
        "http://127.0.0.1:9/api/"
    )


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"slack_api_url": "ftp://slack.com/api/"}, "SLACK_API_URL"),
        ({"slack_app_token": "xoxb-not-an-app-token"}, "SLACK_APP_TOKEN"),
        ({"slack_bot_token": "xapp-wrong"}, "SLACK_BOT_TOKEN"),
        ({"port": "eighty"}, "PORT"),
        ({"port": 70000}, "PORT"),
        ({"slash_command": "mistral"}, "SLASH_COMMAND"),
        ({"min_query_coverage": 1.5}, "MIN_QUERY_COVERAGE"),
        ({"min_query_coverage": "most"}, "MIN_QUERY_COVERAGE"),
    ],
)
def test_malformed_settings_are_named(clean_env, overrides, named):
    with pytest.raises(SettingsError, match=named) as caught:
        load_settings(require_slack=False, **overrides)
    assert "\n" not in str(caught.value)


def test_missing_bot_token_is_named(clean_env):
    with pytest.raises(SettingsError, match="SLACK_BOT_TOKEN"):
        load_settings()


def test_http_mode_needs_the_signing_secret(clean_env):
    with pytest.raises(SettingsError, match="SLACK_SIGNING_SECRET"):
        load_settings(slack_bot_token="xoxb-1")


def test_socket_mode_needs_no_signing_secret(clean_env):
    settings = load_settings(slack_bot_token="xoxb-1", slack_app_token="xapp-1")
    assert settings.socket_mode


def test_blank_optional_settings_are_unset(clean_env):
    clean_env.setenv("SLACK_APP_TOKEN", "")
    clean_env.setenv("NOTIFY_CHANNEL", " ")
    settings = load_settings(require_slack=False)
    assert settings.slack_app_token is None and settings.notify_channel is None


def test_the_nothing_found_threshold_is_a_setting(clean_env):
    assert load_settings(require_slack=False).min_query_coverage == 0.4
    clean_env.setenv("MIN_QUERY_COVERAGE", "0.6")
    assert load_settings(require_slack=False).min_query_coverage == 0.6
