"""Start-up: how soon `python -m bot serve` answers /healthz, and how soon it is ready, for a big folder.

Makes a folder of --articles files (the seeds, each with a paragraph of its own), starts the real
server as a subprocess against the FakeSlack stand-in, and polls /healthz every 20 ms. Prints the
seconds from the process start to the first answer ("loading") and to "ok" (index built, folder caught
up), for a first start (empty store: every file is read) and a restart (the saved index opened and
checked against the store). Before this change the server listened only once ready: the second figure was the first.

    .venv/bin/python tests/benchmarks/startup_bench.py [--articles 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.fakes import FakeSlack  # noqa: E402

TIMEOUT_SECONDS = 300


def make_folder(folder: Path, count: int) -> None:
    seeds = sorted((ROOT / "seeds").glob("*.txt"))
    texts = [path.read_text(encoding="utf-8") for path in seeds]
    for i in range(count):
        text = texts[i % len(texts)] + f"\n\nEdition {i}: a paragraph only this copy carries, number {i}.\n"
        (folder / f"article-{i:05d}.txt").write_text(text, encoding="utf-8")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def health(port: int) -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
            return json.loads(response.read())["status"]
    except urllib.error.HTTPError as error:
        return json.loads(error.read())["status"]
    except OSError:
        return None


def time_start(env: dict, cwd: Path) -> tuple[float, float]:
    """Seconds to the first /healthz answer, and to "ok"."""
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"],
        cwd=cwd,
        env={**env, "PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    first = None
    try:
        while time.perf_counter() - started < TIMEOUT_SECONDS:
            status = health(port)
            if status is not None and first is None:
                first = time.perf_counter() - started
            if status == "ok":
                return first, time.perf_counter() - started
            time.sleep(0.02)
        raise SystemExit("the server did not get ready in time")
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000, help="files in the folder (default 1000)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, FakeSlack() as slack:
        folder = Path(tmp) / "articles"
        folder.mkdir()
        make_folder(folder, args.articles)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
            "PYTHONPATH": str(ROOT),
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": "bench-secret",
            "SLACK_API_URL": slack.url,
            "ARTICLES_DIR": str(folder),
            "DATABASE_URL": f"sqlite:///{Path(tmp) / 'store.db'}",
        }
        print(f"{args.articles} articles; seconds from the process start:")
        for name in ("first start (empty store)", "restart (saved index)"):
            first, ready = time_start(env, Path(tmp))
            print(f'  {name:<28} /healthz answers after {first:5.2f} s   ready ("ok") after {ready:6.2f} s')


if __name__ == "__main__":
    main()
