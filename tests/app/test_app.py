"""End to end: the real Bolt app under waitress on loopback, Slack replaced by the FakeSlack stand-in.

Requests are posted as Slack posts them (signed form or JSON bodies); what the app sends back to Slack
is read from FakeSlack's record.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from bot.server.http import create_http_server, serve, stop_http_server
from bot.settings import Settings
from handlers.blocks.common import MORE_ACTION, SHARE_ACTION, button_value
from tests.fakes.signing import (
    CHANNEL_ID,
    DM_CHANNEL_ID,
    JSON,
    USER_ID,
    direct_message_event,
    mention_event,
    signed_headers,
    slash_command_body,
    url_verification_body,
)
from tests.fakes.slack_api import BOT_ID, BOT_USER_ID
from tests.handlers.block_checks import assert_no_broadcast, assert_valid_message
from tests.served import SIGNING_SECRET, RunningApp, free_port, http, served_app


@pytest.fixture
def serve_app(fake_slack, tmp_path):
    """Serve the whole app (store, index, watcher, Slack handlers) for an articles folder."""
    stores = itertools.count()
    with ExitStack() as stack:

        def start(articles: Path) -> RunningApp:
            database = tmp_path / f"store{next(stores)}.db"
            return stack.enter_context(served_app(fake_slack, articles, f"sqlite:///{database}"))

        yield start
    everything_is_valid(RunningApp(fake_slack, ""))


@pytest.fixture
def app(serve_app, articles_dir) -> RunningApp:
    return serve_app(articles_dir)


def section_texts(message: dict) -> list[str]:
    return [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]


def buttons(message: dict) -> dict[str, dict]:
    """The answer's own buttons (the feedback block aside)."""
    actions = [b for b in message["blocks"] if b["type"] == "actions" and b.get("block_id") != "feedback"]
    return {e["action_id"]: e for b in actions for e in b["elements"]}


def everything_is_valid(app: RunningApp) -> None:
    for sent in app.everything_sent():
        if sent.get("delete_original"):
            continue
        assert_valid_message(sent)
        assert "link_names" not in sent


# -- HTTP surface -----------------------------------------------------------------------------------------


def test_health_check_reports_the_index_counts(app):
    status, body = http("GET", f"{app.base_url}/healthz")
    assert status == 200
    health = json.loads(body)
    assert health["status"] == "ok"
    assert health["articles"] == 5 and health["passages"] > 5


def test_a_stopped_server_ends_its_loop_thread(index):
    server = create_http_server(lambda environ, start: [], host="127.0.0.1", port=0, threads=2)
    loop = threading.Thread(target=server.run, daemon=True)
    loop.start()
    stop_http_server(server)
    loop.join(timeout=10)
    assert not loop.is_alive()


def test_unknown_path_is_not_found(app):
    assert http("GET", f"{app.base_url}/nope")[0] == 404


def test_url_verification_echoes_the_challenge(app):
    status, body = app.post(
        url_verification_body("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"), content_type=JSON
    )
    assert status == 200
    assert "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in body


def test_a_bad_signature_is_refused(app):
    body = slash_command_body("valuation", app.slack.response_url())
    headers = signed_headers("not-the-secret", body)
    assert http("POST", f"{app.base_url}/slack/events", body.encode(), headers)[0] == 401
    assert app.slack.calls_to("response_url") == []


def test_a_stale_timestamp_is_refused(app):
    body = slash_command_body("valuation", app.slack.response_url())
    assert app.post(body, timestamp=int(time.time()) - 6 * 60)[0] == 401


# -- slash command ----------------------------------------------------------------------------------------


def test_slash_command_answers_privately_with_cited_bold_snippets(app):
    answer = app.command("Microsoft")
    assert answer["response_type"] == "ephemeral"
    assert_valid_message(answer)
    assert "Microsoft" in answer["blocks"][0]["text"]["text"]
    snippets = section_texts(answer)
    assert [s.split(" ", 1)[0] for s in snippets] == ["*1.*", "*2.*", "*3.*"]
    assert all("*Microsoft*" in s for s in snippets)
    citations = [b["elements"][0]["text"] for b in answer["blocks"] if b["type"] == "context"]
    assert citations[0].startswith("[1] ") and citations[0].endswith(".txt")
    assert set(buttons(answer)) == {SHARE_ACTION, MORE_ACTION}
    assert "Microsoft" in answer["text"]


@pytest.mark.parametrize("text", ["", "help", "  HELP "])
def test_help_and_empty_command_explain_usage(app, text):
    answer = app.command(text)
    assert_valid_message(answer)
    assert "`/mistral valuation`" in answer["blocks"][0]["text"]["text"]


def test_nothing_found_says_so_and_suggests(app):
    answer = app.command("zzyzx quux")
    assert "Nothing found" in answer["text"]
    assert "Try other words" in answer["text"]
    assert buttons(answer) == {}


def test_a_query_of_4000_characters_gets_a_clear_message(app):
    answer = app.command("mistral " * 500)
    assert_valid_message(answer)
    assert "the limit is 500" in answer["text"]


def test_markup_in_a_query_is_escaped_in_everything_sent(app):
    answer = app.command("Microsoft <!channel> <@U123ABC> <https://evil.example|click>")
    app.press(SHARE_ACTION, buttons(answer)[SHARE_ACTION]["value"])
    app.slack.wait_for("chat.postMessage")
    assert "&lt;!channel&gt;" in answer["blocks"][0]["text"]["text"]
    sent = app.everything_sent()
    assert_no_broadcast(sent)
    assert "<@U123ABC>" not in json.dumps(sent)
    assert "<https://evil" not in json.dumps(sent)
    everything_is_valid(app)


# -- buttons ----------------------------------------------------------------------------------------------


def test_share_posts_the_answer_in_the_channel_saying_who_shared_it(app):
    answer = app.command("Microsoft")
    assert app.press(SHARE_ACTION, buttons(answer)[SHARE_ACTION]["value"]) == 200
    [shared] = app.slack.wait_for("chat.postMessage")
    assert shared["channel"] == CHANNEL_ID
    assert f"Shared by <@{USER_ID}>" in json.dumps(shared["blocks"])
    assert section_texts(shared) == section_texts(answer)
    assert SHARE_ACTION not in buttons(shared)
    assert "link_names" not in shared
    assert app.slack.wait_for("response_url", 2)[-1]["delete_original"] is True
    everything_is_valid(app)


def test_more_results_shows_the_next_ones_in_place_of_the_private_answer(app):
    answer = app.command("Microsoft")
    app.press(MORE_ACTION, buttons(answer)[MORE_ACTION]["value"])
    more = app.slack.wait_for("response_url", 2)[-1]
    assert [s.split(" ", 1)[0] for s in section_texts(more)] == ["*4.*", "*5.*", "*6.*"]
    assert more["replace_original"] is True
    assert not set(section_texts(more)) & set(section_texts(answer))
    everything_is_valid(app)


def test_more_results_says_when_there_are_no_more(app):
    app.press(MORE_ACTION, button_value("valuation", 27))
    [reply] = app.slack.wait_for("response_url")
    assert "no more results" in reply["text"]


def test_more_results_under_a_public_answer_comes_as_a_new_private_message(app):
    app.press(MORE_ACTION, button_value("Microsoft", 3), is_ephemeral=False)
    [reply] = app.slack.wait_for("response_url")
    assert reply["response_type"] == "ephemeral" and reply["replace_original"] is False


# -- mentions and direct messages -------------------------------------------------------------------------


def test_mention_is_answered_in_a_thread_of_the_message(app):
    event = mention_event(f"<@{BOT_USER_ID}> who is Arthur Mensch?")
    assert app.event(event) == 200
    [reply] = app.slack.wait_for("chat.postMessage")
    assert reply["channel"] == CHANNEL_ID
    assert reply["thread_ts"] == event["ts"]
    assert BOT_USER_ID not in json.dumps(reply)
    assert "who is Arthur Mensch?" in reply["blocks"][0]["text"]["text"]
    assert "*Arthur Mensch*" in json.dumps(reply["blocks"])
    assert SHARE_ACTION not in buttons(reply)
    everything_is_valid(app)


def test_follow_up_mention_in_a_thread_is_answered_in_that_thread(app):
    event = mention_event(f"<@{BOT_USER_ID}> and Microsoft?", thread_ts="1700000000.000100")
    app.event(event)
    [reply] = app.slack.wait_for("chat.postMessage")
    assert reply["thread_ts"] == "1700000000.000100"


def test_mention_without_question_gets_the_usage(app):
    event = mention_event(f"<@{BOT_USER_ID}>")
    app.event(event)
    [reply] = app.slack.wait_for("chat.postMessage")
    assert "Ask me about Mistral AI news" in reply["text"]
    assert reply["thread_ts"] == event["ts"]


def test_direct_message_is_answered_in_the_conversation(app):
    app.event(direct_message_event("Microsoft partnership"))
    [reply] = app.slack.wait_for("chat.postMessage")
    assert reply["channel"] == DM_CHANNEL_ID
    assert "thread_ts" not in reply
    assert "*Microsoft*" in json.dumps(reply["blocks"])
    everything_is_valid(app)


def test_bot_messages_and_edits_in_direct_messages_are_ignored(app):
    app.event(direct_message_event("from a bot", bot_id=BOT_ID))
    app.event(direct_message_event("edited", subtype="message_changed"))
    app.event(direct_message_event("own message", user=BOT_USER_ID))
    app.event(direct_message_event("Microsoft"))
    [reply] = app.slack.wait_for("chat.postMessage")
    assert reply["channel"] == DM_CHANNEL_ID and "Microsoft" in reply["text"]
    assert len(app.slack.calls_to("chat.postMessage")) == 1


def test_a_retried_event_gets_no_second_reply(app):
    first = mention_event(f"<@{BOT_USER_ID}> Microsoft")
    assert app.event(first, event_id="Ev0RETRY01") == 200
    assert app.event(first, event_id="Ev0RETRY01", retry_num=1) == 200
    assert app.event(first, event_id="Ev0RETRY01", retry_num=2) == 200
    never_seen = mention_event(f"<@{BOT_USER_ID}> valuation")
    app.event(never_seen, event_id="Ev0RETRY02", retry_num=1)
    replies = app.slack.wait_for("chat.postMessage", 2)
    assert sorted(r["thread_ts"] for r in replies) == sorted([first["ts"], never_seen["ts"]])


# -- articles with Slack markup ---------------------------------------------------------------------------


def test_slack_markup_in_an_article_is_escaped(serve_app, tmp_path):
    folder = tmp_path / "evil"
    folder.mkdir()
    (folder / "evil.txt").write_text(
        " date 2024-03-01 <!channel> Mistral <@U0BOSS> news\n\n"
        "<!here> The Zorblax model by Mistral is out: <https://evil.example|read the Zorblax docs> "
        "& <!everyone> should *try it <@U0BOSS> now.\n\n"
        "Another paragraph about Zorblax for <!subteam^S123> and friends, released by Mistral AI today.\n",
        encoding="utf-8",
    )
    app = serve_app(folder)
    answer = app.command("Zorblax")
    app.press(SHARE_ACTION, buttons(answer)[SHARE_ACTION]["value"])
    app.event(mention_event(f"<@{BOT_USER_ID}> Zorblax"))
    app.slack.wait_for("chat.postMessage", 2)
    assert "&lt;!here&gt;" in json.dumps(answer["blocks"])
    sent = json.dumps(app.everything_sent())
    assert_no_broadcast(app.everything_sent())
    assert "<@U0BOSS>" not in sent and "<https://evil" not in sent
    everything_is_valid(app)


# -- Slack failures ---------------------------------------------------------------------------------------


def test_a_rate_limited_post_is_retried_and_delivered_once(app):
    app.slack.fail_next("chat.postMessage", status=429, retry_after=0)
    event = mention_event(f"<@{BOT_USER_ID}> Microsoft")
    app.event(event)
    posts = app.slack.wait_for("chat.postMessage", 2)
    assert [call["status"] for call in app.slack.calls if call["method"] == "chat.postMessage"] == [429, 200]
    assert posts[0] == posts[1]
    assert app.slack.calls_to("chat.postEphemeral") == []


def test_an_answer_that_cannot_be_delivered_gets_an_apology_and_a_log(app, caplog):
    caplog.set_level(logging.WARNING)
    app.slack.fail_next("chat.postMessage", status=500, error="internal_error", times=3)
    app.event(mention_event(f"<@{BOT_USER_ID}> Microsoft"))
    [apology] = app.slack.wait_for("chat.postEphemeral")
    assert apology["user"] == USER_ID and apology["channel"] == CHANNEL_ID
    assert "Sorry" in apology["text"]
    assert len(app.slack.calls_to("chat.postMessage")) == 3
    assert any("Could not post the answer" in r.getMessage() for r in caplog.records)


def test_a_share_that_slack_refuses_tells_the_user(app):
    app.slack.fail_next("chat.postMessage", status=200, error="channel_not_found")
    app.press(SHARE_ACTION, button_value("Microsoft", 0))
    [reply] = app.slack.wait_for("response_url")
    assert "could not share" in reply["text"]
    assert reply["replace_original"] is False


# -- starting ---------------------------------------------------------------------------------------------


def test_serve_stops_with_one_line_naming_a_missing_setting(capsys, articles_dir):
    with pytest.raises(SystemExit) as stopped:
        serve(
            Settings(
                _env_file=None, slack_bot_token="", slack_signing_secret="s", articles_dir=str(articles_dir)
            )
        )
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert "SLACK_BOT_TOKEN" in error and error.count("\n") == 1 and "Traceback" not in error


def test_serve_stops_when_the_articles_folder_is_missing(capsys, tmp_path):
    settings = Settings(
        _env_file=None,
        slack_bot_token="xoxb-1",
        slack_signing_secret="s",
        articles_dir=str(tmp_path / "nope"),
    )
    with pytest.raises(SystemExit) as stopped:
        serve(settings)
    assert stopped.value.code == 2
    assert "ARTICLES_DIR" in capsys.readouterr().err


def test_python_m_bot_serve_without_a_token_says_so_in_one_line(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("SLACK_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    done = subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "SLACK_BOT_TOKEN" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_python_m_bot_serve_answers_over_http(fake_slack, articles_dir, tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.url,
        "SLASH_COMMAND": "/mistral",
        "PORT": str(port),
        "ARTICLES_DIR": str(articles_dir),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    env.pop("SLACK_APP_TOKEN", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        app = RunningApp(fake_slack, f"http://127.0.0.1:{port}")
        wait_until_serving(f"{app.base_url}/healthz", process)
        answer = app.command("valuation")
        assert_valid_message(answer)
        assert "*valuation*" in json.dumps(answer["blocks"])
    finally:
        process.terminate()
        process.wait(timeout=10)


def wait_until_serving(url: str, process: subprocess.Popen, attempts: int = 400) -> None:
    """Until /healthz says the app is started ("ok"), not just listening ("loading")."""
    for _ in range(attempts):
        if process.poll() is not None:
            pytest.fail(f"the server stopped: {process.stderr.read().decode()}")
        try:
            status, body = http("GET", url)
            if status == 200 and json.loads(body)["status"] == "ok":
                return
        except OSError:
            pass
        time.sleep(0.05)
    pytest.fail("the server did not start")


def test_python_m_bot_serve_with_an_app_token_uses_socket_mode(fake_slack, articles_dir, tmp_path):
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_APP_TOKEN": "xapp-1-A0FAKEAPP1-test",
        "SLACK_API_URL": fake_slack.url,
        "PORT": str(free_port()),
        "ARTICLES_DIR": str(articles_dir),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    env.pop("SLACK_SIGNING_SECRET", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        fake_slack.wait_for("apps.connections.open", timeout=30)
        [opened] = [c for c in fake_slack.calls if c["method"] == "apps.connections.open"][:1]
        assert opened["headers"]["Authorization"] == "Bearer xapp-1-A0FAKEAPP1-test"
        wait_until_serving(f"http://127.0.0.1:{env['PORT']}/healthz", process)
        status, body = http("GET", f"http://127.0.0.1:{env['PORT']}/healthz")
        assert status == 200 and json.loads(body)["articles"] == 5
        unsigned = http("POST", f"http://127.0.0.1:{env['PORT']}/slack/events", b"command=%2Fmistral", {})
        assert unsigned[0] == 404, "Socket Mode serves no Slack requests over HTTP"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_refused_response_url_gets_the_user_an_apology(app):
    app.slack.fail_next("response_url", status=404, error="expired_url")
    status, _ = app.post(slash_command_body("Microsoft", app.slack.response_url()))
    assert status == 200
    [apology] = app.slack.wait_for("chat.postEphemeral")
    assert apology["user"] == USER_ID and apology["channel"] == CHANNEL_ID
    assert "Sorry" in apology["text"]
