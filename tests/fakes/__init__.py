"""Stand-ins for what the tests must not reach: Slack's Web API and the web."""

from tests.fakes.slack_api import FakeSlack
from tests.fakes.web import FakeWeb

__all__ = ["FakeSlack", "FakeWeb"]
