"""The app factory: the one place that wires real parts (store, index, watcher, outboxes, feeds, Slack
handlers).

Starting is two steps, so that the server can listen at once whatever the store and folder hold:
`build_app` is quick (settings checked, an empty index, the Bolt app, the health registry) and the
server serves from it; `RunningApp.start` is the slow part (the token checked with Slack, the store
opened, the index rebuilt, the folder caught up, then watching, announcing, and answering the
questions other replicas left). Until it is done, `/healthz` says "loading" and questions get a
private "still loading".
"""

from __future__ import annotations

import gc
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient

from bot.news.folder import Ingestor, start_ingest
from bot.news.parsing import Parse, parse_file
from bot.news.pipeline import Pipeline
from bot.news.progress import StartProgress
from bot.news.saved_index import index_folder, open_index, save_snapshot
from bot.news.search_index import keep_vectors_in, new_index
from bot.news.sources.http import Fetcher
from bot.news.sources.manage import Sources
from bot.news.sources.poller import FeedPoller
from bot.news.sources.urls import BadUrl, normalise_url
from bot.news.watcher import FolderWatcher
from bot.news.watches import ChannelDesk
from bot.posting.announcements import Notifier
from bot.posting.answerer import Answers
from bot.posting.channel_posts import ChannelNews
from bot.posting.web_client import build_web_client
from bot.posting.worker import stop_all
from bot.server.health import HealthRegistry, PartHealth, PeriodicCheck
from bot.server.startup import Stopped, check_token, connect_socket_mode, slack_health
from bot.settings import Settings, SettingsError
from bot.stores.articles import index_from_store
from bot.stores.store import Store, check_database_url, open_store
from bot.stores.types import Feeds, StoreUnavailable
from handlers import loading
from handlers.context import Dependencies, provide
from handlers.listeners import register_listeners
from search import SearchIndex, Summarizer
from search.judgement.subject import SubjectJudge, load_subject
from search.persist import SavedIndex

log = logging.getLogger(__name__)

LISTENER_THREADS = 32
STORE_CHECK_SECONDS = 2.0
SLACK_CHECK_SECONDS = 60.0  # one auth.test a minute keeps /healthz's word on Slack current
# slack_sdk's Socket Mode client notices a dead connection after about five failed pings, then
# reconnects by itself: pinging every 3 s (Bolt's default is 10 s) brings that from ~50 s to ~15 s.
SOCKET_MODE_PING_SECONDS = 3


def create_app(
    settings: Settings,
    dependencies: Callable[[], Dependencies],
    *,
    client: WebClient | None = None,
    is_ready=lambda: True,
) -> App:
    """A Bolt app answering from `dependencies()` once `is_ready()`; Web API calls go to
    `settings.slack_api_url`.

    The `provide` middleware puts `dependencies()` (the index, the command's name, and once the app has
    started the news sources, the channels' watches, the question log and the answer queue) in each
    request's context for the listeners.

    Bolt does not check the token itself (`RunningApp.start` does, with retries).
    Listeners run on their own pool: requests are acknowledged as soon as the listener calls ack().
    """
    client = client or build_web_client(settings.slack_bot_token, settings.slack_api_url)
    app = App(
        signing_secret=settings.slack_signing_secret,
        client=client,
        token_verification_enabled=False,
        request_verification_enabled=not settings.socket_mode,
        listener_executor=ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="listener"),
        before_authorize=loading.still_loading(is_ready),
    )
    app.use(provide(dependencies))
    register_listeners(app, settings.slash_command)
    return app


@dataclass
class RunningApp:
    """The Bolt app, the index it answers from, the health registry, and (once started) the news desk."""

    settings: Settings
    client: WebClient
    index: SearchIndex
    health: HealthRegistry
    bolt: App = field(init=False)
    judge: SubjectJudge = field(init=False)  # the desk's subject: what is news, what a question may ask
    news: NewsDesk | None = None
    answers: Answers | None = None
    ready: threading.Event = field(default_factory=threading.Event)
    _stopping: threading.Event = field(default_factory=threading.Event)
    slack_check_seconds: float = SLACK_CHECK_SECONDS
    clock: Callable[[], float] = time.time  # when digests are due (tests freeze it)
    progress: StartProgress = field(default_factory=StartProgress)
    parse: Parse = parse_file  # what the folder's files are parsed with (tests slow it down)
    _store_check: PeriodicCheck | None = None
    _slack_check: PeriodicCheck | None = None
    _store_was_broken: bool = False
    _store_reopened: int = 0
    _socket_mode: SocketModeHandler | None = None

    def __post_init__(self) -> None:
        self.judge = SubjectJudge(load_subject(self.settings.subject))
        self.bolt = create_app(
            self.settings, self.dependencies, client=self.client, is_ready=self.ready.is_set
        )
        self.health.report("slack", "loading", "checking the bot token")
        self.health.report("store", "loading", "opening the database")
        self.health.report("watcher", "loading", "starts once the folder is caught up")
        if self.settings.socket_mode:
            self.health.report("socket_mode", "loading", "connects once the app has started")
        self.health.watch("index", self._index_health)

    def start(self) -> None:
        """The slow part of the start, in the caller's thread (see the module's docstring).

        SettingsError when Slack refuses the token or the store cannot be opened; Stopped when
        `stop()` is called meanwhile.
        """
        self.progress.begin()
        checker = token_checking_client(self.client)
        check_token(checker, self.health, stop=self._stopping)
        self.progress.ended("token")
        self._slack_check = PeriodicCheck(
            self.health, "slack", lambda: slack_health(checker), every=self.slack_check_seconds
        ).start(check_now=False)
        try:
            self.news = start_news_desk(
                self.settings,
                self.client,
                index=self.index,
                judge=self.judge,
                clock=self.clock,
                progress=self.progress,
                parse=self.parse,
            )
        except (ValueError, OSError, sqlite3.Error, StoreUnavailable) as error:
            self.health.report("store", "broken", str(error), logged=True)
            raise SettingsError(f"DATABASE_URL cannot be used: {error}") from None
        self.answers = Answers(self.news.store.answers, self.client, self.dependencies).start()
        if self._stopping.is_set():
            self.answers.stop()
            self.news.stop()
            raise Stopped
        self._store_check = PeriodicCheck(
            self.health, "store", self._check_store, every=STORE_CHECK_SECONDS
        ).start()
        self.health.watch("watcher", self._watcher_health)
        self.health.watch("feeds", self._feeds_health)
        self.progress.ended("ready")
        self.ready.set()

    def connect_socket_mode(self) -> None:
        """Open the Socket Mode connection (after `start`); it reconnects by itself when it drops."""
        handler = SocketModeHandler(
            self.bolt, self.settings.slack_app_token, ping_interval=SOCKET_MODE_PING_SECONDS
        )
        self._socket_mode = handler
        connect_socket_mode(handler, stop=self._stopping)
        self.health.watch("socket_mode", lambda: socket_mode_health(handler))

    def dependencies(self) -> Dependencies:
        """What the listeners (and the answer queue's worker) answer from, as of now."""
        news = self.news
        if news is None:
            return Dependencies(self.index, self.settings.slash_command, self.judge)
        return Dependencies(
            self.index,
            self.settings.slash_command,
            self.judge,
            sources=news.sources,
            channels=ChannelDesk(news.channel_news.channels, news.channel_news.clock),
            questions=news.store.feedback,
            answers=self.answers,
        )

    def _feeds_health(self) -> PartHealth:
        """Feeds that keep failing are listed, but the app is not broken for a site that is down."""
        try:
            return PartHealth("ok", details=self.news.poller.health())
        except StoreUnavailable:
            return PartHealth("ok", "unknown while the store is unavailable (see store)")

    def stop_soon(self) -> None:
        """Ask a start under way to end at its next step (it raises Stopped); `stop` does the stopping."""
        self._stopping.set()

    def stop(self) -> None:
        """Stop taking work, wait for what is under way (the listeners answering, the workers; for
        STOP_SECONDS at most), and only then close the store.

        The HTTP server is stopped first (bot.server.http.serve); Socket Mode's connection is closed here.
        """
        self._stopping.set()
        stop_all(self._stops())
        if self.news is not None:
            self.news.store.close()

    def _stops(self) -> dict[str, Callable[[], None]]:
        """Each running part's stop, by name (see `stop_all`)."""
        stops = {"listeners": self._stop_listeners}
        parts = {"slack check": self._slack_check, "store check": self._store_check, "answers": self.answers}
        stops.update({name: part.stop for name, part in parts.items() if part is not None})
        if self.news is not None:
            stops.update(self.news.stops())
        return stops

    def _stop_listeners(self) -> None:
        """No more events from Socket Mode (when connected), then the listeners under way finished."""
        if self._socket_mode is not None:
            self._socket_mode.close()
        self.bolt.listener_runner.listener_executor.shutdown(wait=True)

    def _check_store(self) -> PartHealth:
        store = self.news.store
        health = store_health(store)
        if health.status == "ok" and (self._store_was_broken or store.reopened != self._store_reopened):
            # What could not be recorded meanwhile, or went into a file since lost, is read again
            # (announced only when the app did not know it, if the file put back is an empty store).
            self.news.ingestor.pipeline.take_loss()
            self.news.ingestor.forget()
            self.news.watcher.rescan_soon()
        self._store_was_broken = health.status == "broken"
        self._store_reopened = store.reopened
        return health

    def _index_health(self) -> PartHealth:
        counts = {"articles": self.index.article_count, "passages": self.index.passage_count}
        if not self.ready.is_set():
            return PartHealth(
                "loading",
                "building the index and catching up with the articles folder",
                {**counts, **self.progress.details()},
            )
        return PartHealth("ok", details=counts)

    def _watcher_health(self) -> PartHealth:
        watcher = self.news.watcher
        details = {"waiting_for_store": watcher.waiting_for_store}
        if not watcher.is_alive():
            return PartHealth("broken", "the folder watcher stopped", details)
        return PartHealth("ok", details=details)


def socket_mode_health(handler: SocketModeHandler) -> PartHealth:
    if handler.client.is_connected():
        return PartHealth("ok")
    return PartHealth("broken", "the Socket Mode connection is down; reconnecting")


def token_checking_client(client: WebClient) -> WebClient:
    """`client`'s token and URL, without retries or logs of its own: check_token retries, and logs
    one line per attempt."""
    quiet = logging.getLogger("bot.server.startup.client")
    quiet.setLevel(logging.CRITICAL)
    return WebClient(
        token=client.token, base_url=client.base_url, timeout=10, retry_handlers=[], logger=quiet
    )


def store_health(store: Store) -> PartHealth:
    problem = store.problem()
    if problem:
        return PartHealth("broken", problem)
    return PartHealth("ok", details={"announcements": store.announcements.counts()})


def build_app(
    settings: Settings, *, client: WebClient | None = None, clock: Callable[[], float] = time.time
) -> RunningApp:
    """The app, not started: quick, reaches neither Slack nor the store. SettingsError for a bad setting."""
    if not Path(settings.articles_dir).is_dir():
        raise SettingsError(
            f"ARTICLES_DIR {settings.articles_dir!r} is not a folder: set it to the articles folder."
        )
    try:
        check_database_url(settings.database_url)
    except ValueError as error:
        raise SettingsError(str(error)) from None
    client = client or build_web_client(settings.slack_bot_token, settings.slack_api_url)
    index = new_index(settings, index_folder(settings.database_url))
    return RunningApp(settings, client, index, HealthRegistry(), clock=clock)


@dataclass
class NewsDesk:
    """The running parts that keep the index fresh and post the news: the store, the index, the
    folder's ingestor and watcher, the two outboxes (announcements, channel posts), the feeds' poller
    and the news sources."""

    store: Store
    index: SearchIndex
    ingestor: Ingestor
    watcher: FolderWatcher
    notifier: Notifier
    channel_news: ChannelNews
    poller: FeedPoller
    sources: Sources

    def stops(self) -> dict[str, Callable[[], None]]:
        """Each running part's stop, by name: it stops taking work and waits for what it has under way."""
        parts = {
            "watcher": self.watcher,
            "notifier": self.notifier,
            "poller": self.poller,
            "channel news": self.channel_news,
        }
        return {name: part.stop for name, part in parts.items()}

    def stop(self) -> None:
        """Stop every part (`stop_all`), then close the store."""
        stop_all(self.stops())
        self.store.close()


def start_news_desk(
    settings: Settings,
    client: WebClient,
    *,
    index: SearchIndex | None = None,
    judge: SubjectJudge | None = None,
    clock: Callable[[], float] = time.time,
    progress: StartProgress | None = None,
    parse: Parse = parse_file,
    **notifier_options,
) -> NewsDesk:
    """Open the store and its saved index (or rebuild a plain `index` from the store), catch up with
    the folder, then watch and announce.

    The index (`index`, filled here, or a new one) is the one the Slack handlers must answer from.

    `progress` hears of each phase's end (store, index, folder) and of the folder's files; `parse`
    is what the folder's files are parsed with (see `Ingestor`).
    """
    progress = progress or StartProgress()
    judge = judge or SubjectJudge(load_subject(settings.subject))
    store = open_store(settings.database_url)
    since = (
        store.articles.last_change()
    )  # read before the index: a change made meanwhile is replayed by `sync`
    progress.ended("store")
    folder = index_folder(settings.database_url)
    index = index if index is not None else new_index(settings, folder)
    keep_vectors_in(index, store)
    saved = isinstance(index, SavedIndex)
    if saved:
        open_index(store, index.folder, index)
    else:
        index_from_store(store.articles, index)
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

    pipeline = Pipeline(store, index, judge=judge, on_added=added)
    pipeline.follow_from(since)
    progress.ended("index", f"{index.article_count} articles, {index.passage_count} passages")
    ingestor = Ingestor(store, index, settings.articles_dir, on_added=added, pipeline=pipeline, parse=parse)
    first_start = not store.articles.baseline_done()
    reports = start_ingest(store, index, ingestor, progress)
    if saved and first_start:
        save_snapshot(index)
    read = sum(report.outcome != "known" for report in reports)
    progress.ended("folder", f"{len(reports)} files, {read} of them read")
    log.info("Index ready: %d articles (%d passages)", index.article_count, index.passage_count)
    # The index's objects live as long as the process: the cyclic collector no longer walks them, which
    # at 100,000 articles took a tenth of a second or more at random moments (a query, an article).
    gc.freeze()
    # The stories around today, read before the first feed article needs them (queries never wait).
    threading.Thread(target=pipeline.read_around_today, name="stories", daemon=True).start()
    watcher = FolderWatcher(ingestor).start()
    notifier.start()
    channel_news.start()
    feeds = store.feeds
    add_setting_feeds(feeds, settings.feed_urls)
    fetcher = Fetcher(allowed_hosts=settings.allowed_hosts)
    poller = FeedPoller(feeds, fetcher, pipeline, poll_seconds=settings.feed_poll_seconds).start()
    sources = Sources(feeds, fetcher, pipeline, on_feed_added=poller.wake, health=poller.health)
    store.articles.follow_changes(poller.wake)  # another replica's change: the poller's `sync` follows it now
    return NewsDesk(store, index, ingestor, watcher, notifier, channel_news, poller, sources)


def add_setting_feeds(feeds: Feeds, urls: list[str]) -> None:
    """The feeds of the FEEDS setting join the stored ones (a URL spelt twice is one feed)."""
    for url in urls:
        try:
            feeds.add(normalise_url(url), "setting")
        except BadUrl as error:
            log.error("Ignored a feed of FEEDS: %s", error)
