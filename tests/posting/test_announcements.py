"""End to end: folder -> watcher -> store -> notifier -> Slack (the FakeSlack stand-in), across restarts.

`start_news_desk` is what `serve()` runs next to the Slack app; stopping the desk is a server stop.
Absence of a repeat is shown with a sentinel: a later article's announcement arrives, and the
earlier one has still been posted only once.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.app import start_news_desk
from bot.settings import load_settings
from tests.fakes.slack_api import FakeSlack
from tests.handlers.block_checks import assert_no_broadcast, assert_valid_message
from tests.polling import wait_until

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
CHANNEL = "C0NEWS0001"
NEWS = (
    "date 2024-06-11\nMistral AI raises 600 million euros\n\n"
    "Mistral AI raised 600 million euros on Tuesday from investors led by General Catalyst. "
    "The round values the Paris start-up at about $6 billion, two years after its creation. "
    "The company will spend the money on computing power and on hiring engineers in Europe."
)
LATER = (
    "date 2024-07-18\nMistral AI and Nvidia release Mistral NeMo\n\n"
    "Mistral AI and Nvidia released Mistral NeMo, a 12 billion parameter model, on Thursday. "
    "The model handles a context of 128,000 tokens and is published under the Apache 2.0 licence."
)
WORKER = """
import sys
from slack_sdk import WebClient
from bot.app import start_news_desk
from bot.settings import load_settings

settings = load_settings(require_slack=False)
desk = start_news_desk(settings, WebClient(token="xoxb-test", base_url=settings.slack_api_url), poll_seconds=0.1)
print("ready", flush=True)
sys.stdin.read()
desk.stop()
"""


@pytest.fixture
def slack():
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def folder(tmp_path):
    folder = tmp_path / "articles"
    shutil.copytree(SEEDS, folder)
    return folder


@pytest.fixture
def settings(tmp_path, folder, slack):
    return load_settings(
        require_slack=False,
        slack_bot_token="xoxb-test",
        slack_api_url=slack.url,
        articles_dir=str(folder),
        database_url=f"sqlite:///{tmp_path / 'data' / 'bot.db'}",
        notify_channel=CHANNEL,
    )


class Server:
    """Starts and stops the desk as `serve()` would; always stopped at the end of the test."""

    def __init__(self, settings):
        self.settings = settings
        self.desk = None

    def start(self):
        client = WebClient(token=self.settings.slack_bot_token, base_url=self.settings.slack_api_url)
        self.desk = start_news_desk(self.settings, client, poll_seconds=0.05)
        return self.desk

    def stop(self):
        if self.desk is not None:
            self.desk.stop()
            self.desk = None


@pytest.fixture
def server(settings):
    server = Server(settings)
    yield server
    server.stop()


def posted_titles(slack):
    return [call["blocks"][0]["text"]["text"] for call in slack.calls_to("chat.postMessage")]


def test_first_start_indexes_the_folder_without_announcing_it(server, slack):
    desk = server.start()
    assert desk.index.article_count == 5
    (Path(server.settings.articles_dir) / "new.txt").write_text(NEWS, "utf-8")
    slack.wait_for("chat.postMessage", timeout=20)
    assert posted_titles(slack) == ["Mistral AI raises 600 million euros"]


def test_a_new_file_gives_one_message_with_its_summary(server, slack, folder):
    server.start()
    (folder / "new.txt").write_text(NEWS, "utf-8")
    [call] = slack.wait_for("chat.postMessage", timeout=20)
    assert_valid_message(call)
    assert call["channel"] == CHANNEL
    assert "600 million euros" in call["blocks"][2]["text"]["text"]
    assert "2024-06-11 · English" in call["blocks"][1]["elements"][0]["text"]


def test_a_restart_repeats_nothing_and_a_file_added_while_stopped_is_announced(server, slack, folder):
    server.start()
    (folder / "new.txt").write_text(NEWS, "utf-8")
    slack.wait_for("chat.postMessage", timeout=20)
    server.stop()
    (folder / "later.txt").write_text(LATER, "utf-8")
    desk = server.start()
    slack.wait_for("chat.postMessage", count=2, timeout=20)
    assert posted_titles(slack) == [
        "Mistral AI raises 600 million euros",
        "Mistral AI and Nvidia release Mistral NeMo",
    ]
    assert desk.index.article_count == 7


def test_a_rate_limit_then_success_gives_one_message(server, slack, folder):
    server.start()
    slack.fail_next("chat.postMessage", status=429, retry_after=1)
    (folder / "new.txt").write_text(NEWS, "utf-8")
    slack.wait_for("chat.postMessage", count=2, timeout=10)
    (folder / "later.txt").write_text(LATER, "utf-8")
    slack.wait_for("chat.postMessage", count=3, timeout=20)
    assert posted_titles(slack) == [
        "Mistral AI raises 600 million euros",
        "Mistral AI raises 600 million euros",  # the refused attempt
        "Mistral AI and Nvidia release Mistral NeMo",
    ]
    wait_until(lambda: server.desk.store.counts().get("posted") == 2)


def test_a_changed_file_is_reindexed_but_not_announced_again(server, slack, folder):
    desk = server.start()
    (folder / "new.txt").write_text(NEWS, "utf-8")
    slack.wait_for("chat.postMessage", timeout=20)
    (folder / "new.txt").write_text(NEWS.replace("600 million", "640 million"), "utf-8")
    wait_until(lambda: desk.index.search("640 million", limit=1) != [])
    (folder / "later.txt").write_text(LATER, "utf-8")
    slack.wait_for("chat.postMessage", count=2, timeout=20)
    assert posted_titles(slack) == [
        "Mistral AI raises 600 million euros",
        "Mistral AI and Nvidia release Mistral NeMo",
    ]
    assert [
        hit.passage.text for hit in desk.index.search("600 million", limit=5) if "600" in hit.passage.text
    ] == []


def test_bad_files_post_nothing_and_slack_markup_pings_nobody(tmp_path, server, slack, folder):
    desk = server.start()
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 100)
    (folder / "latin1.txt").write_bytes(b"\xff\xfe\x00\x00" * 10)
    with (folder / "huge.txt").open("wb") as file:
        file.truncate(50 * 1024 * 1024)
    (tmp_path / "outside.txt").write_text(LATER, "utf-8")
    (folder / "link.txt").symlink_to(tmp_path / "outside.txt")
    (folder / ".draft.txt.swp").write_text(LATER, "utf-8")
    hostile = NEWS.replace("Mistral AI raised", "<!channel> <@U123> <http://evil.example|Mistral AI> raised")
    (folder / "markup.txt").write_text(hostile.replace("raises 600", "raises <!here> 600"), "utf-8")
    [call] = slack.wait_for("chat.postMessage", timeout=20)
    assert_valid_message(call)
    assert_no_broadcast(call)
    assert "&lt;!here&gt;" in call["blocks"][0]["text"]["text"]
    assert desk.watcher._thread.is_alive()
    assert desk.index.article_count == 6


def test_two_server_processes_on_one_store_announce_once(settings, slack, folder, tmp_path):
    env = {
        **os.environ,
        "ARTICLES_DIR": str(folder),
        "DATABASE_URL": settings.database_url,
        "NOTIFY_CHANNEL": CHANNEL,
        "SLACK_API_URL": slack.url,
        "SLACK_BOT_TOKEN": "xoxb-test",
    }
    processes = []
    try:
        for _ in range(2):
            process = subprocess.Popen(
                [sys.executable, "-c", WORKER],
                cwd=tmp_path,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            processes.append(process)
            assert process.stdout.readline().strip() == "ready"
        (folder / "new.txt").write_text(NEWS, "utf-8")
        slack.wait_for("chat.postMessage", timeout=10)
        (folder / "later.txt").write_text(LATER, "utf-8")
        slack.wait_for("chat.postMessage", count=2, timeout=10)
    finally:
        for process in processes:
            process.stdin.close()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
    assert sorted(posted_titles(slack)) == [
        "Mistral AI and Nvidia release Mistral NeMo",
        "Mistral AI raises 600 million euros",
    ]
    assert [p.returncode for p in processes] == [0, 0]


def test_a_restart_does_not_read_unchanged_files_again(server, slack, folder):
    """Shown by a file whose text changed but whose size and mtime did not: the stored article stays."""
    server.start()
    server.stop()
    seed = sorted(folder.glob("*.txt"))[0]
    stamp = seed.stat()
    seed.write_bytes(b"Unseen headline\n\nText that a restart must not read.".ljust(stamp.st_size))
    os.utime(seed, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    desk = server.start()
    assert desk.index.search("restart must not read", limit=1) == []
    assert desk.index.article_count == 5


def test_a_file_edited_while_stopped_is_read_at_the_next_start(server, slack, folder):
    server.start()
    server.stop()
    seed = sorted(folder.glob("*.txt"))[0]
    seed.write_text("Edited headline\n\nMistral AI opened an office in Singapore.", "utf-8")
    desk = server.start()
    assert [h.citation.title for h in desk.index.search("Singapore", limit=1)] == ["Edited headline"]
    assert desk.index.article_count == 5
