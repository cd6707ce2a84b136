"""Posting new articles in the channels that watch for them, one post per story, from a background thread.

The steps, each safe to repeat after a crash:
- match: every article the store gained since the cursor (kept in the store) is matched against
  the active watches (search/asking.py); an article of a story already posted in a channel goes
  there too, in the story's thread. What matched is queued in the channel outbox (bot/stores/channels.py),
  then the cursor moves: a crash in between queues the same rows again, which the outbox ignores.
  The first run sets the cursor at the store's end: nothing there before is ever posted, and a watch
  only posts articles added after it was created.
- digests: each channel's digest, when due, takes the channel's next posting slot like a post.
- post: claim one due post (paced per channel), post it, record it. The failure rules are the
  announcements' (bot/posting/announcements.py), plus: Slack's rate limit (429) waits the Retry-After without
  counting a failed attempt, and a channel the bot was removed from is paused, its post failed.
- recount: a recorded reply makes the story's first post due an edit counting its outlets, kept in
  the store (bot/stores/channels.py) until it is made: an edit Slack refuses for a while (429, 5xx,
  network, or the app stopping) is made later, built with the count of that time.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import defaultdict
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.news.digests import due_digest
from bot.posting.refusals import DEFAULT_BACKOFF, PERMANENT_ERRORS, Backoff, describe
from bot.posting.slack_posts import (
    DIGEST_EVENT,
    find_announcement,
    find_digest,
    find_reply,
    post_announcement,
    story_reply_message,
    update_announcement,
)
from bot.posting.worker import Worker
from bot.stores.articles import ArticleStore, ChangesPruned, StoredArticle, article_of
from bot.stores.channels import ChannelStore, Digest, DigestClaim, PostClaim, RecountClaim, Watch
from bot.stores.owners import worker_name
from handlers.blocks.news import digest_message
from search import Article, QueryError, SearchIndex, Summarizer
from search.asking import article_terms, matches
from search.query import ParsedQuery, parse_query

log = logging.getLogger(__name__)

# Slack's answers when the bot can no longer post in a channel: its watches and digests are paused.
CHANNEL_GONE = frozenset({"channel_not_found", "not_in_channel", "is_archived"})
# Slack's answers when a post can never be edited: its recount is dropped.
UNEDITABLE = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})
# Slack allows about one message a second per channel.
PACE_SECONDS = 1.0
DIGEST_STORIES = 20


class ChannelNews(Worker):
    """Matches new articles against the watches and posts them; `wake()` after an article is added."""

    def __init__(
        self,
        store: ArticleStore,
        channels: ChannelStore,
        index: SearchIndex,
        client: WebClient,
        message_for: Callable[[Article], dict],
        summarizer: Summarizer,
        *,
        worker_id: str | None = None,
        lease_seconds: float = 120.0,
        poll_seconds: float = 1.0,
        pace_seconds: float = PACE_SECONDS,
        backoff: Backoff = DEFAULT_BACKOFF,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`clock` tells when digests are due (tests freeze it)."""
        super().__init__("channel-news", "Channel posts", poll_seconds)
        self.store = store
        self.clock = clock
        self.channels = channels
        self.index = index
        self.client = client
        self.message_for = message_for
        self.summarizer = summarizer
        self.worker_id = worker_id or worker_name()
        self.lease_seconds = lease_seconds
        self.pace_seconds = pace_seconds
        self.backoff = backoff

    def run_once(self) -> bool:
        """Match what is new, then post one due post and make one due recount; False when there was
        nothing to do."""
        matched = self.match_new()
        sent = self.send_due_digests()
        posted = self.post_one()
        counted = self.recount_one()
        return posted or counted or matched or sent

    # -- matching -------------------------------------------------------------------------------------

    def match_new(self) -> bool:
        """Queue the articles added since the cursor for the channels they belong in; False when none."""
        cursor = self.channels.cursor()
        if cursor is None:
            self.channels.set_cursor(self.store.last_change())
            return False
        try:
            changes = self.store.changes_since(cursor)
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
        return stored.story_id != stored.id or self.store.announcement_state(stored.id) != "skipped"

    def _queue(self, stored: StoredArticle, watches: list[tuple[Watch, ParsedQuery]]) -> None:
        article = self.index.get(stored.id) or article_of(stored)
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

    # -- posting --------------------------------------------------------------------------------------

    def post_one(self) -> bool:
        claim = self.channels.claim_post(self.worker_id, self.lease_seconds, self.pace_seconds)
        if claim is None:
            return False
        stored = self.store.get(claim.article_id)
        if stored is None or stored.removed_at is not None or stored.taken_down_at is not None:
            self.channels.fail_post(
                claim.channel, claim.article_id, self.worker_id, "removed before it was posted"
            )
            return True
        if claim.recovered and self._already_posted(claim):
            return True
        article = self.index.get(claim.article_id) or article_of(stored)
        if claim.reply:
            message = story_reply_message(article, self.summarizer.summarize(article))
        else:
            message = self.message_for(article)
        try:
            ts = post_announcement(self.client, claim.channel, message, claim.thread_ts)
        except SlackApiError as error:
            self._refused(claim, error)
            return True
        except (SlackClientError, OSError) as error:
            self._retry(claim, describe(error), unsure=True)
            return True
        if self.channels.finish_post(claim.channel, claim.article_id, self.worker_id, ts):
            log.info("Posted %s (%s) in %s", article.title, article.id, claim.channel)
        return True

    def recount_one(self) -> bool:
        """Edit one story's first post to count the outlets that reported it; False when none is due."""
        claim = self.channels.claim_recount(self.worker_id, self.lease_seconds)
        if claim is None:
            return False
        head = self.store.get(claim.story)
        if head is None or head.removed_at is not None:
            self.channels.finish_recount(claim.channel, claim.story, self.worker_id, claim.wanted)
            return True
        article = self.index.get(head.id) or article_of(head)
        try:
            update_announcement(self.client, claim.channel, claim.message_ts, self.message_for(article))
        except SlackApiError as error:
            response = error.response
            code = str(response.get("error", "")) if response is not None else ""
            if code in CHANNEL_GONE:
                self.channels.pause(claim.channel, code)  # the recount waits until the channel is back
                self._retry_recount(claim, code)
            elif code in PERMANENT_ERRORS or code in UNEDITABLE:
                self.channels.finish_recount(claim.channel, claim.story, self.worker_id, claim.wanted)
                log.error(
                    "Slack refused to count the outlets on %s's post in %s: %s", head.id, claim.channel, code
                )
            else:
                self._retry_recount(claim, code or str(error), _retry_after(error))
            return True
        except (SlackClientError, OSError) as error:
            self._retry_recount(claim, describe(error))
            return True
        if self.channels.finish_recount(claim.channel, claim.story, self.worker_id, claim.wanted):
            log.info("Counted the outlets on %s's post in %s", head.id, claim.channel)
        return True

    def _retry_recount(self, claim: RecountClaim, reason: str, retry_after: float | None = None) -> None:
        delay = self.backoff.delay(1, retry_after)
        self.channels.retry_recount(claim.channel, claim.story, self.worker_id, delay)
        log.warning(
            "Could not count the outlets on %s's post in %s (%s); retrying in %.0f s",
            claim.story,
            claim.channel,
            reason,
            delay,
        )

    def _refused(self, claim: PostClaim, error: SlackApiError) -> None:
        response = error.response
        code = str(response.get("error", "")) if response is not None else ""
        if code in CHANNEL_GONE:
            self.channels.pause(claim.channel, code)
            self.channels.fail_post(claim.channel, claim.article_id, self.worker_id, code)
            log.error("Slack refused a post in %s (%s): its watches are paused", claim.channel, code)
        elif code in PERMANENT_ERRORS:
            self.channels.fail_post(claim.channel, claim.article_id, self.worker_id, code)
            log.error("Slack refused %s in %s: %s", claim.article_id, claim.channel, code)
        elif response is not None and response.status_code == 429:
            retry_after = float(response.headers.get("retry-after", response.headers.get("Retry-After", 1)))
            self.channels.retry_post(
                claim.channel, claim.article_id, self.worker_id, "ratelimited", retry_after, throttled=True
            )
            log.warning("Slack asks to slow down in %s: waiting %.0f s", claim.channel, retry_after)
        else:
            self._retry(claim, code or str(error))

    def _retry(self, claim: PostClaim, reason: str, *, unsure: bool = False) -> None:
        if claim.attempts + 1 >= self.backoff.max_attempts:
            self.channels.fail_post(claim.channel, claim.article_id, self.worker_id, reason)
            log.error("Gave up posting %s in %s: %s", claim.article_id, claim.channel, reason)
            return
        delay = self.backoff.delay(claim.attempts)
        self.channels.retry_post(
            claim.channel, claim.article_id, self.worker_id, reason, delay, unsure=unsure
        )
        log.warning(
            "Posting %s in %s failed (%s); retrying in %.0f s", claim.article_id, claim.channel, reason, delay
        )

    # -- digests --------------------------------------------------------------------------------------

    def send_due_digests(self) -> bool:
        """Send each digest that is due (a missed one once, covering all it missed); False when none."""
        now = self.clock()
        sent = False
        for digest in self.channels.digests():
            if digest.paused:
                continue
            period = due_digest(digest.schedule, _instant(digest.last_sent), _instant(now))
            if period is None:
                continue
            claim = self.channels.claim_digest(
                digest, period[1].timestamp(), self.worker_id, now, self.lease_seconds
            )
            if claim is not None:
                self._send_digest(digest, claim)
                sent = True
        return sent

    def _send_digest(self, digest: Digest, claim: DigestClaim) -> None:
        channel = digest.channel
        if claim.recovered and self._digest_found(claim):
            return
        stories = self.digest_stories(channel, claim.period_start, claim.period_end)
        if not stories:
            self.channels.finish_digest(channel, self.worker_id, claim.period_end)
            log.info("No story for %s's digest up to %s: nothing sent", channel, _instant(claim.period_end))
            return
        heading = f"Your {digest.schedule.frequency} digest: {len(stories)} {'story' if len(stories) == 1 else 'stories'}"
        message = digest_message(stories, heading)
        message["metadata"] = {"event_type": DIGEST_EVENT, "event_payload": {"period_end": claim.period_end}}
        if not self.channels.take_slot(channel, self.pace_seconds):
            # Not posted (the history said so if it was recovered): tried again at the next slot.
            self.channels.release_digest(
                channel, self.worker_id, self.clock() + self.pace_seconds, unsure=False
            )
            return
        try:
            post_announcement(self.client, channel, message)
        except SlackApiError as error:
            code = str(error.response.get("error", "")) if error.response is not None else ""
            if code in CHANNEL_GONE:
                self.channels.pause(channel, code)
            retry_after = _retry_after(error)
            if retry_after is not None:
                self.channels.hold_slots(channel, retry_after)
            delay = self.backoff.delay(1, retry_after)
            self.channels.release_digest(channel, self.worker_id, self.clock() + delay, unsure=False)
            log.error("Slack refused %s's digest (%s)", channel, code or error)
            return
        except (SlackClientError, OSError) as error:
            delay = self.backoff.delay(1)
            self.channels.release_digest(channel, self.worker_id, self.clock() + delay, unsure=True)
            log.warning(
                "%s's digest may not have gone out (%s); looking again later", channel, describe(error)
            )
            return
        self.channels.finish_digest(channel, self.worker_id, claim.period_end)
        log.info("Sent %s's digest: %d stories", channel, len(stories))

    def digest_stories(self, channel: str, start: float, end: float) -> list[tuple]:
        """The stories of articles added in (start, end], most reported first; only those matching one
        of the channel's watches when it has some."""
        groups: dict[str, list[StoredArticle]] = defaultdict(list)
        for stored in self.store.active_articles():
            if start < stored.added_at <= end and stored.taken_down_at is None:
                groups[stored.story_id].append(stored)
        queries = [q for w in self.channels.watches(channel) if (q := _query(w))]
        stories = []
        for story, members in groups.items():
            articles = [self.index.get(m.id) or article_of(m) for m in members]
            if queries and not any(matches(self.index, q, a) for q in queries for a in articles):
                continue
            head = self.store.get(story)
            first = (self.index.get(story) or article_of(head)) if head is not None else articles[0]
            everyone = self.store.story_members(story) or members
            outlets = list(dict.fromkeys(m.outlet or m.source for m in everyone))
            stories.append((first, outlets, max(m.added_at for m in members)))
        stories.sort(key=lambda entry: (-len(entry[1]), -entry[2], entry[0].id))
        return [
            (a.citation, outlets, self.summarizer.headline_summary(a))
            for a, outlets, _ in stories[:DIGEST_STORIES]
        ]

    def _digest_found(self, claim: DigestClaim) -> bool:
        """After a crash or an unsure post: the digest is in the channel already (then recorded)."""
        try:
            found = find_digest(self.client, claim.channel, claim.period_end)
        except SlackApiError:
            return False
        except (SlackClientError, OSError):
            self.channels.release_digest(claim.channel, self.worker_id, self.clock() + 30, unsure=True)
            return True
        if found:
            self.channels.finish_digest(claim.channel, self.worker_id, claim.period_end)
        return found

    def _already_posted(self, claim: PostClaim) -> bool:
        """As Notifier._already_posted, in the channel (or the story's thread for a reply)."""
        try:
            if claim.reply and claim.thread_ts:
                ts = find_reply(self.client, claim.channel, claim.thread_ts, claim.article_id)
            else:
                ts = find_announcement(self.client, claim.channel, claim.article_id)
        except SlackApiError as error:
            log.warning(
                "Cannot read %s's history (%s); posting %s again", claim.channel, error, claim.article_id
            )
            return False
        except (SlackClientError, OSError) as error:
            self._retry(claim, f"history unreadable: {describe(error)}", unsure=True)
            return True
        if ts is None:
            return False
        self.channels.finish_post(claim.channel, claim.article_id, self.worker_id, ts)
        return True


def _instant(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC)


def _retry_after(error: SlackApiError) -> float | None:
    response = error.response
    if response is None or response.status_code != 429:
        return None
    return float(response.headers.get("retry-after", response.headers.get("Retry-After", 1)))


def _query(watch: Watch) -> ParsedQuery | None:
    """A watch's words parsed (they were checked when it was added; None if they no longer parse)."""
    try:
        return parse_query(watch.words)
    except QueryError:
        log.warning(
            "The watch %r of %s cannot be read any more; it matches nothing", watch.words, watch.channel
        )
        return None
