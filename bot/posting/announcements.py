"""Announcing new articles in NOTIFY_CHANNEL, each exactly once, and editing an announcement when its
story gains an outlet; from a background thread, through the one outbox cycle (bot/posting/outbox.py).

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
- A story edit Slack refuses for a while is made later; one it refuses for good (the message is
  gone, say) is dropped with one log line.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk import WebClient

from bot.posting.outbox import PACE_SECONDS, Outbox, PostKind
from bot.posting.refusals import DEFAULT_BACKOFF, Backoff, Refusal
from bot.posting.slack_posts import find_announcement, post_announcement, update_announcement
from bot.stores.articles import article_of
from bot.stores.claims import worker_name
from bot.stores.store import Store
from bot.stores.types import Channels, Claim, StoredArticle
from handlers.blocks.news import announcement_message
from search import Article, SearchIndex, Summarizer

log = logging.getLogger(__name__)

# Slack's answers when a story edit can never be made.
UNEDITABLE = frozenset({"message_not_found", "cant_update_message"})


@dataclass
class Announcer:
    """What announcing needs, shared by the announcement kinds (and channel posts' `message_for`)."""

    store: Store
    index: SearchIndex
    client: WebClient
    channel: str | None
    summarizer: Summarizer
    related_limit: int = 3

    def article(self, stored: StoredArticle) -> Article:
        return self.index.get(stored.id) or article_of(stored)

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
        stored = self.store.articles.get(article_id)
        return stored.story_id if stored else None

    def also_reported(self, article: Article) -> list[str]:
        """The other outlets that published the story `article` was the first of; those writing in
        another language say which ("Le Monde, in French")."""
        names = [
            _outlet(member, article.language)
            for member in self.store.articles.story_members(article.id)
            if member.id != article.id
        ]
        return [name for name in dict.fromkeys(names) if name != article.outlet]


LANGUAGE_NAMES = {"en": "English", "fr": "French"}


def _outlet(member: StoredArticle, language: str) -> str:
    name = member.outlet or member.source
    if member.language == language:
        return name
    return f"{name}, in {LANGUAGE_NAMES.get(member.language, member.language)}"


@dataclass
class Announcements(PostKind[Claim]):
    """A new article announced in the channel: the store's `announcements` rows."""

    announcer: Announcer
    worker_id: str
    lease_seconds: float
    channels: Channels | None
    pace_seconds: float
    log = log
    activity = "Announcing"

    def claim(self) -> Claim | None:
        return self.announcer.store.announcements.claim(self.worker_id, self.lease_seconds)

    def what(self, claim: Claim) -> str:
        return f"{claim.article_id} in {self.announcer.channel}"

    def gone(self, claim: Claim) -> bool:
        stored = self.announcer.store.articles.get(claim.article_id)
        if stored is not None and stored.removed_at is None:
            return False
        self.fail(claim, "removed before it was announced")
        log.info("Not announcing %s: it was removed before it could be", claim.article_id)
        return True

    def find(self, claim: Claim) -> str | None:
        return find_announcement(self.announcer.client, self.announcer.channel, claim.article_id)

    def message(self, claim: Claim) -> dict:
        stored = self.announcer.store.articles.get(claim.article_id)
        article = self.announcer.index.get(claim.article_id) or article_of(stored)
        return self.announcer.message_for(article)

    def take_slot(self, claim: Claim) -> bool:
        return self.channels is None or self.channels.take_slot(self.announcer.channel, self.pace_seconds)

    def send(self, claim: Claim, message: dict) -> str:
        return post_announcement(self.announcer.client, self.announcer.channel, message)

    def finish(self, claim: Claim, ts: str) -> None:
        if self.announcer.store.announcements.finish(claim.article_id, self.worker_id, ts):
            log.info("Announced %s in %s", claim.article_id, self.announcer.channel)
        else:
            log.warning("Announced %s, but another worker had taken the announcement over", claim.article_id)

    def refused(self, claim: Claim, refusal: Refusal) -> None:
        if refusal.retry_after is not None and self.channels is not None:
            self.channels.hold_slots(self.announcer.channel, refusal.retry_after)

    def attempts(self, claim: Claim) -> int:
        return claim.attempts

    def fail(self, claim: Claim, reason: str) -> None:
        self.announcer.store.announcements.fail(claim.article_id, self.worker_id, reason)

    def retry(self, claim: Claim, reason: str, delay: float, *, unsure: bool, throttled: bool) -> None:
        self.announcer.store.announcements.retry(
            claim.article_id, self.worker_id, reason, delay, unsure=unsure, throttled=throttled
        )


@dataclass(frozen=True)
class StoryChange:
    """A posted announcement (at `ts`) whose story gained an outlet."""

    article_id: str
    ts: str


@dataclass
class StoryEdits(PostKind[StoryChange]):
    """A posted announcement edited to name the other outlets of its story."""

    announcer: Announcer
    log = log
    activity = "Editing"

    def claim(self) -> StoryChange | None:
        change = self.announcer.store.announcements.claim_story_change()
        return StoryChange(*change) if change is not None else None

    def what(self, claim: StoryChange) -> str:
        return f"the announcement of {claim.article_id} to name its other outlets"

    def gone(self, claim: StoryChange) -> bool:
        stored = self.announcer.store.articles.get(claim.article_id)
        return stored is None or stored.removed_at is not None or not claim.ts

    def message(self, claim: StoryChange) -> dict:
        return self.announcer.message_for(
            self.announcer.article(self.announcer.store.articles.get(claim.article_id))
        )

    def send(self, claim: StoryChange, message: dict) -> str:
        return update_announcement(self.announcer.client, self.announcer.channel, claim.ts, message)

    def finish(self, claim: StoryChange, ts: str) -> None:
        article = self.announcer.article(self.announcer.store.articles.get(claim.article_id))
        log.info(
            "Announcement of %s now names %s",
            claim.article_id,
            ", ".join(self.announcer.also_reported(article)),
        )

    def for_good(self, refusal: Refusal) -> bool:
        return refusal.permanent or refusal.code in UNEDITABLE

    def fail(self, claim: StoryChange, reason: str) -> None:
        """Nothing to record: the story change was taken once."""

    def retry(self, claim: StoryChange, reason: str, delay: float, *, unsure: bool, throttled: bool) -> None:
        self.announcer.store.announcements.retry_story_change(claim.article_id, delay)


class Notifier(Outbox):
    """Posts the store's pending announcements to `channel`, and edits the posted ones whose story
    gained an outlet; `wake()` after an article is added."""

    def __init__(
        self,
        store: Store,
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
        channels: Channels | None = None,
        pace_seconds: float = PACE_SECONDS,
    ) -> None:
        """`channels` keeps the channels' posting slots; without it, announcements are not paced."""
        self.announcer = Announcer(store, index, client, channel, summarizer, related_limit)
        self.worker_id = worker_id or worker_name()
        announcements = Announcements(self.announcer, self.worker_id, lease_seconds, channels, pace_seconds)
        kinds = [announcements, StoryEdits(self.announcer)] if channel else []
        super().__init__(
            "notifier",
            "Announcing",
            kinds,
            poll_seconds=poll_seconds,
            pace_seconds=pace_seconds,
            backoff=backoff,
        )
        self.client = client
        self.summarizer = summarizer
        self.message_for = self.announcer.message_for

    def start(self) -> Notifier:
        """Post from a background thread; without a channel, warn once and post nothing."""
        if not self.announcer.channel:
            log.warning("NOTIFY_CHANNEL is not set: new articles are indexed but not announced")
            return self
        return super().start()
