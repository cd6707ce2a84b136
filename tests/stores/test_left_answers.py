"""End to end: questions acknowledged by a replica that died before answering are answered once, by
another replica's worker, from the answer queue (SQLite and PostgreSQL).

The dead replica is played by the queue itself: it holds the questions as that replica's listener
recorded them from Slack's signed requests (claimed, lease run out), and a served app starts on it.
"""

from __future__ import annotations

import dataclasses
import json
import time

import pytest
from slack_bolt import BoltRequest

from bot.stores.articles import open_store
from handlers.questions import command_question, mention_question
from tests.fakes.signing import JSON, event_body, mention_event, signed_headers, slash_command_body
from tests.polling import wait_until
from tests.served import SIGNING_SECRET, served_app

POLLS = 2.5  # a little more than two polls of the worker


@pytest.fixture(params=("sqlite", "postgresql"))
def database(request, tmp_path) -> str:
    if request.param == "postgresql":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path / 'store.db'}"


def signed(body: str, content_type: str | None = None) -> BoltRequest:
    headers = signed_headers(SIGNING_SECRET, body, **({"content_type": content_type} if content_type else {}))
    return BoltRequest(body=body, headers=headers)


def left_by_a_dead_replica(database: str, *questions) -> None:
    store = open_store(database)
    try:
        for question in questions:
            assert store.answers.record(question, "dead-replica", lease_seconds=0.0)
    finally:
        store.close()


def test_questions_a_dead_replica_acknowledged_are_answered_once_by_another(
    fake_slack, articles_dir, database
):
    command = signed(slash_command_body("Microsoft partnership", fake_slack.response_url("left")))
    left_command = command_question(command.body, command)
    expired = dataclasses.replace(
        command_question(command.body, command), id="expired", asked_at=time.time() - 31 * 60
    )
    thread = "1700000000.000100"
    mention = signed(event_body(mention_event("<@U0FAKEBOT1> Microsoft partnership", thread_ts=thread)), JSON)
    left_mention = mention_question(mention.body, "Microsoft partnership")
    left_by_a_dead_replica(database, left_command, expired, left_mention)

    with served_app(fake_slack, articles_dir, database) as app:
        answers = app.app.news.store.answers
        [answer] = fake_slack.wait_for("response_url")
        assert answer["response_type"] == "ephemeral"
        assert "Microsoft" in json.dumps(answer["blocks"])
        assert [c["path"] for c in fake_slack.calls if c["method"] == "response_url"] == ["/response/left"]
        wait_until(lambda: fake_slack.calls_to("chat.postMessage"))
        time.sleep(POLLS)
        assert len(fake_slack.calls_to("response_url")) == 1  # once, and not for the expired one
        [reply] = fake_slack.calls_to("chat.postMessage")
        assert reply["thread_ts"] == thread and reply["channel"] == left_mention.channel
        states = {q.id: answers.state(q.id) for q in (left_command, expired, left_mention)}
        assert states == {left_command.id: "done", "expired": "dropped", left_mention.id: "done"}


def test_a_live_replica_records_its_question_before_the_ack_and_settles_it(
    fake_slack, articles_dir, database
):
    body = slash_command_body("Microsoft partnership", fake_slack.response_url("live"))
    question = command_question(signed(body).body, signed(body))
    with served_app(fake_slack, articles_dir, database) as app:
        answers = app.app.news.store.answers
        status, _ = app.post(body)
        assert status == 200
        assert answers.state(question.id) in ("answering", "posting", "done")  # recorded before the ack
        fake_slack.wait_for("response_url")
        wait_until(lambda: answers.state(question.id) == "done")
        time.sleep(POLLS)
        assert len(fake_slack.calls_to("response_url")) == 1
