"""What the README's deployment section promises: the image's health check, and a backup of a live store."""

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.stores.store import open_sqlite
from search import parse_article

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
BACKUP = """import sqlite3; sqlite3.connect('data/bot.db').execute("VACUUM INTO 'data/backup.db'")"""


def instruction(name: str) -> str:
    [line] = [line for line in DOCKERFILE.splitlines() if line.startswith(name + " ")]
    return line.removeprefix(name + " ")


def test_the_image_is_slim_runs_as_a_user_and_keeps_data_on_a_volume():
    assert re.fullmatch(r"python:3\.1[1-9]-slim", instruction("FROM"))
    assert instruction("USER") not in ("root", "0")
    assert json.loads(instruction("VOLUME")) == ["/app/data"]
    assert json.loads(instruction("CMD")) == ["python", "-m", "bot", "serve"]
    assert "data" in (ROOT / ".dockerignore").read_text(encoding="utf-8").split()


def healthcheck_command() -> list[str]:
    text = DOCKERFILE.replace("\\\n", " ")
    [line] = [line for line in text.splitlines() if line.startswith("HEALTHCHECK ")]
    return json.loads(line.split(" CMD ", 1)[1])


@pytest.fixture
def health_server():
    """A /healthz that answers with the status the test sets."""
    state = {"status": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"status": "ok" if state["status"] == 200 else "broken"}).encode()
            self.send_response(state["status"] if self.path == "/healthz" else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], state
    server.shutdown()
    server.server_close()


def test_the_health_check_passes_on_200_and_fails_on_503(health_server):
    port, state = health_server
    command = healthcheck_command()
    assert command[0] == "python"
    env = {**os.environ, "PORT": str(port)}

    def check() -> int:
        return subprocess.run(
            [sys.executable, *command[1:]], env=env, capture_output=True, timeout=30
        ).returncode

    assert check() == 0
    state["status"] = 503
    assert check() != 0


def test_the_documented_backup_copies_a_live_wal_store_and_a_plain_copy_would_not(tmp_path):
    (tmp_path / "data").mkdir()
    store = open_sqlite(tmp_path / "data" / "bot.db")
    for n in range(20):
        store.articles.record(
            parse_article(f"Mistral AI news number {n} about models and funding.", f"{n}.txt"), announce=False
        )
    shutil.copy(tmp_path / "data" / "bot.db", tmp_path / "plain-copy.db")
    result = subprocess.run([sys.executable, "-c", BACKUP], cwd=tmp_path, capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    store.close()

    backup = open_sqlite(tmp_path / "data" / "backup.db")
    assert len(backup.articles.active_articles()) == 20
    backup.close()
    plain = sqlite3.connect(tmp_path / "plain-copy.db")
    tables = plain.execute("SELECT name FROM sqlite_master WHERE name = 'articles'").fetchall()
    copied = plain.execute("SELECT COUNT(*) FROM articles").fetchone()[0] if tables else 0
    assert copied < 20
