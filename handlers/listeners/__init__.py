"""The listeners, by kind: the slash command, events (mentions, direct messages), buttons, the home tab.

`register_listeners` is the one place they are registered.
"""

from __future__ import annotations

from slack_bolt import App
from slack_sdk import WebClient

from bot.stores.types import Question
from handlers.context import Dependencies
from handlers.listeners import actions, commands, events, home


def register_listeners(app: App, slash_command: str) -> None:
    """Every listener: the slash command, events (mentions, direct messages), buttons, the home tab.

    events.register also installs the middleware that answers Slack's retries of an event only once.
    """
    commands.register(app, slash_command)
    events.register(app)
    actions.register(app)
    home.register(app)


def reply_for(question: Question, dependencies: Dependencies, client: WebClient) -> dict:
    """The reply to a recorded question of either kind (what a worker answering it later sends)."""
    if question.kind == "command":
        return commands.command_reply(question, dependencies, client)
    return events.mention_reply(question.text, dependencies)
