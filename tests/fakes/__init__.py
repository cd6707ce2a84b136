"""Stand-ins for what the tests must not reach: Slack's Web API."""

from tests.fakes.slack_api import FakeSlack

__all__ = ["FakeSlack"]
