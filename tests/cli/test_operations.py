"""Operating the app as a new user would: placeholders, a busy port, the terminal's answers, pipes,
the commands' words and errors, and what a test run says of its skipped tests."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from search import SearchIndex, parse_article
from tests.cli.test_cli import ROOT, SEEDS, run_bot
from tests.server.test_startup import run_serve


def env_example(tmp_path: Path, fake_slack, articles_dir: Path) -> dict:
    """The settings of `.env.example` as a new user copies it, pointed at the Slack stand-in."""
    (tmp_path / ".env").write_text((ROOT / ".env.example").read_text(encoding="utf-8"), encoding="utf-8")
    return {"SLACK_API_URL": fake_slack.url, "ARTICLES_DIR": str(articles_dir)}


def test_the_placeholders_of_env_example_stop_the_start_with_one_line(fake_slack, articles_dir, tmp_path):
    done = run_serve(env_example(tmp_path, fake_slack, articles_dir), tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "Cannot start: SLACK_BOT_TOKEN is still a placeholder: copy the Bot User OAuth Token (xoxb-...) of the app."
    ]
    assert fake_slack.calls_to("auth.test") == [], "a placeholder is not sent to Slack"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SLACK_SIGNING_SECRET", "your-signing-secret"),
        ("SLACK_APP_TOKEN", "xapp-..."),
    ],
)
def test_other_placeholders_are_named(fake_slack, articles_dir, tmp_path, name, value):
    env = {
        "SLACK_BOT_TOKEN": "xoxb-1-real-looking",
        "SLACK_SIGNING_SECRET": "s3cr3t",
        "SLACK_API_URL": fake_slack.url,
        "ARTICLES_DIR": str(articles_dir),
        name: value,
    }
    done = run_serve(env, tmp_path)
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith(f"Cannot start: {name} is still a placeholder")


def test_a_port_in_use_is_one_line_naming_port(fake_slack, articles_dir, tmp_path):
    with socket.socket() as busy:
        busy.bind(("0.0.0.0", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": "s3cr3t",
            "SLACK_API_URL": fake_slack.url,
            "ARTICLES_DIR": str(articles_dir),
            "PORT": str(port),
        }
        done = run_serve(env, tmp_path)
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith(f"Cannot start: PORT {port} cannot be listened on")
    assert "set PORT to a free port" in line


def test_search_applies_filters_as_slack_does():
    french = run_bot("search", "Microsoft lang:fr")
    assert french.returncode == 0, french.stderr
    assert "Nothing found" not in french.stdout
    cited = [line for line in french.stdout.splitlines() if line.lstrip().startswith("[")]
    assert cited and all("004_e425123db9d38939.txt" in line for line in cited)
    phrase = run_bot("search", '"le chat"', "Microsoft")
    assert "Nothing found" not in phrase.stdout and "**" in phrase.stdout
    early = run_bot("search", "Microsoft before:2020-01-01")
    assert early.stdout.startswith('Nothing found for "Microsoft before:2020-01-01"')


def test_search_latest_and_filters_alone_list_the_newest(tmp_path):
    latest = run_bot("search", "latest")
    lines = latest.stdout.splitlines()
    assert lines[0] == "Latest news, newest first:"
    assert lines[2].startswith("1. ") and "(2024-02-28)" in lines[2] and "(2024-02-27)" in lines[3]
    assert len([line for line in lines if line[:1].isdigit()]) == 5
    french = run_bot("search", "lang:fr").stdout
    assert french.startswith('Latest on "lang:fr", newest first:') and "004_e425123db9d38939.txt" in french
    assert "002_680d3d4706e689ab.txt" not in french
    on = run_bot("search", "latest", "Microsoft", "--json").stdout
    assert '"latest": [' in on and '"query": "Microsoft"' in on


def test_a_bad_filter_is_one_line_and_status_2():
    done = run_bot("search", "Microsoft lang:klingon")
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert "lang:en" in line and "Filters:" in line


def test_a_closed_pipe_ends_search_without_a_traceback():
    """`search ... | head -c 50`: the reader goes away; we stop quietly, as Unix tools do."""
    read, write = os.pipe()
    os.close(read)  # no reader at all: the first write fails, whatever the timing
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    environment.update(
        {"ARTICLES_DIR": str(SEEDS), "DATABASE_URL": f"sqlite:///{ROOT / 'data' / 'no-such-store.db'}"}
    )
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bot", "search", "Mistral", "--limit", "50"],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
            cwd=ROOT,
            timeout=60,
        )
    finally:
        os.close(write)
    assert done.stderr == ""
    assert done.returncode == 141  # 128 + SIGPIPE, as `cat` or `grep` end


def test_feeds_list_says_how_to_add_one_on_the_command_line(tmp_path):
    done = run_bot("feeds", "list", env={"DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}"})
    assert done.stdout.strip() == "No feeds yet. Add one with `python -m bot feeds add URL`."


@pytest.mark.parametrize("days", ["-1", "0", "nan", "ten", "100000"])
def test_report_refuses_a_period_that_is_not_a_number_of_days(tmp_path, days):
    done = run_bot("report", "--days", days, env={"DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}"})
    assert done.returncode == 2
    assert "--days: must be a number of days above 0 and at most 3650" in done.stderr


def test_ingest_a_folder_takes_its_article_files(tmp_path):
    folder = tmp_path / "drop"
    (folder / "more").mkdir(parents=True)
    for index, path in enumerate(sorted(SEEDS.glob("*.txt"))[:3]):
        (folder if index < 2 else folder / "more").joinpath(path.name).write_bytes(path.read_bytes())
    (folder / "notes.pdf").write_bytes(b"%PDF-1.4")
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}", "ARTICLES_DIR": str(tmp_path / "articles")}
    done = run_bot("ingest", str(folder), env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3 and all(": added" in line for line in lines)
    assert "not an article file" not in done.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = run_bot("ingest", str(empty), env=env)
    assert nothing.returncode == 1
    assert nothing.stdout.strip() == f"{empty}: a folder without article files (.txt or .md)"


@pytest.mark.parametrize(
    ("args", "prefix"),
    [
        (["search", "valuation", "--articles", "/no/such/folder"], "python -m bot search: --articles"),
        (["manifest", "--url", "ftp://bot"], "python -m bot manifest: "),
    ],
)
def test_errors_of_commands_that_start_nothing_name_the_command(args, prefix):
    done = run_bot(*args)
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith(prefix) and "Cannot start" not in line


def test_latest_of_one_day_lists_the_last_arrival_first():
    """Six articles of the same day, indexed one after another: newest first is the latest first seen."""
    index = SearchIndex()
    titles = [f"{letter} Mistral AI news of the day" for letter in "ABCDEF"]
    for title in titles:
        text = f"date 2025-05-06\n{title}\n\nMistral AI said something new about {title[0]} today."
        index.add(parse_article(text, f"{title[0]}.txt"))
    newest = [article.title for article in index.newest(10)]
    assert newest == titles[::-1]
    older = parse_article("date 2025-05-05\nOlder news\n\nMistral AI said something the day before.", "o.txt")
    index.add(older)
    assert [a.title for a in index.newest(10)][-1] == "Older news"
    assert index.newest(1)[0].date == dt.date(2025, 5, 6)


def test_skipped_tests_are_summed_up_in_one_line_per_reason(tmp_path):
    environment = {k: v for k, v in os.environ.items() if k not in ("TEST_DATABASE_URL", "CI")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/stores/test_postgres.py"],
        capture_output=True,
        text=True,
        env=environment,
        cwd=ROOT,
        timeout=300,
    )
    said = [line for line in done.stdout.splitlines() if "TEST_DATABASE_URL is not set" in line]
    assert len(said) == 1, done.stdout
    assert said[0].startswith("SKIPPED ") and " tests: PostgreSQL tests skipped" in said[0]


def test_report_lists_what_was_left_out_this_week_by_feed_and_reason(tmp_path):
    from bot.stores.store import open_sqlite
    from bot.stores.types import Judged

    store = open_sqlite(tmp_path / "bot.db")
    reason = "another Mistral: here the name is the MBDA missile"
    store.judgements.record(
        Judged("https://d.example/m", "MBDA ramps up", "homonym", reason, "feed", "https://d.example/rss")
    )
    store.judgements.record(Judged("https://w.example/x", "A wind story", "homonym", reason, "link"))
    store.close()
    done = run_bot("report", env={"DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}"})
    assert done.returncode == 0, done.stderr
    assert "Left out as off-subject in the last 7 days: 2" in done.stdout
    assert "  feed https://d.example/rss — a homonym (another thing of the same name) ×1" in done.stdout
    assert f"      “MBDA ramps up” https://d.example/m: {reason}" in done.stdout
    assert (
        "  links given in Slack or to ingest — a homonym (another thing of the same name) ×1" in done.stdout
    )


def test_search_says_an_off_subject_question_finds_nothing_and_why():
    done = run_bot("search", "météo paris demain")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(
        'Nothing found for "météo paris demain": it is a question about the weather'
    )
