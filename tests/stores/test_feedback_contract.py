"""The feedback store contract (in-memory fake, SQLite) and the report built from it."""

from __future__ import annotations

import inspect

import pytest

from bot.stores.report import report, report_text
from bot.stores.types import Feedback
from tests.stores.test_contract import Clock


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def feedback(backend, clock):
    return backend.open(clock).feedback


def test_has_every_method_of_the_protocol(feedback):
    for name in (n for n in vars(Feedback) if not n.startswith("_")):
        assert inspect.signature(getattr(type(feedback), name)) == inspect.signature(getattr(Feedback, name))


def test_the_report_lists_unanswered_and_downvoted_questions_most_frequent_first(feedback, clock):
    feedback.record_question("Who founded Mistral?", True)
    feedback.record_feedback("who founded  mistral?", "up", None, "U1")
    for _ in range(3):
        feedback.record_question("Mistral in Quebec", False)
    feedback.record_question("valuation", True)
    feedback.record_feedback("Valuation", "down", "outdated", "U1")
    feedback.record_feedback("valuation", "down", "wrong_language", "U2")
    clock.now += 100
    feedback.record_question("later question", False)  # outside the period
    rows = report(feedback, 0, 1050)
    assert [(r.question, r.unanswered, r.downvotes) for r in rows] == [
        ("mistral in quebec", 3, 0),
        ("valuation", 0, 2),
    ]
    text = report_text(rows, 7)
    assert "mistral in quebec  — no answer ×3" in text
    assert "👎 ×2 (outdated ×1, wrong language ×1)" in text
    assert "founded" not in text


def test_an_empty_period_says_so(feedback):
    assert "No question went unanswered" in report_text(report(feedback, 0, 10), 7)
