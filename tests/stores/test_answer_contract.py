"""The answer queue contract: every `Answers` (in-memory fake, SQLite, PostgreSQL) passes these."""

from __future__ import annotations

import inspect
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.stores.types import Answers, Question
from tests.stores.test_contract import Clock

LEASE = 15.0
DAY = 86400.0


def question(n: int = 1, kind: str = "command") -> Question:
    return Question(
        id=f"q{n}",
        kind=kind,
        text=f"mistral funding {n}",
        user="U1",
        channel="C1",
        asked_at=990.0,
        thread_ts="1.000100" if kind == "mention" else None,
        response_url=f"https://hooks.example/{n}" if kind == "command" else None,
    )


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def opener(backend, clock):
    """Opens an answer store on one shared database, as another replica would."""
    return lambda: backend.open(clock).answers


@pytest.fixture
def answers(opener):
    return opener()


def test_has_every_method_of_the_protocol(answers):
    for name in (n for n in vars(Answers) if not n.startswith("_")):
        assert inspect.signature(getattr(type(answers), name)) == inspect.signature(getattr(Answers, name))


def test_a_question_is_recorded_once_claimed_by_its_recorder(answers):
    assert answers.record(question(), "a", LEASE)
    assert not answers.record(question(), "b", LEASE)  # Slack sent it again
    assert answers.state("q1") == "answering"
    assert answers.claim("b", LEASE) is None  # the lease holds
    assert answers.start_posting("q1", "a")
    assert answers.finish("q1", "a")
    assert answers.state("q1") == "done"


def test_only_the_claimant_moves_a_question_on(answers):
    answers.record(question(), "a", LEASE)
    assert not answers.start_posting("q1", "b")
    assert not answers.finish("q1", "a")  # not posting yet
    assert not answers.drop("q1", "b", "not mine")
    assert answers.state("q1") == "answering"


def test_a_lease_that_ran_out_lets_another_worker_take_the_question_once(opener, clock):
    first, second, third = opener(), opener(), opener()
    first.record(question(kind="mention"), "a", LEASE)
    clock.now += LEASE + 1
    taken = second.claim("b", LEASE)
    assert taken == question(kind="mention")  # every field kept
    assert third.claim("c", LEASE) is None
    assert not first.start_posting("q1", "a")  # the replica that recorded it no longer may answer
    assert second.start_posting("q1", "b")
    assert second.finish("q1", "b")


def test_concurrent_claims_take_each_question_once(opener, clock):
    recorder = opener()
    for n in range(6):
        recorder.record(question(n), "dead", LEASE)
    clock.now += LEASE + 1
    workers = [opener() for _ in range(3)]

    def drain(n: int) -> list[str]:
        taken = []
        while (claimed := workers[n].claim(f"w{n}", LEASE)) is not None:
            taken.append(claimed.id)
        return taken

    with ThreadPoolExecutor(3) as pool:
        taken = [q for found in pool.map(drain, range(3)) for q in found]
    assert sorted(taken) == [f"q{n}" for n in range(6)]


def test_done_dropped_and_posting_questions_are_never_taken(answers, clock):
    for n in range(3):
        answers.record(question(n), "a", LEASE)
        answers.start_posting(f"q{n}", "a")
    answers.finish("q0", "a")
    answers.drop("q1", "a", "response_url expired")
    clock.now += DAY
    assert answers.claim("b", LEASE) is None
    assert [answers.state(f"q{n}") for n in range(3)] == ["done", "dropped", "posting"]


def test_pruning_removes_old_settled_rows_and_keeps_unanswered_ones(answers, clock):
    answers.record(question(1), "a", LEASE)
    answers.start_posting("q1", "a")
    answers.finish("q1", "a")
    answers.record(question(2), "a", LEASE)  # never answered: a worker still owes it
    clock.now += 100
    answers.record(question(3), "a", LEASE)
    answers.drop("q3", "a", "refused")
    assert answers.prune(DAY) == 0
    clock.now += DAY - 50
    assert answers.prune(DAY) == 1
    assert [answers.state(f"q{n}") for n in (1, 2, 3)] == [None, "answering", "dropped"]
