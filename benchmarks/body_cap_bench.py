"""Memory under a huge unsigned POST: the app's gate against Bolt's plain WSGI adapter, same run.

Both are served by waitress on loopback; each gets one unsigned POST of --mb megabytes with an honest
Content-Length, sent from a generator that counts what the server lets through. Prints, for each: the
HTTP status, how many bytes were sent before the server answered or hung up, and the peak growth of
this process's resident memory meanwhile (the server runs in it; sampled every 5 ms). Bounded: one
request each. Timings play no part.

    .venv/bin/python benchmarks/body_cap_bench.py [--mb 64]
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
import threading
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from slack_bolt import App  # noqa: E402
from slack_bolt.adapter.wsgi import SlackRequestHandler  # noqa: E402

from bot.server.gate import SlackGate  # noqa: E402
from bot.server.http import create_http_server, stop_http_server  # noqa: E402
from tests.served import SIGNING_SECRET  # noqa: E402
from tests.server.test_http_limits import send_huge_body  # noqa: E402


def measure(name: str, wsgi_app, size: int, **server_options) -> None:
    server = create_http_server(wsgi_app, host="127.0.0.1", port=0, threads=2, **server_options)
    threading.Thread(target=server.run, daemon=True).start()
    gc.collect()
    process = psutil.Process()
    before = process.memory_info().rss
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.005):
            peak[0] = max(peak[0], process.memory_info().rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        status, sent = send_huge_body(f"http://127.0.0.1:{server.effective_port}", total=size)
    finally:
        stop_http_server(server)
        done.set()
        sampler.join()
    print(
        f"{name:<32} status {status:>3}   sent {sent / 1e6:6.1f} MB   peak RSS +{(peak[0] - before) / 1e6:6.1f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=64, help="size of the body, in MB (default 64)")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    size = args.mb * 1024 * 1024
    bolt = App(signing_secret=SIGNING_SECRET, token="xoxb-bench", token_verification_enabled=False)
    handler = SlackRequestHandler(bolt)
    print(f"One unsigned POST of {args.mb} MB:")
    measure("gate + waitress cap (the app)", SlackGate(handler, SIGNING_SECRET), size)
    measure("Bolt's WSGI adapter, no cap", handler, size, max_body_bytes=2 * size)


if __name__ == "__main__":
    main()
