"""What only the PostgreSQL store does: choosing it from DATABASE_URL, and a database that is down,
silent, slow or restarted (a clear StoreUnavailable, never a hang)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from bot.stores.postgres import PostgresDatabase
from bot.stores.store import open_postgres, open_store
from bot.stores.types import StoreUnavailable
from search import parse_article
from tests.polling import wait_until
from tests.stores.tcp_proxy import TcpProxy

ROOT = Path(__file__).resolve().parents[2]
NEWS = "Mistral AI opens an office in Singapore\n\nMistral AI will hire 40 engineers in Singapore."


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_postgresql_and_postgres_urls_open_the_postgres_store(postgres_url):
    for url in (postgres_url, postgres_url.replace("postgresql://", "postgres://", 1)):
        store = open_store(url)
        assert isinstance(store.database, PostgresDatabase)
        store.close()


def test_a_server_that_is_down_is_reported_as_unavailable():
    with pytest.raises(
        StoreUnavailable, match=r"PostgreSQL at 127\.0\.0\.1:\d+/bot is unreachable: .*refused"
    ):
        open_postgres(f"postgresql://bot:secret@127.0.0.1:{closed_port()}/bot")


def test_the_reason_never_shows_the_password():
    with pytest.raises(StoreUnavailable) as raised:
        open_postgres(f"postgresql://bot:hunter2@127.0.0.1:{closed_port()}/bot")
    assert "hunter2" not in str(raised.value)


def test_a_server_that_never_answers_is_given_up_on_after_the_connect_timeout():
    with socket.socket() as silent:  # accepts TCP connections (backlog) but never speaks
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        with pytest.raises(StoreUnavailable, match=r"unreachable: .*timeout"):
            open_postgres(f"postgresql://bot@127.0.0.1:{port}/bot", connect_timeout=2)


def test_a_statement_that_waits_too_long_is_cut_off(postgres_url):
    store = open_postgres(postgres_url, statement_timeout=0.5)
    with psycopg.connect(postgres_url) as blocker:
        blocker.execute("LOCK TABLE announcements IN ACCESS EXCLUSIVE MODE")
        with pytest.raises(StoreUnavailable, match="did not answer within the statement timeout"):
            store.announcements.counts()
    assert store.announcements.counts() == {}
    store.close()


def test_connections_cut_by_the_server_are_replaced(postgres_url):
    name = f"bot-{closed_port()}"
    store = open_postgres(f"{postgres_url}&application_name={name}")
    article = parse_article(NEWS, "a.txt")
    store.articles.record(article, announce=True)
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        cut = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s", (name,)
        ).fetchall()
    assert cut and all(ok for (ok,) in cut)
    assert store.articles.get(article.id).title == article.title
    store.close()


def test_the_cli_says_in_one_line_that_the_database_is_unreachable(tmp_path):
    article = tmp_path / "news.txt"
    article.write_text(NEWS, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "ingest", str(article)],
        capture_output=True,
        text=True,
        env={
            "DATABASE_URL": f"postgresql://bot:secret@127.0.0.1:{closed_port()}/bot",
            "ARTICLES_DIR": str(tmp_path / "articles"),
            "PATH": "",
        },
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("python -m bot ingest: PostgreSQL at 127.0.0.1:") and "unreachable" in line
    assert "secret" not in line


def test_a_database_that_goes_away_is_reported_then_used_again_when_it_is_back(postgres_url):
    params = conninfo_to_dict(postgres_url)
    proxy = TcpProxy((params["host"], int(params.get("port", 5432))))
    store = open_postgres(
        make_conninfo(postgres_url, host="127.0.0.1", port=proxy.port), connect_timeout=1, statement_timeout=2
    )
    article = parse_article(NEWS, "a.txt")
    store.articles.record(article, announce=True)
    proxy.cut()
    for call in (
        lambda: store.articles.get(article.id),
        lambda: store.announcements.claim("w1", lease_seconds=30),
        lambda: store.articles.record(parse_article(NEWS + " More.", "b.txt"), announce=True),
    ):
        with pytest.raises(StoreUnavailable, match=r"PostgreSQL at 127\.0\.0\.1"):
            call()
    proxy.restore()
    wait_until(lambda: answers(lambda: store.announcements.state(article.id)) == "pending", timeout=60)
    assert store.announcements.claim("w1", lease_seconds=30).article_id == article.id
    assert store.articles.by_source("b.txt") is None
    store.close()
    proxy.close()


def answers(call):
    """What `call` returns, or None while the store is unavailable."""
    try:
        return call()
    except StoreUnavailable:
        return None


def test_the_change_listener_listens_again_after_the_connection_is_cut(postgres_url):
    params = conninfo_to_dict(postgres_url)
    proxy = TcpProxy((params["host"], int(params.get("port", 5432))))
    listener = open_postgres(
        make_conninfo(postgres_url, host="127.0.0.1", port=proxy.port), connect_timeout=1, statement_timeout=2
    )
    writer = open_postgres(postgres_url)
    heard: list[int] = []
    listener.articles.follow_changes(lambda: heard.append(1))
    wait_until(lambda: heard)  # connected (a listener reports once when it (re)connects)
    proxy.cut()
    proxy.restore()
    wait_until(lambda: len(heard) >= 2, timeout=30)  # listening again
    count = len(heard)
    writer.articles.record(parse_article(NEWS, "a.txt"), announce=False)
    wait_until(lambda: len(heard) > count, timeout=10)  # and hears the next change
    listener.close()
    writer.close()
    proxy.close()
