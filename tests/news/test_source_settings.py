"""FEEDS, FEED_POLL_SECONDS and FETCH_ALLOW_HOSTS: defaults, parsing, clear errors."""

import pytest

from bot.settings import SettingsError, load_settings

NAMES = ("FEEDS", "FEED_POLL_SECONDS", "FETCH_ALLOW_HOSTS")


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def test_defaults(clean_env):
    settings = load_settings(require_slack=False)
    assert (
        settings.feed_urls == []
        and settings.feed_poll_seconds == 600
        and settings.allowed_hosts == frozenset()
    )


def test_feeds_are_separated_by_spaces_or_commas(clean_env):
    clean_env.setenv("FEEDS", "https://a.example/feed.xml, http://b.example/atom  https://c.example/j.json")
    clean_env.setenv("FETCH_ALLOW_HOSTS", "Intranet.local, 10.0.0.5:8080")
    settings = load_settings(require_slack=False)
    assert settings.feed_urls == [
        "https://a.example/feed.xml",
        "http://b.example/atom",
        "https://c.example/j.json",
    ]
    assert settings.allowed_hosts == frozenset({"intranet.local", "10.0.0.5:8080"})


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("FEEDS", "a.example/feed.xml", "FEEDS must be http:// or https:// feed URLs"),
        ("FEED_POLL_SECONDS", "0", "FEED_POLL_SECONDS must be a number of seconds"),
        ("FEED_POLL_SECONDS", "often", "FEED_POLL_SECONDS"),
    ],
)
def test_bad_values_name_the_setting(clean_env, name, value, message):
    clean_env.setenv(name, value)
    with pytest.raises(SettingsError, match=message):
        load_settings(require_slack=False)
