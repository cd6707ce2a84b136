"""Store benchmark: the in-memory fake, SQLite and PostgreSQL doing the same work, in one run.

    TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test python benchmarks/store_bench.py [--articles 1000]

For each store, on a fresh database (PostgreSQL: a schema of its own, dropped at the end): record N
articles with their announcements, read them all back (what a restart does to rebuild the index), then
claim and finish every announcement from two stores on one database (two replicas) with 4 threads each.
Printed: records/s, the time to read all articles, claims/s, and announcements taken twice (must be 0).
Without TEST_DATABASE_URL the PostgreSQL row is left out. Timings on a shared machine are noisy: compare
the rows of one run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bot.stores.store import open_postgres, open_sqlite  # noqa: E402
from search import parse_article  # noqa: E402
from tests.fakes.store import MemoryDatabase, memory_store  # noqa: E402
from tests.stores.conftest import with_search_path  # noqa: E402

REPLICAS = 2
THREADS = 4


def articles(count: int) -> list:
    return [
        parse_article(
            f"date 2024-06-{1 + n % 28:02d}\nMistral AI news number {n}\n\n"
            + f"Mistral AI announced item {n} today. " * 20,
            f"{n:05d}.txt",
        )
        for n in range(count)
    ]


def run(name: str, open_store, batch: list) -> dict:
    stores = [open_store() for _ in range(REPLICAS)]
    start = time.perf_counter()
    for article in batch:
        stores[0].articles.record(article, announce=True)
    record_seconds = time.perf_counter() - start

    start = time.perf_counter()
    assert len(stores[1].articles.active_articles()) == len(batch)
    read_seconds = time.perf_counter() - start

    taken: list[str] = []

    def work(store, worker):
        while claim := store.announcements.claim(worker, lease_seconds=60):
            taken.append(claim.article_id)
            store.announcements.finish(claim.article_id, worker, "1.1")

    threads = [
        threading.Thread(target=work, args=(store, f"r{r}t{t}"))
        for r, store in enumerate(stores)
        for t in range(THREADS)
    ]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    claim_seconds = time.perf_counter() - start
    assert stores[0].announcements.counts() == {"posted": len(batch)}
    for store in stores:
        store.close()
    return {
        "store": name,
        "records/s": len(batch) / record_seconds,
        "read all (ms)": read_seconds * 1000,
        "claims/s": len(taken) / claim_seconds,
        "taken twice": sum(n - 1 for n in Counter(taken).values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    args = parser.parse_args()
    batch = articles(args.articles)
    rows = []
    memory = MemoryDatabase()
    rows.append(run("in-memory fake", lambda: memory_store(memory), batch))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        rows.append(run("SQLite (WAL)", lambda: open_sqlite(path), batch))
    server = os.environ.get("TEST_DATABASE_URL")
    if server:
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(server, autocommit=True) as db:
            db.execute(f"CREATE SCHEMA {schema}")
        try:
            url = with_search_path(server, schema)
            rows.append(run("PostgreSQL", lambda: open_postgres(url), batch))
        finally:
            with psycopg.connect(server, autocommit=True) as db:
                db.execute(f"DROP SCHEMA {schema} CASCADE")
    print(f"{args.articles} articles; claims by {REPLICAS} stores on one database x {THREADS} threads each")
    print(f"{'store':<16}{'records/s':>11}{'read all (ms)':>15}{'claims/s':>10}{'taken twice':>13}")
    for row in rows:
        print(
            f"{row['store']:<16}{row['records/s']:>11.0f}{row['read all (ms)']:>15.1f}"
            f"{row['claims/s']:>10.0f}{row['taken twice']:>13}"
        )


if __name__ == "__main__":
    main()
