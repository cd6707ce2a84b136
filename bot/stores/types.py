"""What the stores hold and what their callers use: the shared types and one protocol per concern.

`Store` (bot/stores/store.py) holds one repository per concern: `articles` (and their change log),
`announcements`, `channels`, `feeds`, `feedback`, `answers`, `judgements`. The SQL repositories run on a small
database object per dialect (`Database`: bot/stores/sqlite.py, bot/stores/postgres.py); the
in-memory fake (tests/fakes) implements the same protocols, and one contract suite per concern
(tests/stores) runs against all three.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from bot.news.digests import Schedule
from bot.news.sources.feeds import FeedItem
from search import Article

RecordOutcome = Literal["added", "updated", "known", "restored", "removed"]
Origin = Literal["folder", "file", "feed", "link"]  # the articles folder, `ingest FILE`, a feed, a link
# 'unsure': a post timed out or was cut off, so it may have gone out; it is retried like 'pending',
# but only after looking for it in the channel.
AnnouncementState = Literal["pending", "unsure", "posting", "posted", "skipped", "failed"]
ChangeKind = Literal["added", "removed", "taken_down"]
PostState = Literal["pending", "posting", "unsure", "posted", "failed"]
PostKind = Literal["top", "reply"]
FeedOrigin = Literal["setting", "cli", "slack"]
ItemState = Literal["pending", "done", "backlog", "given_up"]
QuestionKind = Literal["command", "mention"]
Verdict = Literal["about", "homonym", "passing", "absent", "empty"]  # search/judgement/subject.py
AnswerState = Literal["answering", "posting", "done", "dropped"]

CHANGES_PER_READ = 1000
PROBE_KEY = "health_probe"  # meta: the row the health probe writes (`Database.problem`)
# The change log keeps a week of changes by the database's clock, and always its newest rows: a
# reader further behind (a replica's index, the channel posts' cursor) is told so (`ChangesPruned`).
CHANGES_KEEP_SECONDS = 7 * 24 * 3600.0
CHANGES_KEEP_ROWS = 10_000


class StoreUnavailable(RuntimeError):
    """The store cannot record anything now: the database cannot be reached or did not answer in
    time, or its file was deleted, replaced or made read-only. The message says which and why.

    Nothing was recorded: the caller keeps the work and tries again once the store works.
    """


class ChangesPruned(Exception):
    """The changes after `seq` are no longer all in the change log: those up to `through` were pruned.

    The reader must not apply the rest as if it were all: it starts again from the articles table, or
    reads on from `through` knowing what it skipped."""

    def __init__(self, seq: int, through: int) -> None:
        super().__init__(f"the changes after {seq} up to {through} were pruned from the change log")
        self.seq = seq
        self.through = through


# -- articles -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredArticle:
    id: str
    source: str
    title: str
    date: dt.date | None
    language: str
    text: str
    added_at: float
    changed_at: float
    removed_at: float | None = None
    url: str | None = None
    outlet: str | None = None
    story: str | None = None
    origin: Origin = "folder"
    date_source: str | None = None
    taken_down_at: float | None = None

    @property
    def story_id(self) -> str:
        return self.story or self.id


@dataclass(frozen=True)
class RecordResult:
    outcome: RecordOutcome
    article_id: str
    replaced_id: str | None = None  # the article this one replaced at the same source


@dataclass(frozen=True)
class StoreChanges:
    """What the change log holds after a mark: the articles it touched, as they are now."""

    active: list[StoredArticle]  # added or restored (and still active)
    inactive: list[str]  # removed or taken down (and still so)
    seq: int  # the mark to read from next time


class Articles(Protocol):
    """Every article ever ingested, the files they came from, their embeddings and the change log."""

    def baseline_done(self) -> bool: ...
    def mark_baseline_done(self) -> None: ...
    def record(
        self,
        article: Article,
        *,
        announce: bool,
        origin: Origin = "folder",
        story: str | None = None,
        unsure: bool = False,
    ) -> RecordResult: ...
    def mark_removed(self, source: str) -> str | None: ...
    def take_down(self, article_id: str) -> bool: ...
    def get(self, article_id: str) -> StoredArticle | None: ...
    def by_url(self, url: str) -> StoredArticle | None: ...
    def by_source(self, source: str) -> StoredArticle | None: ...
    def story_members(self, story: str) -> list[StoredArticle]: ...
    def active_articles(self) -> list[StoredArticle]: ...
    def dated_between(self, first: dt.date | None, last: dt.date | None) -> list[StoredArticle]: ...
    def active_sources(self) -> list[str]: ...
    def active_ids(self) -> set[str]: ...
    def changes_since(self, seq: int) -> StoreChanges: ...
    def last_change(self) -> int: ...
    def prune_changes(self, keep_seconds: float, keep_rows: int) -> int: ...
    def follow_changes(self, on_change: Callable[[], None]) -> None: ...
    def remember_file(self, source: str, size: int, mtime_ns: int, article_id: str) -> None: ...
    def recorded_file(self, source: str, size: int, mtime_ns: int) -> str | None: ...
    def recorded_files(self) -> dict[str, tuple[int, int, str]]: ...
    def save_vectors(self, article_id: str, model: str, vectors: Mapping[int, bytes]) -> None: ...
    def vectors_for(self, article_ids: Iterable[str], model: str) -> dict[str, dict[int, bytes]]: ...


# -- judgements --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Judged:
    """An article the subject judge found off-subject: left out (`kept` False: not stored, not indexed,
    not announced), or taken all the same (a folder file, a link added anyway) with its `article_id`."""

    key: str  # its URL, or the source of a file
    title: str
    verdict: Verdict
    reason: str
    origin: Origin
    feed: str | None = None  # the feed that brought it
    kept: bool = False
    article_id: str | None = None
    judged_at: float = 0.0


class Judgements(Protocol):
    """The off-subject articles, by URL or source: a feed's left-out item is not taken again, and the
    report (`python -m bot report`) lists what was left out and why."""

    def record(self, judged: Judged) -> None: ...  # one row per key: the latest judgement
    def left_out(self, key: str) -> Judged | None: ...  # only while not kept
    def between(self, since: float, until: float) -> list[Judged]: ...


# -- announcements ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """An announcement taken by one worker until `lease_until`; `attempts` counts earlier tries."""

    article_id: str
    attempts: int
    lease_until: float
    # Taken over from a worker whose lease ran out, or retried after an unsure post: it may be posted.
    recovered: bool = False


class Announcements(Protocol):
    """The outbox of NOTIFY_CHANNEL: one announcement decision per article, and its story edits."""

    def claim(self, worker: str, lease_seconds: float) -> Claim | None: ...
    def finish(self, article_id: str, worker: str, message_ts: str) -> bool: ...
    def retry(
        self,
        article_id: str,
        worker: str,
        error: str,
        delay: float,
        *,
        unsure: bool = False,
        throttled: bool = False,
    ) -> bool: ...
    def fail(self, article_id: str, worker: str, error: str) -> bool: ...
    def state(self, article_id: str) -> AnnouncementState | None: ...
    def counts(self) -> dict[str, int]: ...
    def claim_story_change(self) -> tuple[str, str] | None: ...
    def retry_story_change(self, article_id: str, delay: float) -> None: ...


# -- channels -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Watch:
    channel: str
    words: str
    user: str
    created_at: float


@dataclass(frozen=True)
class PostClaim:
    """A post taken by one worker until `lease_until`; `thread_ts` is the story's post for a reply."""

    channel: str
    article_id: str
    story: str
    reply: bool
    attempts: int
    lease_until: float
    recovered: bool = False
    thread_ts: str | None = None


@dataclass(frozen=True)
class RecountClaim:
    """The recount of `story`'s top-level post (at `message_ts`) in `channel`, taken by one worker;
    `wanted` is the number of replies it answers for."""

    channel: str
    story: str
    message_ts: str
    wanted: int


@dataclass(frozen=True)
class Digest:
    """A channel's digest: its schedule, who set it, the end of the last period sent."""

    channel: str
    schedule: Schedule
    user: str
    last_sent: float
    paused: bool = False


@dataclass(frozen=True)
class DigestClaim:
    """The digest of the period up to `period_end`, taken by one worker; `recovered` when an earlier
    claim of it never finished (it may have been posted)."""

    channel: str
    period_start: float
    period_end: float
    recovered: bool


class Channels(Protocol):
    def add_watch(self, channel: str, words: str, user: str) -> bool: ...
    def remove_watch(self, channel: str, words: str) -> bool: ...
    def watches(self, channel: str) -> list[Watch]: ...
    def active_watches(self) -> list[Watch]: ...
    def pause(self, channel: str, reason: str) -> None: ...
    def paused_reason(self, channel: str) -> str | None: ...
    def cursor(self) -> int | None: ...
    def set_cursor(self, seq: int) -> None: ...
    def queue_post(self, channel: str, article_id: str, story: str) -> PostKind | None: ...
    def story_channels(self, story: str) -> list[str]: ...
    def story_post(self, channel: str, story: str) -> str | None: ...
    def claim_post(self, worker: str, lease_seconds: float, pace_seconds: float) -> PostClaim | None: ...
    def take_slot(self, channel: str, pace_seconds: float) -> bool: ...
    def hold_slots(self, channel: str, seconds: float) -> None: ...
    def finish_post(self, channel: str, article_id: str, worker: str, message_ts: str) -> bool: ...
    def retry_post(
        self,
        channel: str,
        article_id: str,
        worker: str,
        error: str,
        delay: float,
        *,
        unsure: bool = False,
        throttled: bool = False,
    ) -> bool: ...
    def fail_post(self, channel: str, article_id: str, worker: str, error: str) -> bool: ...
    def post_state(self, channel: str, article_id: str) -> PostState | None: ...
    def claim_recount(self, worker: str, lease_seconds: float) -> RecountClaim | None: ...
    def finish_recount(self, channel: str, story: str, worker: str, wanted: int) -> bool: ...
    def retry_recount(self, channel: str, story: str, worker: str, delay: float) -> bool: ...
    def set_digest(self, channel: str, schedule: Schedule, user: str, now: float) -> None: ...
    def remove_digest(self, channel: str) -> bool: ...
    def digests(self) -> list[Digest]: ...
    def claim_digest(
        self, digest: Digest, period_end: float, worker: str, now: float, lease_seconds: float
    ) -> DigestClaim | None: ...
    def finish_digest(self, channel: str, worker: str, period_end: float) -> bool: ...
    def release_digest(self, channel: str, worker: str, not_before: float, *, unsure: bool) -> bool: ...


# -- feeds --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedRow:
    url: str
    origin: FeedOrigin
    added_at: float
    title: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    next_poll_at: float = 0.0
    failures: int = 0
    failing_since: float | None = None
    last_error: str | None = None
    last_ok_at: float | None = None
    claimed_by: str | None = None  # the process polling it, until its poll ends or it gives it back

    @property
    def public_only(self) -> bool:
        """A feed given in Slack may only reach public addresses, its pages included."""
        return self.origin == "slack"


class Feeds(Protocol):
    def add(self, url: str, origin: FeedOrigin) -> bool: ...
    def remove(self, url: str) -> bool: ...
    def get(self, url: str) -> FeedRow | None: ...
    def all(self) -> list[FeedRow]: ...
    def claim_due(self, owner: str, lease_seconds: float, busy: Collection[str] = ()) -> list[FeedRow]: ...
    def give_back(self, owner: str) -> int: ...
    def polled(
        self, url: str, *, etag: str | None, last_modified: str | None, delay: float, title: str | None
    ) -> bool: ...
    def failed(self, url: str, error: str, delay: float) -> int: ...
    def poll_soon(self, url: str) -> None: ...
    def known_keys(self, feed_url: str) -> set[str]: ...
    def add_items(self, feed_url: str, items: Iterable[FeedItem], state: ItemState) -> None: ...
    def pending_items(self, feed_url: str, limit: int) -> list[tuple[FeedItem, int]]: ...
    def item_done(self, feed_url: str, key: str, article_id: str | None) -> None: ...
    def item_failed(self, feed_url: str, key: str, max_attempts: int) -> bool: ...


# -- feedback and the answer queue --------------------------------------------------------------------


class Feedback(Protocol):
    def record_question(self, question: str, answered: bool) -> None: ...
    def record_feedback(self, question: str, vote: str, reason: str | None, user: str) -> None: ...
    def questions(self, since: float, until: float) -> list[tuple[str, bool]]: ...
    def votes(self, since: float, until: float) -> list[tuple[str, str, str | None]]: ...


@dataclass(frozen=True)
class Question:
    """What answering later needs. `asked_at` is when Slack sent it (a command's response_url is
    valid for 30 minutes from then); a mention is answered in `thread_ts`."""

    id: str
    kind: QuestionKind
    text: str
    user: str
    channel: str
    asked_at: float
    thread_ts: str | None = None
    response_url: str | None = None


class Answers(Protocol):
    def record(self, question: Question, worker: str, lease_seconds: float) -> bool: ...
    def claim(self, worker: str, lease_seconds: float) -> Question | None: ...
    def start_posting(self, question_id: str, worker: str) -> bool: ...
    def finish(self, question_id: str, worker: str) -> bool: ...
    def drop(self, question_id: str, worker: str, reason: str) -> bool: ...
    def state(self, question_id: str) -> AnswerState | None: ...
    def prune(self, keep_seconds: float) -> int: ...


# -- the database -------------------------------------------------------------------------------------


class Database(Protocol):
    """What the SQL repositories ask of a database: connections in a transaction (the unit of work),
    its clock, and the few clauses its dialect writes its own way. Statements use `?` placeholders.

    `transaction(articles=True)` is for a write to articles or the change log, which PostgreSQL
    serializes with a lock (SQLite's write lock serializes every write)."""

    clock: Callable[[], float]  # the process's time: when a row was added
    reopened: int  # how many times the database was found replaced and opened again
    arrival: str  # the column ordering a table's rows by their arrival (SQLite's rowid)
    now_sql: str | None  # its time as SQL where it has its own clock (bot/stores/claims.py: with_now)

    def reading(self) -> AbstractContextManager[Any]: ...
    def transaction(self, *, articles: bool = False) -> AbstractContextManager[Any]: ...
    def now(self, db: Any) -> float: ...  # the database's time: leases, retry delays, slots
    def skip_locked(self, of: str) -> str: ...  # the end of a claim's SELECT (rows of `of`)
    def for_update(self) -> str: ...  # the end of a SELECT locking its rows until the commit
    def greatest(self, first: str, second: str) -> str: ...
    def changed(self, db: Any, seq: int) -> None: ...  # a change was logged (PostgreSQL: NOTIFY)
    def follow(self, on_change: Callable[[], None]) -> None: ...
    def problem(self) -> str | None: ...  # why it cannot record now (checked every few seconds)
    def close(self) -> None: ...


def check_not_pruned(seq: int, pruned: int | None) -> None:
    """ChangesPruned when changes after `seq` were pruned: the pruned mark `pruned` is past it."""
    if pruned is not None and pruned > seq:
        raise ChangesPruned(seq, pruned)


def prune_bound(oldest_kept: int | None, first_recent: int | None) -> int | None:
    """The highest seq to prune, or None: below `oldest_kept` (the oldest of the newest rows to keep;
    None when the log holds no more) and below `first_recent` (the first change within the retention
    time; None when there is none). Only a prefix of the log goes: all after it is still there."""
    if oldest_kept is None:
        return None
    return oldest_kept - 1 if first_recent is None else min(oldest_kept, first_recent) - 1


def split_changes(articles: list[StoredArticle], ids: list[str], seq: int) -> StoreChanges:
    """The touched articles `ids` split by what they are now, in the order of their changes."""
    by_id = {article.id: article for article in articles}
    active = [by_id[i] for i in ids if i in by_id and by_id[i].removed_at is None]
    return StoreChanges(active, [i for i in ids if i in by_id and by_id[i].removed_at is not None], seq)


def retry_state(unsure: bool) -> str:
    """The state of a claim given back: an unsure one is looked for in the channel before it is retried."""
    return "unsure" if unsure else "pending"


def normal_question(question: str) -> str:
    """How questions are grouped: lower case, single spaces."""
    return " ".join(question.lower().split())
