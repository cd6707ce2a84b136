"""Replicas benchmark: 3 `python -m bot serve` processes on one PostgreSQL database, one killed mid-run.

Each replica is a subprocess on its own PORT, all on one fresh schema of the PostgreSQL server and one
shared articles folder; Slack is the FakeSlack stand-in run here (SLACK_API_URL points at it). While
REQUESTS signed slash commands go out CONCURRENCY at a time, spread over the replicas as a load
balancer would (a replica that refuses the connection is skipped for the next one, as a balancer's
health check does) and paced (30 a second: the run lasts as long as the articles take to arrive), ARTICLES new articles arrive through `python -m bot ingest` in batches, and one
replica is killed with SIGKILL half-way. It prints the acknowledgement latency (p50, p99), the answers
delivered, the announcements per article (must be exactly 1), and the time from a new batch's commit
until it is searchable on every live replica (its index's count in /healthz, read every 20 ms).
A command acknowledged by the killed replica and not yet answered is answered by another replica's
worker once its claim in the answer queue runs out (15 s); one in flight there and not recorded yet
is not acknowledged: the figures count those apart, and any answer sent twice.

    TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python benchmarks/replicas_bench.py [--requests 300] [--concurrency 30] [--articles 50]

Timings on a shared machine are noisy: compare within one run.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.load_bench import QUERIES, percentile  # noqa: E402
from tests.fakes import FakeSlack  # noqa: E402
from tests.fakes.signing import signed_headers, slash_command_body  # noqa: E402
from tests.served import SIGNING_SECRET, free_port, served_health  # noqa: E402
from tests.stores.conftest import with_search_path  # noqa: E402
from tests.synthetic import vocabulary  # noqa: E402

REPLICAS = 3
CHANNEL = "C0BENCH013"
BATCH = 5  # articles per `ingest` run
TIMEOUT_SECONDS = 10
START_SECONDS = 90
ANSWER_SECONDS = 60  # answers a killed replica left come once their claim runs out (15 s)
ANNOUNCE_SECONDS = 200  # a replica killed while posting holds its claim for the lease (120 s)


def indexed(port: int) -> int | None:
    report = served_health(port)
    try:
        return report["parts"]["index"]["articles"]
    except (TypeError, KeyError):
        return None


def wait_ready(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        report = served_health(port)
        if report and report.get("parts", {}).get("index", {}).get("status") == "ok":
            return
        if process.poll() is not None:
            raise RuntimeError(f"the replica on port {port} exited with {process.returncode}")
        time.sleep(0.1)
    raise RuntimeError(f"the replica on port {port} did not start within {START_SECONDS} s")


def article_text(n: int, words: list[str]) -> str:
    """A distinct article (no near-copy of another: each is a story of its own)."""
    mine = words[n * 40 : (n + 1) * 40]
    return (
        f"date 2026-11-25\nMistral AI bulletin {n} {mine[0]} {mine[1]}\n\n"
        f"Mistral AI reported {' '.join(mine[2:22])}.\n\nAnalysts said {' '.join(mine[22:])}."
    )


class Replicas:
    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = env
        self.workdir = workdir
        self.ports: list[int] = []
        self.processes: list[subprocess.Popen] = []
        self.alive: list[bool] = []

    def start(self, count: int) -> None:
        for n in range(count):
            port = free_port()
            log = open(self.workdir / f"replica{n}.log", "wb")  # noqa: SIM115 (kept open while it runs)
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", "serve"],
                env={**self.env, "PORT": str(port)},
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            self.ports.append(port)
            self.processes.append(process)
            self.alive.append(True)
            wait_ready(port, process)  # one after the other: the first start records the seeds

    def kill(self, n: int) -> None:
        os.kill(self.processes[n].pid, signal.SIGKILL)
        self.processes[n].wait()
        self.alive[n] = False

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def send_command(replicas: Replicas, number: int, response_url: str, at: float) -> tuple[float, int, int]:
    """At `at` (perf_counter), one signed slash command to replica `number % 3`, or the next one
    when it refuses the connection; (seconds until the acknowledgement, how many replicas refused
    first, the replica that acknowledged)."""
    time.sleep(max(0.0, at - time.perf_counter()))
    body = slash_command_body(QUERIES[number % len(QUERIES)], response_url, user_id=f"U0REPL{number:04d}")
    refused = 0
    for step in range(len(replicas.ports)):
        replica = (number + step) % len(replicas.ports)
        port = replicas.ports[replica]
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/slack/events",
            data=body.encode(),
            headers=signed_headers(SIGNING_SECRET, body),
            method="POST",
        )
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                response.read()
                if response.status != 200:
                    raise RuntimeError(f"HTTP {response.status}")
            return time.perf_counter() - started, refused, replica
        except urllib.error.URLError as error:
            if not isinstance(error.reason, ConnectionRefusedError):
                raise
            refused += 1
    raise RuntimeError("every replica refused the connection")


def feed_articles(replicas: Replicas, env: dict, folder: Path, count: int, seen: list[float]) -> None:
    """`ingest` `count` articles in batches; for each batch, the seconds from its last article's
    commit (the change log's time, same machine clock) until every live replica's index holds it."""
    words = vocabulary(40 * count, seed=13)
    expected = indexed(replicas.ports[0])
    for start in range(0, count, BATCH):
        paths = []
        for n in range(start, min(start + BATCH, count)):
            path = folder / f"bulletin-{n}.txt"
            path.write_text(article_text(n, words), encoding="utf-8")
            paths.append(str(path))
        subprocess.run(
            [sys.executable, "-m", "bot", "ingest", *paths],
            env=env,
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        done = time.perf_counter()
        with psycopg.connect(env["DATABASE_URL"]) as db:
            committed = db.execute("SELECT MAX(at) FROM changes").fetchone()[0]
        expected += len(paths)
        while True:
            live = [port for port, alive in zip(replicas.ports, replicas.alive, strict=True) if alive]
            if all((indexed(port) or 0) >= expected for port in live):
                break
            if time.perf_counter() - done > 30:
                raise RuntimeError("a batch was not searchable on every replica within 30 s")
            time.sleep(0.02)
        seen.append(time.time() - committed)


def run(database_url: str, requests: int, concurrency: int, articles: int, per_second: float) -> int:
    logging.basicConfig(level=logging.WARNING)
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(database_url, autocommit=True) as db:
        db.execute(f"CREATE SCHEMA {schema}")
    try:
        with FakeSlack() as slack, tempfile.TemporaryDirectory() as scratch:
            workdir = Path(scratch)
            folder = workdir / "articles"
            shutil.copytree(ROOT / "seeds", folder)
            incoming = workdir / "incoming"
            incoming.mkdir()
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
                "SLACK_BOT_TOKEN": "xoxb-bench",
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": slack.url,
                "ARTICLES_DIR": str(folder),
                "DATABASE_URL": with_search_path(database_url, schema),
                "NOTIFY_CHANNEL": CHANNEL,
                "LOG_LEVEL": "WARNING",
            }
            replicas = Replicas(env, workdir)
            try:
                started = time.perf_counter()
                replicas.start(REPLICAS)
                print(f"{REPLICAS} replicas started in {time.perf_counter() - started:.1f} s")
                return measure(replicas, slack, env, incoming, requests, concurrency, articles, per_second)
            finally:
                replicas.stop()
    finally:
        with psycopg.connect(database_url, autocommit=True) as db:
            db.execute(f"DROP SCHEMA {schema} CASCADE")


def measure(
    replicas, slack, env, incoming, requests: int, concurrency: int, articles: int, per_second: float
) -> int:
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    searchable: list[float] = []
    feeder_errors: list[str] = []

    def feed() -> None:
        try:
            feed_articles(replicas, env, incoming, articles, searchable)
        except Exception as error:  # reported below
            feeder_errors.append(repr(error))

    feeder = threading.Thread(target=feed)
    feeder.start()
    latencies: list[float] = []
    failures: list[str] = []
    acked_by: dict[int, int] = {}  # command number -> replica
    refused = 0
    sent = threading.Semaphore(0)
    killer = threading.Thread(target=lambda: (sent.acquire(), replicas.kill(REPLICAS - 1)))
    killer.start()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        futures = [
            pool.submit(send_command, replicas, n, slack.response_url(f"bench{n}"), started + n / per_second)
            for n in range(requests)
        ]
        for n, future in enumerate(futures):
            if n == requests // 2:
                sent.release()  # half-way: SIGKILL the last replica
            try:
                latency, refusals, acked_by[n] = future.result(timeout=120)
                latencies.append(latency)
                refused += refusals
            except (OSError, RuntimeError, urllib.error.URLError, TimeoutError) as error:
                failures.append(repr(error))
    elapsed = time.perf_counter() - started
    killer.join()
    feeder.join()
    with contextlib.suppress(AssertionError):  # answers lost with the killed replica: counted below
        slack.wait_for("response_url", requests - len(failures), timeout=ANSWER_SECONDS)
    sent = Counter(
        call["path"].removeprefix("/response/bench")
        for call in slack.calls
        if call["method"] == "response_url"
    )
    answers = set(sent)
    answered = len(answers)
    twice = sum(1 for count in sent.values() if count > 1)
    lost_live = [n for n, replica in acked_by.items() if replica != REPLICAS - 1 and str(n) not in answers]
    lost_killed = [n for n, replica in acked_by.items() if replica == REPLICAS - 1 and str(n) not in answers]
    announced = wait_announced(slack, articles)

    print(f"slash commands: {requests} sent, {concurrency} at a time, in {elapsed:.2f} s")
    print(f"replica {REPLICAS - 1} killed with SIGKILL after {requests // 2} commands were queued")
    if latencies:
        print(
            f"ack latency: p50 {percentile(latencies, 0.5) * 1000:.1f} ms,"
            f" p99 {percentile(latencies, 0.99) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms"
        )
    print(
        f"not acknowledged (in flight on the killed replica): {len(failures)};"
        f" refused by the killed replica then sent on: {refused}"
    )
    print(
        f"private answers delivered: {answered}/{requests}; acknowledged but unanswered:"
        f" {len(lost_killed)} by the killed replica, {len(lost_live)} by the live ones; answered twice: {twice}"
    )
    per_article = Counter(announced.values())
    print(
        f"new articles: {articles}; announced: {len(announced)};"
        f" announcements per article: {dict(sorted(per_article.items()))}"
    )
    if searchable:
        print(
            f"searchable on every live replica after its commit: p50 {percentile(searchable, 0.5) * 1000:.0f} ms,"
            f" max {max(searchable) * 1000:.0f} ms ({len(searchable)} batches of {BATCH})"
        )
    for problem in (failures + feeder_errors)[:5]:
        print(f"  {problem}")
    ok = (
        not lost_live
        and not lost_killed
        and not twice
        and not feeder_errors
        and len(announced) == articles
        and set(per_article) == {1}
        and searchable
        and max(searchable) < 2.0
    )
    print(
        "target (every command acknowledged answered once, each article announced exactly once,"
        " searchable everywhere < 2 s):",
        "met" if ok else "NOT met",
    )
    return 0 if ok else 1


def wait_announced(slack, articles: int) -> dict[str, int]:
    """Announcements in the channel by article id, once every new article has one (or time is up)."""
    deadline = time.monotonic() + ANNOUNCE_SECONDS
    while True:
        counts = Counter(
            call["metadata"]["event_payload"]["article_id"]
            for call in slack.calls_to("chat.postMessage")
            if call.get("channel") == CHANNEL and isinstance(call.get("metadata"), dict)
        )
        if len(counts) >= articles or time.monotonic() > deadline:
            return dict(counts)
        time.sleep(0.2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL", ""))
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=30)
    parser.add_argument("--articles", type=int, default=50)
    parser.add_argument("--per-second", type=float, default=30.0, help="commands sent per second at most")
    args = parser.parse_args()
    if not args.database_url:
        parser.error("give --database-url or TEST_DATABASE_URL (a PostgreSQL server)")
    return run(
        args.database_url,
        min(args.requests, 5000),
        min(args.concurrency, 100),
        min(args.articles, 500),
        max(args.per_second, 1.0),
    )


if __name__ == "__main__":
    raise SystemExit(main())
