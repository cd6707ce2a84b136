"""Load benchmark: signed slash commands against the real server, Slack replaced by FakeSlack.

Starts waitress on loopback with the seed articles, fires REQUESTS slash commands CONCURRENCY at a time,
and prints the acknowledgement latency (p50, p99, max) and how many failed. Bounded: it stops by itself.

    .venv/bin/python benchmarks/load_bench.py [--requests 200] [--concurrency 20]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.server.http import HTTP_THREADS  # noqa: E402
from tests.fakes import FakeSlack  # noqa: E402
from tests.fakes.signing import signed_headers, slash_command_body  # noqa: E402
from tests.served import SIGNING_SECRET, served_app  # noqa: E402

QUERIES = [
    "valuation",
    "Microsoft",
    "Le Chat",
    "Arthur Mensch",
    "open source models",
    "Azure",
    "help",
    "zzyzx",
]
TIMEOUT_SECONDS = 10
DEADLINE_SECONDS = 120


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def send_command(url: str, number: int, response_url: str) -> float:
    """One signed slash command; the seconds until its acknowledgement, or an exception."""
    body = slash_command_body(QUERIES[number % len(QUERIES)], response_url, user_id=f"U0LOAD{number:04d}")
    request = urllib.request.Request(
        url, data=body.encode(), headers=signed_headers(SIGNING_SECRET, body), method="POST"
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
        response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}")
    return time.perf_counter() - started


def run(requests: int, concurrency: int) -> int:
    # More requests in flight than waitress threads: waitress logs each queued one; the latency says it all.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    with FakeSlack() as slack, tempfile.TemporaryDirectory() as scratch:
        database = f"sqlite:///{scratch}/store.db"
        with served_app(slack, ROOT / "seeds", database, threads=HTTP_THREADS) as app:
            url = f"{app.base_url}/slack/events"
            latencies: list[float] = []
            failures: list[str] = []
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=concurrency) as pool:
                futures = [
                    pool.submit(send_command, url, n, slack.response_url(f"load{n}")) for n in range(requests)
                ]
                for future in futures:
                    try:
                        latencies.append(future.result(timeout=DEADLINE_SECONDS))
                    except (OSError, RuntimeError, urllib.error.URLError, TimeoutError) as error:
                        failures.append(repr(error))
            elapsed = time.perf_counter() - started
            try:
                answered = len(slack.wait_for("response_url", requests - len(failures), timeout=30))
            except AssertionError:
                answered = len(slack.calls_to("response_url"))
    print(f"slash commands: {requests} sent, {concurrency} at a time, in {elapsed:.2f} s")
    if latencies:
        print(
            f"ack latency: p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
            f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms, "
            f"mean {statistics.mean(latencies) * 1000:.1f} ms"
        )
    print(f"failed: {len(failures)}; private answers delivered: {answered}/{requests}")
    for failure in failures[:5]:
        print(f"  {failure}")
    ok = not failures and latencies and percentile(latencies, 0.99) < 1.0 and answered == requests
    print("target (no failures, p99 < 1 s, every answer delivered):", "met" if ok else "NOT met")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    return run(min(args.requests, 5000), min(args.concurrency, 100))


if __name__ == "__main__":
    raise SystemExit(main())
