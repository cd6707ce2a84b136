"""`python -m bot search | summarize` as a person runs them: a real subprocess, no Slack."""

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"


def run_bot(*args, env=None, cwd=ROOT):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    no_store = (
        f"sqlite:///{ROOT / 'data' / 'no-such-store-for-tests.db'}"  # a developer's data/bot.db stays out
    )
    environment.update({"ARTICLES_DIR": str(SEEDS), "DATABASE_URL": no_store, **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=cwd,
        timeout=60,
    )


def test_search_prints_numbered_cited_snippets():
    result = run_bot("search", "valuation")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == 'Results for "valuation":'
    assert lines[2].startswith("1. ") and "**valuation**" in lines[2]
    assert (
        "[1] Microsoft Teams Up with Mistral AI to Diversify AI Offerings (undated), 002_680d3d4706e689ab.txt"
        in result.stdout
    )
    assert "(2024-02-27), 000_f140e804fedb17e4.txt" in result.stdout


def test_search_json_has_exactly_the_documented_shape():
    result = run_bot("search", "who", "founded", "Mistral?", "--limit", "3", "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert set(payload) == {"query", "hits"}
    assert payload["query"] == "who founded Mistral?"
    assert 1 <= len(payload["hits"]) <= 3
    for rank, hit in enumerate(payload["hits"], start=1):
        assert set(hit) == {
            "rank",
            "score",
            "article_id",
            "title",
            "date",
            "source",
            "url",
            "outlet",
            "passage",
            "snippet",
        }
        assert hit["rank"] == rank and hit["score"] > 0
        assert hit["snippet"].replace("**", "").replace("…", "") in hit["passage"].replace("**", "")


def test_search_json_with_no_match_is_an_empty_list():
    result = run_bot("search", "zebra", "xylophone", "--json")
    assert result.returncode == 0
    assert json.loads(result.stdout) == {"query": "zebra xylophone", "hits": []}


def test_search_text_with_no_match_says_so():
    result = run_bot("search", "zebra")
    assert result.returncode == 0
    assert "Nothing found" in result.stdout


@pytest.mark.parametrize(("query", "message"), [("   ", "empty"), ("x" * 5000, "5,000 characters")])
def test_bad_query_gets_a_clear_message_not_a_traceback(query, message):
    result = run_bot("search", query)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_limit_out_of_range_is_refused():
    result = run_bot("search", "Mistral", "--limit", "0")
    assert result.returncode == 2 and "--limit" in result.stderr


def test_search_reads_the_folder_given(tmp_path):
    (tmp_path / "a.txt").write_text(
        "Headline here\n\nMistral opened an office in Singapore.", encoding="utf-8"
    )
    result = run_bot("search", "Singapore", "--json", "--articles", str(tmp_path))
    hits = json.loads(result.stdout)["hits"]
    assert [h["title"] for h in hits] == ["Headline here"]


def test_malformed_setting_stops_with_one_clear_line():
    result = run_bot("search", "Mistral", env={"SLACK_API_URL": "ftp://nope"})
    assert result.returncode == 2
    assert "SLACK_API_URL" in result.stderr and "Traceback" not in result.stderr


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "mistral-bot"
    assert script.exists()
    result = subprocess.run(
        [str(script), "search", "Le Chat", "--articles", str(SEEDS)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and "Le **Chat**" in result.stdout


@pytest.mark.parametrize("articles", [None, "--articles"])
def test_from_another_folder_a_missing_articles_folder_is_a_clear_error(tmp_path, articles):
    env = {"ARTICLES_DIR": "seeds"}
    args = ["search", "valuation", *([articles, "nowhere"] if articles else [])]
    result = run_bot(*args, env=env, cwd=tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert (articles or "ARTICLES_DIR") in line and "does not exist" in line and str(tmp_path) in line
    assert result.stdout == ""


def test_an_articles_path_that_is_a_file_is_refused(tmp_path):
    result = run_bot("search", "valuation", "--articles", str(SEEDS / "000_f140e804fedb17e4.txt"))
    assert result.returncode == 2 and "is not a folder" in result.stderr


def test_help_names_the_console_script_and_every_argument_has_help():
    script = Path(sys.executable).parent / "mistral-bot"
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("usage: mistral-bot ")
    assert run_bot("--help").stdout.startswith("usage: python -m bot ")
    parsers = [build_parser("mistral-bot")]
    for parser in parsers:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                parsers.extend(action.choices.values())
                assert all(choice.help for choice in action._choices_actions)
            else:
                assert action.help, f"{parser.prog}: {action.dest} has no help text"


def test_logs_are_one_line_each_at_the_log_level_setting(tmp_path):
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    loud = run_bot("search", "valuation", "--articles", str(tmp_path))
    [line] = loud.stderr.splitlines()
    assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} WARNING search\.loader: Skipped ", line), line
    quiet = run_bot("search", "valuation", "--articles", str(tmp_path), env={"LOG_LEVEL": "error"})
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_a_bad_log_level_is_named():
    bad = run_bot("search", "valuation", env={"LOG_LEVEL": "chatty"})
    assert bad.returncode == 2 and "LOG_LEVEL" in bad.stderr and "DEBUG, INFO" in bad.stderr


def test_summarize_json_gives_the_summary_and_its_one_sentence_form():
    path = ROOT / "tests" / "fixtures" / "news" / "en_11_wire_vienna.txt"
    result = run_bot("summarize", str(path), "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert set(payload) == {"title", "date", "language", "summary", "one_sentence"}
    assert payload["date"] == "2025-10-02" and payload["language"] == "en"
    assert not payload["summary"].startswith("VIENNA")
    assert len(payload["summary"]) <= 500
    assert payload["one_sentence"].startswith("The International Atomic Energy Agency said Thursday")
    assert payload["one_sentence"].rstrip("…") in payload["summary"]
