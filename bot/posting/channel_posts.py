"""Posting new articles in the channels that watch for them, one post per story, from a background thread.

The steps, each safe to repeat after a crash:
- match: every article the store gained since the cursor (kept in the store) is matched against
  the active watches (search/asking.py); an article of a story already posted in a channel goes
  there too, in the story's thread. What matched is queued in the channel outbox (bot/stores/channels.py),
  then the cursor moves: a crash in between queues the same rows again, which the outbox ignores.
  The first run sets the cursor at the store's end: nothing there before is ever posted, and a watch
  only posts articles added after it was created.
- digests: each channel's digest, when due, takes the channel's next posting slot like a post; one
  Slack refuses is tried again later (a channel the bot was removed from is paused).
- post: claim one due post (paced per channel), post it, record it, through the one outbox cycle
  (bot/posting/outbox.py), as announcements are; plus: Slack's rate limit (429) waits the Retry-After
  without counting a failed attempt, and a channel the bot was removed from is paused, its post failed.
- recount: a recorded reply makes the story's first post due an edit counting its outlets, kept in
  the store (bot/stores/channels.py) until it is made: an edit Slack refuses for a while (429, 5xx,
  network, or the app stopping) is made later, built with the count of that time.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import KW_ONLY, dataclass, field

from slack_sdk import WebClient

from bot.news.digests import due_digest
from bot.posting.outbox import PACE_SECONDS, Outbox, PostKind
from bot.posting.refusals import DEFAULT_BACKOFF, Backoff, Refusal
from bot.posting.slack_posts import (
    find_announcement,
    find_digest,
    find_reply,
    post_announcement,
    update_announcement,
)
from bot.stores.articles import article_of
from bot.stores.claims import worker_name
from bot.stores.store import Store
from bot.stores.types import (
    ChangesPruned,
    Channels,
    Digest,
    DigestClaim,
    PostClaim,
    RecountClaim,
    StoredArticle,
    Watch,
)
from handlers.blocks.news import period_digest_message, story_reply_message
from search import Article, QueryError, SearchIndex, Summarizer
from search.asking import article_terms, matches
from search.query import ParsedQuery, parse_query

log = logging.getLogger(__name__)

# Slack's answers when a post can never be edited: its recount is dropped.
UNEDITABLE = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})
DIGEST_STORIES = 20


@dataclass(eq=False)
class ChannelNews(Outbox):
    """Matches new articles against the watches and posts them; `wake()` after an article is added.

    `clock` tells when digests are due (tests freeze it).
    """

    store: Store
    channels: Channels
    index: SearchIndex
    client: WebClient
    message_for: Callable[[Article], dict]
    summarizer: Summarizer
    _: KW_ONLY
    worker_id: str = field(default_factory=worker_name)
    lease_seconds: float = 120.0
    poll_seconds: float = 1.0
    pace_seconds: float = PACE_SECONDS
    backoff: Backoff = DEFAULT_BACKOFF
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        self.digests = Digests(self)
        kinds = [ChannelPosts(self), Recounts(self)]
        super().__init__(
            "channel-news",
            "Channel posts",
            kinds,
            poll_seconds=self.poll_seconds,
            pace_seconds=self.pace_seconds,
            backoff=self.backoff,
        )

    def run_once(self) -> bool:
        """Match what is new, send the due digests, then post one due post and make one due recount;
        False when there was nothing to do."""
        matched = self.match_new()
        sent = self.send_due_digests()
        return super().run_once() or matched or sent

    def article(self, stored: StoredArticle) -> Article:
        return self.index.get(stored.id) or article_of(stored)

    # -- matching -------------------------------------------------------------------------------------

    def match_new(self) -> bool:
        """Queue the articles added since the cursor for the channels they belong in; False when none."""
        cursor = self.channels.cursor()
        if cursor is None:
            self.channels.set_cursor(self.store.articles.last_change())
            return False
        try:
            changes = self.store.articles.changes_since(cursor)
        except ChangesPruned as error:
            # Every replica was down for longer than the change log keeps: what was added meanwhile
            # is old news by now, skipped, but said.
            log.warning("Channel posts skip the articles of pruned changes (%s): reading on", error)
            self.channels.set_cursor(error.through)
            return True
        if changes.seq == cursor:
            return False
        watches = [(watch, query) for watch in self.channels.active_watches() if (query := _query(watch))]
        for stored in changes.active:
            if self._is_news(stored):
                self._queue(stored, watches)
        self.channels.set_cursor(changes.seq)
        return True

    def _is_news(self, stored: StoredArticle) -> bool:
        """A new article or a new article of a known story (not a file's new version, nor the baseline)."""
        if stored.taken_down_at is not None or stored.removed_at is not None:
            return False
        return stored.story_id != stored.id or self.store.announcements.state(stored.id) != "skipped"

    def _queue(self, stored: StoredArticle, watches: list[tuple[Watch, ParsedQuery]]) -> None:
        article = self.article(stored)
        story = stored.story_id
        targets = dict.fromkeys(self.channels.story_channels(story))
        terms = article_terms(self.index, article)
        for watch, query in watches:
            if (
                watch.channel not in targets
                and stored.added_at >= watch.created_at
                and matches(self.index, query, article, terms)
            ):
                targets[watch.channel] = None
        for channel in targets:
            kind = self.channels.queue_post(channel, stored.id, story)
            if kind is not None:
                log.info("Queued %s (%s) in %s as a %s post", article.title, stored.id, channel, kind)
        if targets:
            self.wake()

    # -- digests --------------------------------------------------------------------------------------

    def send_due_digests(self) -> bool:
        """Send each digest that is due (a missed one once, covering all it missed); False when none."""
        sent = False
        for due in self.digests.due():
            self.deliver(self.digests, due)
            sent = True
        return sent

    def digest_stories(self, channel: str, start: float, end: float) -> list[tuple]:
        """The stories of articles added in (start, end], most reported first; only those matching one
        of the channel's watches when it has some."""
        groups: dict[str, list[StoredArticle]] = defaultdict(list)
        for stored in self.store.articles.active_articles():
            if start < stored.added_at <= end and stored.taken_down_at is None:
                groups[stored.story_id].append(stored)
        queries = [q for w in self.channels.watches(channel) if (q := _query(w))]
        stories = []
        for story, members in groups.items():
            articles = [self.article(m) for m in members]
            if queries and not any(matches(self.index, q, a) for q in queries for a in articles):
                continue
            head = self.store.articles.get(story)
            first = self.article(head) if head is not None else articles[0]
            everyone = self.store.articles.story_members(story) or members
            outlets = list(dict.fromkeys(m.outlet or m.source for m in everyone))
            stories.append((first, outlets, max(m.added_at for m in members)))
        stories.sort(key=lambda entry: (-len(entry[1]), -entry[2], entry[0].id))
        return [
            (a.citation, outlets, self.summarizer.headline_summary(a))
            for a, outlets, _ in stories[:DIGEST_STORIES]
        ]


@dataclass
class ChannelPosts(PostKind[PostClaim]):
    """An article posted in a channel watching for it, or in its story's thread there."""

    news: ChannelNews
    log = log
    rate_limit_is_attempt = False  # claims are paced per channel: a 429 holds the channel back

    def claim(self) -> PostClaim | None:
        news = self.news
        return news.channels.claim_post(news.worker_id, news.lease_seconds, news.pace_seconds)

    def what(self, claim: PostClaim) -> str:
        return f"{claim.article_id} in {claim.channel}"

    def gone(self, claim: PostClaim) -> bool:
        stored = self.news.store.articles.get(claim.article_id)
        if stored is not None and stored.removed_at is None and stored.taken_down_at is None:
            return False
        self.fail(claim, "removed before it was posted")
        return True

    def find(self, claim: PostClaim) -> str | None:
        if claim.reply and claim.thread_ts:
            return find_reply(self.news.client, claim.channel, claim.thread_ts, claim.article_id)
        return find_announcement(self.news.client, claim.channel, claim.article_id)

    def message(self, claim: PostClaim) -> dict:
        article = self.news.article(self.news.store.articles.get(claim.article_id))
        if claim.reply:
            return story_reply_message(article, self.news.summarizer.summarize(article))
        return self.news.message_for(article)

    def send(self, claim: PostClaim, message: dict) -> str:
        return post_announcement(self.news.client, claim.channel, message, claim.thread_ts)

    def finish(self, claim: PostClaim, ts: str) -> None:
        if self.news.channels.finish_post(claim.channel, claim.article_id, self.news.worker_id, ts):
            log.info("Posted %s in %s", claim.article_id, claim.channel)

    def refused(self, claim: PostClaim, refusal: Refusal) -> None:
        if refusal.channel_gone:
            self.news.channels.pause(claim.channel, refusal.code)  # its watches and digest wait for it

    def attempts(self, claim: PostClaim) -> int:
        return claim.attempts

    def fail(self, claim: PostClaim, reason: str) -> None:
        self.news.channels.fail_post(claim.channel, claim.article_id, self.news.worker_id, reason)

    def retry(self, claim: PostClaim, reason: str, delay: float, *, unsure: bool, throttled: bool) -> None:
        self.news.channels.retry_post(
            claim.channel,
            claim.article_id,
            self.news.worker_id,
            reason,
            delay,
            unsure=unsure,
            throttled=throttled,
        )


@dataclass
class Recounts(PostKind[RecountClaim]):
    """A story's first post in a channel, edited to count the outlets that reported it: a recorded
    reply makes it due, and an edit made later is built with the count of that time."""

    news: ChannelNews
    log = log
    activity = "Counting"

    def claim(self) -> RecountClaim | None:
        return self.news.channels.claim_recount(self.news.worker_id, self.news.lease_seconds)

    def what(self, claim: RecountClaim) -> str:
        return f"the outlets on {claim.story}'s post in {claim.channel}"

    def gone(self, claim: RecountClaim) -> bool:
        head = self.news.store.articles.get(claim.story)
        if head is not None and head.removed_at is None:
            return False
        self.fail(claim, "removed")
        return True

    def message(self, claim: RecountClaim) -> dict:
        return self.news.message_for(self.news.article(self.news.store.articles.get(claim.story)))

    def send(self, claim: RecountClaim, message: dict) -> str:
        return update_announcement(self.news.client, claim.channel, claim.message_ts, message)

    def finish(self, claim: RecountClaim, ts: str) -> None:
        if self.news.channels.finish_recount(claim.channel, claim.story, self.news.worker_id, claim.wanted):
            log.info("Counted the outlets on %s's post in %s", claim.story, claim.channel)

    def for_good(self, refusal: Refusal) -> bool:
        """A channel the bot was removed from is paused: its recount waits until it is back."""
        return (refusal.permanent and not refusal.channel_gone) or refusal.code in UNEDITABLE

    def refused(self, claim: RecountClaim, refusal: Refusal) -> None:
        if refusal.channel_gone:
            self.news.channels.pause(claim.channel, refusal.code)

    def fail(self, claim: RecountClaim, reason: str) -> None:
        """The recount is dropped: recorded as made."""
        self.news.channels.finish_recount(claim.channel, claim.story, self.news.worker_id, claim.wanted)

    def retry(self, claim: RecountClaim, reason: str, delay: float, *, unsure: bool, throttled: bool) -> None:
        self.news.channels.retry_recount(claim.channel, claim.story, self.news.worker_id, delay)


@dataclass(frozen=True)
class DueDigest:
    digest: Digest
    claim: DigestClaim

    @property
    def channel(self) -> str:
        return self.digest.channel


@dataclass
class Digests(PostKind[DueDigest]):
    """A channel's digest of the period's stories; never given up (a refused one is tried again later)."""

    news: ChannelNews
    log = log

    def due(self) -> Iterator[DueDigest]:
        """Each digest that is due, claimed (a missed one once, covering all it missed)."""
        news = self.news
        now = news.clock()
        for digest in news.channels.digests():
            if digest.paused:
                continue
            period = due_digest(digest.schedule, _instant(digest.last_sent), _instant(now))
            if period is None:
                continue
            claim = news.channels.claim_digest(
                digest, period[1].timestamp(), news.worker_id, now, news.lease_seconds
            )
            if claim is not None:
                yield DueDigest(digest, claim)

    def what(self, due: DueDigest) -> str:
        return f"{due.channel}'s digest"

    def recovered(self, due: DueDigest) -> bool:
        return due.claim.recovered

    def find(self, due: DueDigest) -> str | None:
        return find_digest(self.news.client, due.channel, due.claim.period_end)

    def message(self, due: DueDigest) -> dict | None:
        claim = due.claim
        stories = self.news.digest_stories(due.channel, claim.period_start, claim.period_end)
        if not stories:
            self.news.channels.finish_digest(due.channel, self.news.worker_id, claim.period_end)
            log.info(
                "No story for %s's digest up to %s: nothing sent", due.channel, _instant(claim.period_end)
            )
            return None
        count = f"{len(stories)} {'story' if len(stories) == 1 else 'stories'}"
        heading = f"Your {due.digest.schedule.frequency} digest: {count}"
        return period_digest_message(stories, heading, claim.period_end)

    def take_slot(self, due: DueDigest) -> bool:
        return self.news.channels.take_slot(due.channel, self.news.pace_seconds)

    def send(self, due: DueDigest, message: dict) -> str:
        return post_announcement(self.news.client, due.channel, message)

    def finish(self, due: DueDigest, ts: str) -> None:
        if self.news.channels.finish_digest(due.channel, self.news.worker_id, due.claim.period_end):
            log.info("Sent %s's digest", due.channel)

    def for_good(self, refusal: Refusal) -> bool:
        return False

    def refused(self, due: DueDigest, refusal: Refusal) -> None:
        if refusal.channel_gone:
            self.news.channels.pause(due.channel, refusal.code)
        if refusal.retry_after is not None:
            self.news.channels.hold_slots(due.channel, refusal.retry_after)

    def retry(self, due: DueDigest, reason: str, delay: float, *, unsure: bool, throttled: bool) -> None:
        self.news.channels.release_digest(
            due.channel, self.news.worker_id, self.news.clock() + delay, unsure=unsure
        )


def _instant(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC)


def _query(watch: Watch) -> ParsedQuery | None:
    """A watch's words parsed (they were checked when it was added; None if they no longer parse)."""
    try:
        return parse_query(watch.words)
    except QueryError:
        log.warning(
            "The watch %r of %s cannot be read any more; it matches nothing", watch.words, watch.channel
        )
        return None
