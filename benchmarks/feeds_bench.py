"""News sources benchmark: extraction quality against the text we wrote, pages per second through the
whole pipeline, and the time from a feed update to its announcement (poll interval aside).

    python benchmarks/feeds_bench.py [--pages 100] [--updates 5]

1. Extraction quality: word-level precision and recall of the text extracted from each fixture page
   (tests/fixtures/web/site) against the article text it was built from (tests/fixtures/web/articles),
   trafilatura (what the app uses) and the plain approach (all visible text of the page), same run.
2. Throughput: `--pages` distinct news pages served by the local web stand-in, each fetched, extracted,
   deduplicated, stored (SQLite), indexed; the plain approach's rate is given beside it.
3. Freshness: a new item is added to a feed of the served app (FakeSlack as Slack); the time from the
   poll that sees it (the feed request reaching the web server) to its announcement in the channel.
Timings are noisy on a shared machine: compare the figures of one run with each other.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import lxml.html  # noqa: E402

from bot.news.pipeline import Pipeline, RawArticle  # noqa: E402
from bot.news.sources.http import Fetcher  # noqa: E402
from bot.news.sources.links import fetch_article  # noqa: E402
from bot.news.sources.pages import extract_page  # noqa: E402
from bot.stores.store import open_sqlite  # noqa: E402
from search import SearchIndex  # noqa: E402
from tests.fakes import FakeSlack, FakeWeb  # noqa: E402
from tests.fakes.web import ARTICLES, SITE  # noqa: E402
from tests.served import served_app  # noqa: E402

CHANNEL = "C0FEEDS001"
_WORD_RE = re.compile(r"\w+", re.UNICODE)


def build_module():
    spec = importlib.util.spec_from_file_location("web_build", SITE.parent / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def words(text: str) -> Counter:
    return Counter(_WORD_RE.findall(text.lower()))


def precision_recall(found: str, truth: str) -> tuple[float, float]:
    got, want = words(found), words(truth)
    common = sum((got & want).values())
    return common / max(sum(got.values()), 1), common / max(sum(want.values()), 1)


def visible_text(markup: str) -> str:
    """The plain approach: every text node a browser would show (scripts, styles and head dropped)."""
    tree = lxml.html.fromstring(markup)
    for element in tree.xpath("//script|//style|//noscript|//template|//head"):
        element.drop_tree()
    return tree.text_content()


def extraction_quality() -> None:
    build = build_module()
    rows = []
    for path in sorted(ARTICLES.glob("*.txt")):
        meta = build.read(path)
        page = SITE / meta["path"].lstrip("/")
        markup = page.read_bytes().decode("iso-8859-1" if meta["outlet"] == "latin" else "utf-8")
        truth = "\n".join(meta["paragraphs"])
        started = time.perf_counter()
        found = extract_page(markup, "http://example.com" + meta["path"])
        ours = time.perf_counter() - started
        started = time.perf_counter()
        plain = visible_text(markup)
        theirs = time.perf_counter() - started
        rows.append(
            (
                path.stem,
                *precision_recall(found.text if found else "", truth),
                *precision_recall(plain, truth),
                ours,
                theirs,
            )
        )
    print(f"1. Extraction quality on {len(rows)} pages (word-level, against the text we wrote)")
    print(f"   {'page':28} {'trafilatura P':>13} {'R':>6} {'visible text P':>15} {'R':>6}")
    for name, p, r, pp, pr, *_ in rows:
        print(f"   {name:28} {p:13.3f} {r:6.3f} {pp:15.3f} {pr:6.3f}")
    mean = [statistics.mean(row[i] for row in rows) for i in range(1, 7)]
    f1 = 2 * mean[0] * mean[1] / (mean[0] + mean[1])
    plain_f1 = 2 * mean[2] * mean[3] / (mean[2] + mean[3])
    print(f"   {'mean':28} {mean[0]:13.3f} {mean[1]:6.3f} {mean[2]:15.3f} {mean[3]:6.3f}")
    print(f"   F1: trafilatura {f1:.3f}, visible text {plain_f1:.3f}")
    print(f"   time per page: trafilatura {mean[4] * 1000:.1f} ms, visible text {mean[5] * 1000:.1f} ms\n")


def synthetic_pages(web: FakeWeb, count: int) -> list[str]:
    """`count` distinct news pages: fixture paragraphs mixed at random, rendered in the outlets' shapes."""
    build = build_module()
    articles = [build.read(path) for path in sorted(ARTICLES.glob("*.txt"))]
    pool = [p for a in articles if a["lang"] == "en" for p in a["paragraphs"]]
    rng = random.Random(9)
    urls = []
    for n in range(count):
        template = articles[n % len(articles)]
        if template["outlet"] == "latin":
            template = articles[0]
        article = dict(template)
        article["title"] = f"Mistral AI story number {n}: {rng.choice(pool)[:50]}"
        article["paragraphs"] = [
            f"Story {n} opens with its own sentence about Mistral AI.",
            *rng.sample(pool, 5),
        ]
        article["path"] = f"/bench/{n}/{template['slug']}.html"
        web.put(article["path"], build.TEMPLATES[template["outlet"]](article, articles))
        urls.append(web.url(article["path"]))
    return urls


def throughput(pages: int) -> None:
    with FakeWeb() as web, tempfile.TemporaryDirectory() as folder:
        urls = synthetic_pages(web, pages)
        fetcher = Fetcher()
        store = open_sqlite(Path(folder) / "bench.db")
        store.articles.mark_baseline_done()
        pipeline = Pipeline(store, SearchIndex())
        started = time.perf_counter()
        outcomes = Counter(
            pipeline.ingest(fetch_article(fetcher, url, origin="link", public_only=False)).outcome
            for url in urls
        )
        ours = time.perf_counter() - started
        store.close()

        plain_store = open_sqlite(Path(folder) / "plain.db")
        plain_store.articles.mark_baseline_done()
        plain = Pipeline(plain_store, SearchIndex())
        started = time.perf_counter()
        for url in urls:
            response = fetcher.fetch(url)
            text = "\n\n".join(
                line.strip() for line in visible_text(response.text()).splitlines() if line.strip()
            )
            plain.ingest(RawArticle(text, url, "link", url=url, title=url, date=dt.date(2025, 1, 1)))
        theirs = time.perf_counter() - started
        plain_store.close()
    print(
        f"2. Pipeline throughput: {pages} pages fetched over HTTP, extracted, deduplicated, stored, indexed"
    )
    print(f"   trafilatura pipeline: {pages / ours:6.1f} pages/s ({dict(outcomes)})")
    print(f"   visible-text pipeline: {pages / theirs:6.1f} pages/s (same fetch, store and index)\n")


def freshness(updates: int) -> None:
    with FakeSlack() as slack, FakeWeb() as web, tempfile.TemporaryDirectory() as folder:
        articles = Path(folder) / "articles"
        articles.mkdir()
        urls = synthetic_pages(web, updates)
        base_feed = web.content("/feeds/wire.atom")[0].decode()
        delays = []
        with served_app(
            slack,
            articles,
            f"sqlite:///{folder}/fresh.db",
            notify_channel=CHANNEL,
            feeds=web.url("/feeds/wire.atom"),
            feed_poll_seconds=1.0,
        ):
            wait_for(lambda: len(slack.calls_to("chat.postMessage")) >= 3)
            entries = ""
            for n, url in enumerate(urls):
                posted = len(slack.calls_to("chat.postMessage"))
                entries += f'<entry><title>Update {n}</title><link href="{url}"/><id>tag:u{n}</id></entry>'
                requests = len(web.requested("/feeds/wire.atom"))
                web.put(
                    "/feeds/wire.atom",
                    base_feed.replace("</feed>", entries + "</feed>"),
                    "application/atom+xml",
                )
                wait_for(lambda posted=posted: len(slack.calls_to("chat.postMessage")) > posted)
                announced = time.monotonic()
                seen = web.requested("/feeds/wire.atom")[requests:]
                polled = max(r["at"] for r in seen if r["at"] <= announced)
                delays.append(announced - polled)
    print(f"3. Feed update to announcement (from the poll that sees it), {updates} updates:")
    print(f"   median {statistics.median(delays) * 1000:.0f} ms, max {max(delays) * 1000:.0f} ms")
    print("   (plus up to FEED_POLL_SECONDS until that poll; 600 s by default)\n")


def wait_for(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit("gave up waiting")
        time.sleep(0.005)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--updates", type=int, default=5)
    args = parser.parse_args()
    extraction_quality()
    throughput(args.pages)
    freshness(args.updates)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
