"""The app manifest: both modes validate against Slack's published schema; manifest.yml is current."""

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot.server.manifest import events_url, manifest, manifest_text
from bot.settings import Settings, SettingsError

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "tests/slack/manifest.schema.1.0.0.json").read_text(encoding="utf-8"))


@pytest.fixture
def settings():
    return Settings(_env_file=None, slash_command="/news")


def validate(document: dict) -> None:
    jsonschema.Draft7Validator(SCHEMA).validate(document)


def test_http_manifest_validates_and_sends_everything_to_the_events_url(settings):
    document = yaml.safe_load(manifest_text(settings, "https://bot.example.com/"))
    validate(document)
    url = "https://bot.example.com/slack/events"
    assert document["features"]["slash_commands"][0]["command"] == "/news"
    assert document["features"]["slash_commands"][0]["url"] == url
    assert document["settings"]["event_subscriptions"]["request_url"] == url
    assert document["settings"]["interactivity"] == {"is_enabled": True, "request_url": url}
    assert document["settings"]["socket_mode_enabled"] is False


def test_socket_mode_manifest_validates_without_request_urls(settings):
    document = yaml.safe_load(manifest_text(settings))
    validate(document)
    assert document["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in json.dumps(document)


def test_manifest_asks_for_the_events_and_scopes_the_app_uses(settings):
    document = manifest(settings)
    events = set(document["settings"]["event_subscriptions"]["bot_events"])
    assert events == {"app_home_opened", "app_mention", "message.im"}
    scopes = set(document["oauth_config"]["scopes"]["bot"])
    assert {
        "commands",
        "app_mentions:read",
        "chat:write",
        "im:history",
        "users:read",
        "channels:read",
    } <= scopes
    assert document["features"]["app_home"]["home_tab_enabled"] is True
    assert "watch WORDS" in document["features"]["slash_commands"][0]["usage_hint"]
    assert document["features"]["bot_user"]["display_name"]


def test_schema_catches_a_broken_manifest(settings):
    document = manifest(settings)
    document["settings"]["socket_mode_enabled"] = "yes"
    with pytest.raises(jsonschema.ValidationError):
        validate(document)


def test_a_url_that_is_not_one_is_refused(settings):
    with pytest.raises(ValueError, match="--url"):
        manifest_text(settings, "bot.example.com")


def test_manifest_yml_is_the_generated_socket_mode_manifest():
    assert (ROOT / "manifest.yml").read_text(encoding="utf-8") == manifest_text(
        Settings(_env_file=None, slash_command="/mistral")
    ) + "\n"


def test_python_m_bot_manifest_prints_the_http_manifest(tmp_path):
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "secret",
        "SLASH_COMMAND": "/mistral",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("SLACK_APP_TOKEN", None)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "manifest", "--url", "https://bot.example.com"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    document = yaml.safe_load(done.stdout)
    validate(document)
    assert (
        document["settings"]["event_subscriptions"]["request_url"] == "https://bot.example.com/slack/events"
    )


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("http://bot.example.com", "https://"),
        ("https://bot.example.com/slack/events", "path"),
        ("https://bot.example.com/app", "path"),
        ("https://bot.example.com?x=1", "query"),
        ("https://bot.example.com/#top", "fragment"),
        ("https://user:secret@bot.example.com", "without user"),
        ("https://bot.example.com:port", "not a URL"),
        ("https://", "host"),
    ],
)
def test_only_an_https_origin_is_accepted(settings, url, problem):
    with pytest.raises(SettingsError, match="--url must be the app's public https origin") as raised:
        manifest_text(settings, url)
    assert problem in str(raised.value)


@pytest.mark.parametrize("url", ["https://bot.example.com", "https://bot.example.com/", "https://b.io:8443"])
def test_an_https_origin_gets_the_events_path(settings, url):
    assert events_url(url) == url.rstrip("/") + "/slack/events"
