"""Announcing new articles in NOTIFY_CHANNEL, each exactly once, from a background thread.

The store's `announcements` table is the outbox. A worker claims a row atomically (state 'posting',
with a lease), posts, then records 'posted'. What can go wrong, and what happens:
- Slack refuses for a while (429, 5xx, network): the row goes back to 'pending' with a delay, the
  Retry-After header's when there is one, an exponential backoff otherwise; any worker retries it.
- Slack refuses for good (channel_not_found, not_in_channel, invalid_auth...): 'failed', one log line.
- Two processes share the store: the claim is an UPDATE ... WHERE state='pending' in an immediate
  transaction, so only one of them gets each row.
- A post that timed out or was cut off may still have gone out (a slow Slack posts, then answers
  late): it is never sent again blindly. The row becomes 'unsure' and is retried as `recovered`.
- A crash after posting but before recording it: the lease runs out and another worker (or the next
  start) takes the row over as `recovered`.
- A `recovered` announcement is first looked for in the channel's recent history (the message
  carries the article id in its metadata and block_id) and recorded if found. When Slack does not
  answer, we look again later. When Slack refuses to show the history (a missing scope, say), we err
  on the side of posting again: a rare duplicate is better than news nobody hears about. (Reading
  history needs the channels:history scope, and NOTIFY_CHANNEL given as a channel id.)
- Given the channel store, an announcement first takes NOTIFY_CHANNEL's posting slot, as the watch
  posts and digests there do (bot/stores/channels.py): no slot free, the claim is given back until the
  next one, which is no failed attempt; a 429 holds the channel's slots back for its Retry-After.
  The slots are kept by channel id: NOTIFY_CHANNEL given as a name is paced on its own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.news.folder import Ingestor, start_ingest
from bot.news.parsing import Parse, parse_file
from bot.news.pipeline import Pipeline
from bot.news.progress import StartProgress
from bot.news.saved_index import index_folder, open_index, save_all
from bot.news.search_index import keep_vectors_in, new_index
from bot.news.sources.http import Fetcher
from bot.news.sources.manage import Sources
from bot.news.sources.poller import FeedPoller
from bot.news.sources.urls import BadUrl, normalise_url
from bot.news.watcher import FolderWatcher
from bot.posting.channel_posts import PACE_SECONDS, ChannelNews
from bot.posting.refusals import DEFAULT_BACKOFF, PERMANENT_ERRORS, Backoff, describe
from bot.posting.slack_posts import (
    announcement_message,
    find_announcement,
    post_announcement,
    update_announcement,
)
from bot.posting.worker import Worker, stop_all
from bot.settings import Settings
from bot.stores.articles import ArticleStore, Claim, article_of, index_from_store, open_store
from bot.stores.channels import ChannelStore
from bot.stores.feeds import FeedStore
from bot.stores.owners import worker_name
from search import Article, SearchIndex, Summarizer
from search.persist import SavedIndex

log = logging.getLogger(__name__)


class Notifier(Worker):
    """Posts the store's pending announcements to `channel`; `wake()` after an article is added."""

    def __init__(
        self,
        store: ArticleStore,
        index: SearchIndex,
        client: WebClient,
        channel: str | None,
        summarizer: Summarizer,
        *,
        worker_id: str | None = None,
        lease_seconds: float = 120.0,
        poll_seconds: float = 1.0,
        backoff: Backoff = DEFAULT_BACKOFF,
        related_limit: int = 3,
        channels: ChannelStore | None = None,
        pace_seconds: float = PACE_SECONDS,
    ) -> None:
        """`channels` keeps the channels' posting slots; without it, announcements are not paced."""
        super().__init__("notifier", "Announcing", poll_seconds)
        self.store = store
        self.index = index
        self.client = client
        self.channel = channel
        self.summarizer = summarizer
        self.worker_id = worker_id or worker_name()
        self.lease_seconds = lease_seconds
        self.backoff = backoff
        self.related_limit = related_limit
        self.channels = channels
        self.pace_seconds = pace_seconds

    # -- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> Notifier:
        """Post from a background thread; without a channel, warn once and post nothing."""
        if not self.channel:
            log.warning("NOTIFY_CHANNEL is not set: new articles are indexed but not announced")
            return self
        return super().start()

    # -- one announcement -----------------------------------------------------------------------------

    def run_once(self) -> bool:
        """Claim and post one due announcement, or name new outlets on a posted one; False when idle."""
        if not self.channel:
            return False
        claim = self.store.claim_announcement(self.worker_id, self.lease_seconds)
        if claim is None:
            return self._update_story()
        stored = self.store.get(claim.article_id)
        if stored is None or stored.removed_at is not None:
            self.store.fail_announcement(claim.article_id, self.worker_id, "removed before it was announced")
            log.info("Not announcing %s: it was removed before it could be", claim.article_id)
            return True
        if claim.recovered and self._already_posted(claim):
            return True
        article = self.index.get(claim.article_id) or article_of(stored)
        self._post(claim, article)
        return True

    def message_for(self, article: Article) -> dict:
        related = [
            c
            for c in self.index.related(article, limit=self.related_limit + 2)
            if c.article_id != article.id and self._story_of(c.article_id) != article.id
        ][: self.related_limit]
        return announcement_message(
            article, self.summarizer.summarize(article), related, self.also_reported(article)
        )

    def _story_of(self, article_id: str) -> str | None:
        stored = self.store.get(article_id)
        return stored.story_id if stored else None

    def also_reported(self, article: Article) -> list[str]:
        """The other outlets that published the story `article` was the first of."""
        names = [
            member.outlet or member.source
            for member in self.store.story_members(article.id)
            if member.id != article.id
        ]
        return [name for name in dict.fromkeys(names) if name != article.outlet]

    def _update_story(self) -> bool:
        """A posted announcement whose story gained an outlet is edited to name it; False when none."""
        change = self.store.claim_story_change()
        if change is None:
            return False
        article_id, ts = change
        stored = self.store.get(article_id)
        if stored is None or stored.removed_at is not None or not ts:
            return True
        article = self.index.get(article_id) or article_of(stored)
        try:
            update_announcement(self.client, self.channel, ts, self.message_for(article))
            log.info("Announcement of %s now names %s", article_id, ", ".join(self.also_reported(article)))
        except SlackApiError as error:
            code = str(error.response.get("error", "")) if error.response is not None else ""
            if code in PERMANENT_ERRORS or code in ("message_not_found", "cant_update_message"):
                log.error("Slack refused to edit the announcement of %s: %s", article_id, code)
            else:
                self._retry_story(article_id, code or str(error), error)
        except (SlackClientError, OSError) as error:
            self._retry_story(article_id, f"{type(error).__name__}: {error}")
        return True

    def _retry_story(self, article_id: str, reason: str, error: SlackApiError | None = None) -> None:
        retry_after = None
        if error is not None and error.response is not None and error.response.status_code == 429:
            retry_after = float(
                error.response.headers.get("retry-after", error.response.headers.get("Retry-After", 1))
            )
        delay = self.backoff.delay(1, retry_after)
        self.store.retry_story_change(article_id, delay)
        log.warning(
            "Could not name the other outlets on %s (%s); retrying in %.0f s", article_id, reason, delay
        )

    def _post(self, claim: Claim, article: Article) -> None:
        if self.channels is not None and not self.channels.take_slot(self.channel, self.pace_seconds):
            self.store.retry_announcement(
                claim.article_id,
                self.worker_id,
                "waiting for a posting slot",
                self.pace_seconds,
                throttled=True,
            )
            return
        try:
            ts = post_announcement(self.client, self.channel, self.message_for(article))
        except SlackApiError as error:
            self._refused(claim, error)
            return
        except (SlackClientError, OSError) as error:
            self._retry(claim, describe(error), unsure=True)
            return
        if self.store.finish_announcement(claim.article_id, self.worker_id, ts):
            log.info("Announced %s (%s) in %s", article.title, article.id, self.channel)
        else:
            log.warning("Announced %s, but another worker had taken the announcement over", article.id)

    def _refused(self, claim: Claim, error: SlackApiError) -> None:
        code = str(error.response.get("error", "")) if error.response is not None else ""
        if code in PERMANENT_ERRORS:
            self.store.fail_announcement(claim.article_id, self.worker_id, code)
            log.error("Slack refused the announcement of %s in %s: %s", claim.article_id, self.channel, code)
            return
        retry_after = None
        if error.response is not None and error.response.status_code == 429:
            retry_after = float(
                error.response.headers.get("retry-after", error.response.headers.get("Retry-After", 1))
            )
            if self.channels is not None:
                self.channels.hold_slots(self.channel, retry_after)
        self._retry(claim, code or str(error), retry_after)

    def _retry(
        self, claim: Claim, reason: str, retry_after: float | None = None, *, unsure: bool = False
    ) -> None:
        if claim.attempts + 1 >= self.backoff.max_attempts:
            self.store.fail_announcement(claim.article_id, self.worker_id, reason)
            log.error(
                "Gave up announcing %s after %d attempts: %s", claim.article_id, claim.attempts + 1, reason
            )
            return
        delay = self.backoff.delay(claim.attempts, retry_after)
        self.store.retry_announcement(claim.article_id, self.worker_id, reason, delay, unsure=unsure)
        log.warning("Announcing %s failed (%s); retrying in %.0f s", claim.article_id, reason, delay)

    def _already_posted(self, claim: Claim) -> bool:
        """After a crash or an unsure post: is the announcement in the channel already?

        True when it is (and it is recorded), or when Slack did not answer (the claim is given back,
        to look again later); False when it must be posted.
        """
        try:
            ts = find_announcement(self.client, self.channel, claim.article_id)
        except SlackApiError as error:
            log.warning(
                "Slack refuses to show %s's history (%s); announcing %s again",
                self.channel,
                error.response.get("error", "") if error.response is not None else error,
                claim.article_id,
            )
            return False
        except (SlackClientError, OSError) as error:
            self._retry(claim, f"history unreadable: {describe(error)}", unsure=True)
            return True
        if ts is None:
            return False
        self.store.finish_announcement(claim.article_id, self.worker_id, ts)
        log.info("Announcement of %s was already posted before a restart", claim.article_id)
        return True


@dataclass
class NewsFeed:
    """The running parts that keep the index fresh and announce new articles."""

    store: ArticleStore
    index: SearchIndex
    ingestor: Ingestor
    watcher: FolderWatcher
    notifier: Notifier
    sources: Sources | None = None
    poller: FeedPoller | None = None
    channel_news: ChannelNews | None = None

    def stops(self) -> dict[str, Callable[[], None]]:
        """Each running part's stop, by name: it stops taking work and waits for what it has under way."""
        stops = {"watcher": self.watcher.stop, "notifier": self.notifier.stop}
        if self.poller is not None:
            stops["poller"] = self.poller.stop
        if self.channel_news is not None:
            stops["channel news"] = self.channel_news.stop
        return stops

    def stop(self) -> None:
        """Stop every part (`stop_all`), then close the store."""
        stop_all(self.stops())
        self.store.close()


def start_news_feed(
    settings: Settings,
    client: WebClient,
    *,
    index: SearchIndex | None = None,
    clock: Callable[[], float] = time.time,
    progress: StartProgress | None = None,
    parse: Parse = parse_file,
    **notifier_options,
) -> NewsFeed:
    """Open the store and its saved index (or rebuild a plain `index` from the store), catch up with
    the folder, then watch and announce.

    The index (`index`, filled here, or a new one) is the one the Slack handlers must answer from.

    `progress` hears of each phase's end (store, index, folder) and of the folder's files; `parse`
    is what the folder's files are parsed with (see `Ingestor`).
    """
    progress = progress or StartProgress()
    store = open_store(settings.database_url)
    since = store.last_change()  # read before the index: a change made meanwhile is replayed by `sync`
    progress.ended("store")
    folder = index_folder(settings.database_url)
    index = index if index is not None else new_index(settings, folder)
    keep_vectors_in(index, store)
    saved = isinstance(index, SavedIndex)
    if saved:
        open_index(store, index.folder, index)
    else:
        index_from_store(store, index)
    summarizer = Summarizer(index.analyzer)  # the index's analyzer: summaries and search see the same terms
    notifier = Notifier(
        store, index, client, settings.notify_channel, summarizer, channels=store.channels, **notifier_options
    )
    channel_news = ChannelNews(
        store, store.channels, index, client, notifier.message_for, summarizer, clock=clock
    )

    def added(article_id: str) -> None:
        notifier.wake(article_id)
        channel_news.wake(article_id)

    pipeline = Pipeline(store, index, on_added=added)
    texts = pipeline.load_duplicates(since, saved_in=index.folder if saved else None)
    progress.ended(
        "index",
        f"{index.article_count} articles, {index.passage_count} passages;"
        f" {texts} texts read for the near-copy signatures",
    )
    ingestor = Ingestor(store, index, settings.articles_dir, on_added=added, pipeline=pipeline, parse=parse)
    first_start = not store.baseline_done()
    reports = start_ingest(store, index, ingestor, progress)
    if saved and first_start:
        save_all(index, store, pipeline.duplicates)
    read = sum(report.outcome != "known" for report in reports)
    progress.ended("folder", f"{len(reports)} files, {read} of them read")
    log.info("Index ready: %d articles (%d passages)", index.article_count, index.passage_count)
    watcher = FolderWatcher(ingestor).start()
    notifier.start()
    channel_news.start()
    feeds = store.feeds
    add_setting_feeds(feeds, settings.feed_urls)
    fetcher = Fetcher(allowed_hosts=settings.allowed_hosts)
    poller = FeedPoller(feeds, fetcher, pipeline, poll_seconds=settings.feed_poll_seconds).start()
    sources = Sources(feeds, fetcher, pipeline, on_feed_added=poller.wake, health=poller.health)
    store.follow_changes(poller.wake)  # another replica's change: the poller's `sync` follows it now
    return NewsFeed(store, index, ingestor, watcher, notifier, sources, poller, channel_news)


def add_setting_feeds(feeds: FeedStore, urls: list[str]) -> None:
    """The feeds of the FEEDS setting join the stored ones (a URL spelt twice is one feed)."""
    for url in urls:
        try:
            feeds.add(normalise_url(url), "setting")
        except BadUrl as error:
            log.error("Ignored a feed of FEEDS: %s", error)
