"""The health registry: parts report or are watched; the worst state wins; changes are logged once."""

from __future__ import annotations

import logging

from bot.server.health import HealthRegistry, PartHealth


def test_the_worst_part_gives_the_status():
    health = HealthRegistry()
    assert health.snapshot()["status"] == "loading", "nothing reported yet is not ok"
    health.report("store", "ok", announcements={"posted": 1})
    health.report("slack", "loading", "checking the bot token")
    assert health.snapshot()["status"] == "loading"
    health.report("slack", "broken", "cannot reach Slack")
    snapshot = health.snapshot()
    assert snapshot["status"] == "broken"
    assert snapshot["parts"]["slack"] == {"status": "broken", "reason": "cannot reach Slack"}
    assert snapshot["parts"]["store"] == {"status": "ok", "announcements": {"posted": 1}}


def test_a_watched_part_is_asked_each_time_and_a_failing_check_is_broken():
    health = HealthRegistry()
    count = iter(range(100))
    health.watch("index", lambda: PartHealth("ok", details={"articles": next(count)}))
    assert health.part("index").details["articles"] == 0
    assert health.snapshot()["parts"]["index"]["articles"] == 1
    health.watch("feeds", lambda: 1 / 0)
    feeds = health.part("feeds")
    assert feeds.status == "broken" and "ZeroDivisionError" in feeds.reason


def test_a_change_of_state_is_logged_once(caplog):
    caplog.set_level(logging.INFO)
    health = HealthRegistry()
    for _ in range(3):
        health.report("store", "ok")
    for _ in range(3):
        health.report("store", "broken", "the database file was deleted")
    health.report("store", "ok")
    health.report("slack", "broken", "said by the part itself", logged=True)
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.server.health"]
    assert lines == ["Store is broken: the database file was deleted", "Store works again"]
