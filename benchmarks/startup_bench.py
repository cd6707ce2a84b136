"""Start-up: how soon `python -m bot serve` is ready on a big folder, phase by phase.

For each size, a folder of that many article files of 10 paragraphs (made-up words drawn from a Zipf
law, so every article differs; made once under /tmp and reused) is served by the real server, a
subprocess against the FakeSlack stand-in: a first start on an empty store (every file read), then
a restart on the store it left. Printed, in seconds from the process start: when /healthz first
answers, when it is ready (every article counted, not loading), and when the first answer to a
signed slash command reaches Slack; then each phase of the start as the server logged it (token,
store, index, folder, ready).

    .venv/bin/python benchmarks/startup_bench.py [--sizes 1000 10000] [--full]

--full adds 100,000 files (1M passages): its first start takes a quarter of an hour on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.news.progress import PHASES  # noqa: E402
from tests.fakes import FakeSlack  # noqa: E402
from tests.fakes.signing import signed_headers, slash_command_body  # noqa: E402
from tests.served import free_port, served_health  # noqa: E402
from tests.synthetic import vocabulary, zipf_probabilities  # noqa: E402

TIMEOUT_SECONDS = 3600
FOLDERS = Path(tempfile.gettempdir()) / "startup-bench"
PARAGRAPHS, WORDS = 10, 40  # per article, per paragraph (four sentences of ten words)
SECRET = "bench-secret"
PHASE_LINE = re.compile(r"Start phase (\w+): ([\d.]+) s")


@dataclass
class Start:
    health: float  # /healthz answers
    ready: float  # every article counted, not loading
    answer: float  # the first answer reached Slack
    phases: dict[str, float] = field(default_factory=dict)


def article_text(words: list[str], number: int) -> str:
    headline = " ".join(words[:8]).capitalize() + f" {number}"
    paragraphs = []
    for p in range(PARAGRAPHS):
        chunk = words[8 + p * WORDS : 8 + (p + 1) * WORDS]
        paragraphs.append(
            " ".join(" ".join(chunk[s : s + 10]).capitalize() + "." for s in range(0, WORDS, 10))
        )
    return headline + "\n\n" + "\n\n".join(paragraphs) + "\n"


def folder_of(count: int) -> Path:
    """The folder of `count` articles, made on the first call (a `.complete` mark says it is whole)."""
    folder = FOLDERS / f"articles-{count}"
    if (folder / ".complete").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(5)
    vocab = np.array(vocabulary(20_000))
    probabilities = zipf_probabilities(len(vocab))
    per_article = 8 + PARAGRAPHS * WORDS
    for start in range(0, count, 1000):
        ranks = rng.choice(len(vocab), size=(min(1000, count - start), per_article), p=probabilities)
        for offset, row in enumerate(ranks):
            number = start + offset
            text = article_text(vocab[row].tolist(), number)
            (folder / f"article-{number:06d}.txt").write_text(text, encoding="utf-8")
    (folder / ".complete").touch()
    return folder


def ready(answer: dict | None, articles: int) -> bool:
    index = (answer or {}).get("parts", {}).get("index", {})
    return index.get("status") == "ok" and index.get("articles") == articles


def ask(port: int, slack: FakeSlack, question: str) -> None:
    """A slash command as Slack signs it; returns once its answer has reached the FakeSlack."""
    body = slash_command_body(question, slack.response_url("bench"))
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/slack/events",
        data=body.encode(),
        headers=signed_headers(SECRET, body),
        method="POST",
    )
    answered = len(slack.calls_to("response_url"))
    with urllib.request.urlopen(request, timeout=30):
        pass
    slack.wait_for("response_url", count=answered + 1, timeout=60)


def time_start(env: dict, tmp: Path, slack: FakeSlack, articles: int, question: str) -> Start:
    port = free_port()
    log_path = tmp / "serve.log"
    started = time.perf_counter()
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            cwd=tmp,
            env={**env, "PORT": str(port)},
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    first = None
    try:
        while time.perf_counter() - started < TIMEOUT_SECONDS:
            answer = served_health(port, timeout=1)
            if answer is not None and first is None:
                first = time.perf_counter() - started
            if ready(answer, articles):
                done = time.perf_counter() - started
                ask(port, slack, question)
                start = Start(first, done, time.perf_counter() - started)
                break
            time.sleep(0.02)
        else:
            raise SystemExit(f"the server was not ready within {TIMEOUT_SECONDS} s; see {log_path}")
    finally:
        process.terminate()
        process.wait(timeout=60)
    start.phases = {m.group(1): float(m.group(2)) for m in PHASE_LINE.finditer(log_path.read_text())}
    return start


def run(count: int) -> list[tuple[str, Start]]:
    folder = folder_of(count)
    question = (folder / "article-000000.txt").read_text(encoding="utf-8").split("\n", 1)[0]
    with tempfile.TemporaryDirectory() as scratch, FakeSlack() as slack:
        tmp = Path(scratch)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
            "PYTHONPATH": str(ROOT),
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.url,
            "ARTICLES_DIR": str(folder),
            "DATABASE_URL": f"sqlite:///{tmp / 'store.db'}",
            "LOG_LEVEL": "INFO",
        }
        return [
            (name, time_start(env, tmp, slack, count, question))
            for name in ("first start (empty store)", "restart (same store)")
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000], help="files per folder")
    parser.add_argument("--full", action="store_true", help="also 100,000 files (1M passages)")
    args = parser.parse_args()
    sizes = [*args.sizes, 100_000] if args.full else args.sizes
    print("seconds from the process start; the phases as the server logged them")
    print(f"{'files':>8} {'start':<26} {'healthz':>7} {'ready':>7} {'answer':>7}   " + "  ".join(PHASES))
    for count in sizes:
        for name, start in run(count):
            phases = "  ".join(f"{start.phases.get(p, float('nan')):{len(p)}.2f}" for p in PHASES)
            print(
                f"{count:>8,} {name:<26} {start.health:7.2f} {start.ready:7.2f} {start.answer:7.2f}   {phases}",
                flush=True,
            )


if __name__ == "__main__":
    main()
