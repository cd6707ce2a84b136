"""Freshness benchmark: how long from a file landing in the articles folder to `/mistral` finding it,
and to its announcement in the channel, through the whole served app (Slack is the FakeSlack stand-in).

    python benchmarks/freshness_bench.py [--files 10]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes import FakeSlack  # noqa: E402
from tests.served import RunningApp, served_app  # noqa: E402

CHANNEL = "C0FRESH001"
TARGET_SECONDS = 5.0
GIVE_UP_SECONDS = 30.0


def article(n: int) -> tuple[str, str, str]:
    word = f"Quxel{n}"
    title = f"Mistral AI unveils the {word} model"
    text = (
        f"date 2024-09-{n % 28 + 1:02d}\n{title}\n\n"
        f"Mistral AI unveiled {word}, a model for code, on Monday in Paris. "
        f"{word} is published under the Apache 2.0 licence and runs on a single GPU."
    )
    return word, title, text


def measure(app: RunningApp, folder: Path, slack: FakeSlack, n: int) -> tuple[float, float]:
    word, title, text = article(n)
    landed = time.monotonic()
    (folder / f"fresh{n}.txt").write_text(text, encoding="utf-8")
    found = announced = None
    attempt = 0
    while (found is None or announced is None) and time.monotonic() - landed < GIVE_UP_SECONDS:
        if found is None:
            attempt += 1
            answer = app.command(word, name=f"f{n}-{attempt}")
            if title in json.dumps(answer["blocks"]):
                found = time.monotonic() - landed
        if announced is None and any(
            title in json.dumps(c.get("blocks", "")) for c in slack.calls_to("chat.postMessage")
        ):
            announced = time.monotonic() - landed
        time.sleep(0.05)
    return found if found is not None else float("inf"), announced if announced is not None else float("inf")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10)
    args = parser.parse_args()
    with FakeSlack() as slack, tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "articles"
        shutil.copytree(ROOT / "seeds", folder)
        with served_app(slack, folder, f"sqlite:///{scratch}/store.db", notify_channel=CHANNEL) as app:
            results = [measure(app, folder, slack, n) for n in range(args.files)]
    searchable = [r[0] for r in results]
    announced = [r[1] for r in results]
    print(f"{args.files} files dropped into the articles folder of the running app, one after another")
    print(
        f"file -> /mistral finds it:   median {statistics.median(searchable):.2f} s, max {max(searchable):.2f} s"
    )
    print(
        f"file -> announced in channel: median {statistics.median(announced):.2f} s, max {max(announced):.2f} s"
    )
    ok = max(searchable) <= TARGET_SECONDS
    print(f"target (/mistral finds every file within {TARGET_SECONDS:.0f} s): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
