"""Polling the feeds from a background thread: conditional GETs, only new items, bounded work.

Each due feed is polled on a small pool (the fetcher allows a few requests at once, one per host).
A poll fetches the feed (304: nothing to do), records the items it has not seen, and ingests at most
`max_items` of the waiting ones, each from its page. The first poll of a feed takes its newest
`max_items` items and sets the older ones aside: a feed of 10,000 items is not 10,000 fetches.
Errors (network, 5xx, timeouts, bad XML) push the next poll back exponentially; a feed failing
`report_after` times in a row is logged once as failing, and shown in `health()` (for /healthz).
The next poll of a feed is `poll_seconds` after its poll ended (its items fetched and ingested), or
its backoff after a failure, however long the poll took.
Several replicas share the feeds: each due feed is claimed for `lease_seconds` (`Feeds.claim_due`),
so one replica polls it, and a feed this poller is still polling is not claimed again; a clean
`stop()` gives back the feeds claimed and not finished (due now, for the next start or another
replica); if a replica dies, another takes its feeds once their lease has run out.
Leases and next polls are given as durations: the store measures them on the database's clock.
The same loop keeps the index in line with the store and prunes the change log (`Pipeline`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import KW_ONLY, dataclass, field

from bot.news.pipeline import Pipeline
from bot.news.sources.feeds import Feed, FeedError, parse_feed
from bot.news.sources.http import FEED_TYPES, MAX_IN_FLIGHT, Fetcher, FetchError
from bot.news.sources.links import NoArticle, fetch_article
from bot.stores.claims import worker_name
from bot.stores.types import FeedRow, Feeds, StoreUnavailable

log = logging.getLogger(__name__)

MAX_ITEMS_PER_POLL = 20
MAX_ITEM_ATTEMPTS = 3
REPORT_AFTER_FAILURES = 3
MAX_BACKOFF_SECONDS = 6 * 3600
TICK_SECONDS = 0.2
LEASE_SECONDS = 300.0  # longer than a poll takes (a fetch per item, each with its time limit)


@dataclass(eq=False)
class FeedPoller:
    """Polls every due feed, and keeps the index in line with the store (`Pipeline.sync`)."""

    feeds: Feeds
    fetcher: Fetcher
    pipeline: Pipeline
    _: KW_ONLY
    poll_seconds: float = 600.0
    max_items: int = MAX_ITEMS_PER_POLL
    report_after: int = REPORT_AFTER_FAILURES
    lease_seconds: float = LEASE_SECONDS
    owner: str = field(default_factory=worker_name, init=False)  # its name in the feeds it claims

    def __post_init__(self) -> None:
        self._busy: set[str] = set()
        self._busy_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._pool: ThreadPoolExecutor | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> FeedPoller:
        self._pool = ThreadPoolExecutor(max_workers=MAX_IN_FLIGHT, thread_name_prefix="feed")
        self._thread = threading.Thread(target=self._run, name="feed-poller", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._give_back()

    def _give_back(self) -> None:
        """The feeds claimed and not finished (queued, or their poll cut short) are due again now."""
        try:
            given = self.feeds.give_back(self.owner)
        except StoreUnavailable as error:
            log.warning(
                "Feeds not given back (their lease runs out in %.0f s): %s", self.lease_seconds, error
            )
            return
        if given:
            log.info("Gave back %d feeds not finished polling", given)

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.pipeline.sync()
                self.pipeline.prune_changes()
                for feed in self.feeds.claim_due(self.owner, self.lease_seconds, self._polling()):
                    self._submit(feed)
            except StoreUnavailable as error:
                # Claiming writes: a broken store is reported once by its health check, not every tick.
                log.debug("Feeds not polled while the store is unavailable: %s", error)
            except Exception:
                log.exception("Feed polling failed unexpectedly; trying again shortly")
            self._wake.wait(TICK_SECONDS)
            self._wake.clear()

    def _polling(self) -> set[str]:
        with self._busy_lock:
            return set(self._busy)

    def _submit(self, feed: FeedRow) -> None:
        with self._busy_lock:
            if feed.url in self._busy or self._pool is None:
                return
            self._busy.add(feed.url)
        try:
            self._pool.submit(self._poll_and_release, feed)
        except RuntimeError:  # the pool is shutting down
            self._release(feed.url)

    def _poll_and_release(self, feed: FeedRow) -> None:
        try:
            self.poll(feed)
        except Exception:
            log.exception("Polling %s failed unexpectedly", feed.url)
            self._failed(feed, "internal error (see the log)")
        finally:
            self._release(feed.url)

    def _release(self, url: str) -> None:
        with self._busy_lock:
            self._busy.discard(url)

    # -- one poll -------------------------------------------------------------------------------------

    def poll(self, feed: FeedRow) -> int:
        """Poll `feed` once; the number of items ingested. The next poll is set at the end, from then."""
        try:
            response = self.fetcher.fetch(
                feed.url,
                kinds=FEED_TYPES,
                public_only=feed.public_only,
                etag=feed.etag,
                last_modified=feed.last_modified,
            )
            parsed = (
                None
                if response.not_modified
                else parse_feed(response.body, response.content_type, response.url)
            )
        except (FetchError, FeedError) as error:
            self._failed(feed, str(error))
            return 0
        if parsed is not None:
            self._remember_items(feed, parsed)
        ingested = self._ingest_waiting(feed)
        if self._stop.is_set():
            return ingested  # cut short: `stop` gives the feed back, due now, for what still waits
        if self.feeds.polled(
            feed.url,
            etag=response.etag,
            last_modified=response.last_modified,
            delay=self.poll_seconds,
            title=parsed.title if parsed is not None else None,
        ):
            log.info("Feed %s works again", feed.url)
        return ingested

    def _remember_items(self, feed: FeedRow, parsed: Feed) -> None:
        known = self.feeds.known_keys(feed.url)
        new = list({item.key: item for item in parsed.items if item.key not in known}.values())
        if not known and feed.last_ok_at is None and len(new) > self.max_items:
            self.feeds.add_items(feed.url, new[self.max_items :], "backlog")
            log.info("Feed %s lists %d items: taking the newest %d", feed.url, len(new), self.max_items)
            new = new[: self.max_items]
        self.feeds.add_items(feed.url, reversed(new), "pending")  # oldest first: stories in order

    def _ingest_waiting(self, feed: FeedRow) -> int:
        ingested = 0
        for item, _attempts in self.feeds.pending_items(feed.url, self.max_items):
            if self._stop.is_set():  # stopping: the rest waits for the next start
                break
            known = self.pipeline.store.articles.by_url(item.url) if item.url else None
            if known is not None:
                self.feeds.item_done(feed.url, item.key, known.id)
                continue
            if item.url and self.pipeline.store.judgements.left_out(item.url) is not None:
                self.feeds.item_done(feed.url, item.key, None)  # left out before: not fetched again
                continue
            try:
                raw = fetch_article(
                    self.fetcher, item.url or "", origin="feed", public_only=feed.public_only, item=item
                )
            except NoArticle as reason:
                given_up = self.feeds.item_failed(feed.url, item.key, MAX_ITEM_ATTEMPTS)
                log.warning(
                    "Skipped %s from %s: %s%s",
                    item.url or item.key,
                    feed.url,
                    reason,
                    " (given up)" if given_up else " (will retry at the next poll)",
                )
                continue
            recorded = self.pipeline.ingest(dataclasses.replace(raw, feed=feed.url))
            self.feeds.item_done(feed.url, item.key, recorded.article_id)
            ingested += recorded.outcome in ("added", "copy")
        return ingested

    def _failed(self, feed: FeedRow, error: str) -> None:
        delay = self.backoff(feed.failures + 1)
        failures = self.feeds.failed(feed.url, error, delay)
        if failures == self.report_after:
            log.error("Feed %s keeps failing (%d times in a row): %s", feed.url, failures, error)
        elif failures < self.report_after:
            log.warning("Feed %s failed: %s; next try in %.0f s", feed.url, error, delay)

    def backoff(self, failures: int) -> float:
        """The wait after `failures` failures in a row: the poll interval, doubled each time, capped."""
        return min(self.poll_seconds * 2**failures, max(MAX_BACKOFF_SECONDS, self.poll_seconds))

    # -- health ---------------------------------------------------------------------------------------

    def health(self) -> dict:
        """For /healthz: how many feeds, and those that keep failing (the app itself is fine)."""
        feeds = self.feeds.all()
        failing = [
            {
                "url": feed.url,
                "failures": feed.failures,
                "since": dt.datetime.fromtimestamp(feed.failing_since or 0, dt.UTC).isoformat(
                    timespec="seconds"
                ),
                "error": feed.last_error,
            }
            for feed in feeds
            if feed.failures >= self.report_after
        ]
        return {"feeds": len(feeds), "failing": failing}
