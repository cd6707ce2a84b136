"""The listeners' dependencies: a light module, one middleware putting them in each request's context."""

import subprocess
import sys

from handlers.context import Dependencies, dependencies_of, provide
from search import SearchIndex


def test_importing_the_types_loads_no_listener_and_no_slack():
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, handlers.context, handlers.answering;"
            "print(' '.join(m for m in sys.modules if m.startswith(('slack', 'handlers.listeners'))))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert loaded == []


def test_each_request_gets_the_dependencies_of_the_moment():
    index, given = SearchIndex(), []
    middleware = provide(lambda: given[-1])
    for command in ("/news", "/mistral"):
        given.append(Dependencies(index, command))
        context: dict = {}
        middleware(context, lambda: None)
        assert dependencies_of(context) is given[-1]
    assert dependencies_of(context).slash_command == "/mistral" and dependencies_of(context).answers is None
