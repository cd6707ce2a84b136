"""The Slack surface: listeners, and the Block Kit they send.

`register_listeners` is the one place listeners are registered, by kind. Their dependencies reach them
through Bolt's `context`, put there for each request by the `dependencies` middleware (they read e.g.
`context["index"]`).
"""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import App, BoltContext

from handlers import actions, commands, home, mentions
from handlers.commands import NewsSources, QuestionLog
from handlers.watches import ChannelWatches
from search import SearchIndex


def dependencies(
    index: SearchIndex,
    slash_command: str,
    *,
    sources: Callable[[], NewsSources | None],
    channels: Callable[[], ChannelWatches | None],
    questions: Callable[[], QuestionLog | None],
):
    """Bolt middleware putting what the listeners need in the context of each request.

    `sources()`, `channels()` and `questions()` are asked each time: they are None until the app has
    started (until then questions get "still loading", see loading.py). The command's name is `slash_command` there, as Bolt gives a
    listener asking for `command` the command's payload.
    """

    def middleware(context: BoltContext, next) -> None:
        context["index"] = index
        context["slash_command"] = slash_command
        context["sources"] = sources()
        context["channels"] = channels()
        context["questions"] = questions()
        next()

    return middleware


def register_listeners(app: App, slash_command: str) -> None:
    """Every listener: the slash command, events (mentions, direct messages), buttons, the home tab.

    mentions.register also installs the middleware that answers Slack's retries of an event only once.
    """
    commands.register(app, slash_command)
    mentions.register(app)
    actions.register(app)
    home.register(app)
