"""End to end through the served app: the App Home tab opened, published and checked against Block Kit;
its buttons remove a watch or stop a digest and publish it again."""

from __future__ import annotations

import json

import pytest
from slack_sdk.models.views import View

from handlers.blocks.home import HOME_DIGEST_OFF_ACTION, HOME_UNWATCH_ACTION, unwatch_value
from tests.e2e.test_serving_watches import OTHER, TEAM, ask
from tests.fakes.signing import USER_ID, block_actions_body, home_actions_body
from tests.handlers.block_checks import assert_no_broadcast, assert_valid_block
from tests.served import served_app

NOT_MINE = "C0NOTMINE1"


@pytest.fixture
def served(fake_slack, articles_dir, tmp_path):
    with served_app(fake_slack, articles_dir, f"sqlite:///{tmp_path / 'store.db'}") as app:
        yield app


def open_home(app) -> dict:
    count = len(app.slack.calls_to("views.publish"))
    assert (
        app.event({"type": "app_home_opened", "user": USER_ID, "channel": "D0HOME0001", "tab": "home"}) == 200
    )
    return app.slack.wait_for("views.publish", count + 1)[count]


def check_view(published: dict) -> dict:
    view = published["view"]
    View(**view).validate_json()
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    for block in view["blocks"]:
        assert_valid_block(block)
    assert_no_broadcast(view)
    return view


def buttons(view: dict) -> list[tuple[str, str]]:
    return [
        (b["accessory"]["action_id"], b["accessory"]["value"]) for b in view["blocks"] if b.get("accessory")
    ]


def test_the_home_tab_shows_stories_and_the_user_channels_watches_and_digests(served):
    ask(served, "watch le chat")
    ask(served, "digest daily 08:30")
    ask(served, "watch <!here> funding", channel=OTHER)
    ask(served, "watch robots", channel=NOT_MINE)  # a channel the user is not in: not shown
    served.slack.memberships[USER_ID] = [TEAM, OTHER]
    published = open_home(served)
    assert published["user_id"] == USER_ID
    view = check_view(published)
    text = json.dumps(view, ensure_ascii=False)
    assert "Newest stories" in text and "Microsoft" in text
    assert f"<#{TEAM}>" in text and f"<#{OTHER}>" in text and NOT_MINE not in text
    assert (HOME_DIGEST_OFF_ACTION, TEAM) in buttons(view)
    assert (HOME_UNWATCH_ACTION, unwatch_value(TEAM, "le chat")) in buttons(view)
    assert (HOME_UNWATCH_ACTION, unwatch_value(OTHER, "funding")) in buttons(view)


def test_home_buttons_remove_a_watch_and_stop_a_digest(served):
    ask(served, "watch le chat")
    ask(served, "digest daily 08:30")
    served.slack.memberships[USER_ID] = [TEAM]
    open_home(served)
    for action_id, value in (
        (HOME_UNWATCH_ACTION, unwatch_value(TEAM, "le chat")),
        (HOME_DIGEST_OFF_ACTION, TEAM),
    ):
        count = len(served.slack.calls_to("views.publish"))
        assert served.post(block_actions_body(action_id, value, served.slack.response_url("home")))[0] == 200
        check_view(served.slack.wait_for("views.publish", count + 1)[count])
    view = check_view(served.slack.calls_to("views.publish")[-1])
    assert buttons(view) == []
    assert "gets no digest" in ask(served, "digest")["text"]
    assert "nothing yet" in ask(served, "watches")["text"]


def test_stop_digest_pressed_on_the_home_tab_turns_the_digest_off_and_publishes_the_tab_again(served):
    """As Slack sends it: the tab opened (a signed event), then its button pressed (a signed
    block_actions payload whose container is the home view: no channel, no response_url)."""
    ask(served, "digest daily 08:30")
    served.slack.memberships[USER_ID] = [TEAM]
    channels = served.app.news.channel_news.channels
    assert [d.channel for d in channels.digests()] == [TEAM]
    view = check_view(open_home(served))
    count = len(served.slack.calls_to("views.publish"))
    status, _ = served.post(home_actions_body(HOME_DIGEST_OFF_ACTION, TEAM, view))
    assert status == 200
    republished = served.slack.wait_for("views.publish", count + 1)[count]
    assert republished["user_id"] == USER_ID
    assert channels.digests() == []
    assert (HOME_DIGEST_OFF_ACTION, TEAM) not in buttons(check_view(republished))
