"""Requests as Slack sends them: realistic payloads, signed with the app's signing secret.

Slack signs `v0:{timestamp}:{body}` with HMAC-SHA256 and sends `X-Slack-Signature: v0=<hex>` and
`X-Slack-Request-Timestamp`; Bolt refuses a wrong signature or a timestamp older than five minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from urllib.parse import urlencode

from tests.fakes.slack_api import BOT_ID, BOT_USER_ID, TEAM_ID

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
APP_ID = "A0FAKEAPP1"
USER_ID = "U0PERSON01"
CHANNEL_ID = "C0GENERAL1"
DM_CHANNEL_ID = "D0DIRECT01"
VERIFICATION_TOKEN = "gIkuvaNzQIHg97ATvDxqgjtO"  # deprecated by Slack, still sent

_sequence = itertools.count(1)


def signature(secret: str, timestamp: int, body: str) -> str:
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return f"v0={digest}"


def signed_headers(
    secret: str,
    body: str,
    *,
    content_type: str = FORM,
    timestamp: int | None = None,
    retry_num: int | None = None,
) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": signature(secret, timestamp, body),
    }
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = "http_timeout"
    return headers


def slash_command_body(
    text: str,
    response_url: str,
    *,
    command: str = "/mistral",
    user_id: str = USER_ID,
    channel_id: str = CHANNEL_ID,
) -> str:
    """The form Slack posts for a slash command."""
    return urlencode(
        {
            "token": VERIFICATION_TOKEN,
            "team_id": TEAM_ID,
            "team_domain": "fake-team",
            "channel_id": channel_id,
            "channel_name": "general",
            "user_id": user_id,
            "user_name": "ada",
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": f"{next(_sequence)}.1234567890.abcdef0123456789abcdef0123456789",
        }
    )


def fresh_ts() -> str:
    return f"{int(time.time())}.{next(_sequence):06d}"


def event_body(event: dict, *, event_id: str | None = None) -> str:
    """The JSON Slack posts for an Events API event."""
    return json.dumps(
        {
            "token": VERIFICATION_TOKEN,
            "team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(_sequence):08d}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": TEAM_ID,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-eyJldCI6ImFwcF9tZW50aW9uIn0",
        }
    )


def mention_event(text: str, *, thread_ts: str | None = None, channel: str = CHANNEL_ID) -> dict:
    ts = fresh_ts()
    event = {
        "type": "app_mention",
        "user": USER_ID,
        "text": text,
        "ts": ts,
        "team": TEAM_ID,
        "channel": channel,
        "event_ts": ts,
        "client_msg_id": f"0c1a6b2e-{next(_sequence):04d}-4f5e-9a2b-1c2d3e4f5a6b",
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
        event["parent_user_id"] = USER_ID
    return event


def direct_message_event(text: str, **extra: object) -> dict:
    ts = fresh_ts()
    return {
        "type": "message",
        "channel": DM_CHANNEL_ID,
        "user": USER_ID,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel_type": "im",
        "team": TEAM_ID,
        **extra,
    }


def url_verification_body(challenge: str) -> str:
    return json.dumps({"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"})


def block_actions_body(
    action_id: str,
    value: str,
    response_url: str,
    *,
    is_ephemeral: bool = True,
    label: str = "Button",
    channel_id: str = CHANNEL_ID,
) -> str:
    """The form Slack posts when a button is pressed: `payload=` JSON."""
    ts = fresh_ts()
    payload = {
        "type": "block_actions",
        "user": {"id": USER_ID, "username": "ada", "name": "ada", "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": {
            "type": "message",
            "message_ts": ts,
            "channel_id": channel_id,
            "is_ephemeral": is_ephemeral,
        },
        "trigger_id": f"{next(_sequence)}.1234567890.abcdef0123456789abcdef0123456789",
        "team": {"id": TEAM_ID, "domain": "fake-team"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": "general"},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": "Zq1",
                "text": {"type": "plain_text", "text": label, "emoji": False},
                "value": value,
                "type": "button",
                "action_ts": ts,
            }
        ],
    }
    if not is_ephemeral:
        payload["message"] = {"type": "message", "user": BOT_USER_ID, "ts": ts, "text": "answer"}
    return urlencode({"payload": json.dumps(payload)})


def home_actions_body(action_id: str, value: str, view: dict, *, view_id: str = "V0HOMETAB1") -> str:
    """The form Slack posts when a button of a user's App Home tab is pressed: the container is the
    view (no channel, no message, no response_url) and `view` is the published view as Slack keeps it."""
    ts = fresh_ts()
    pressed = [
        block
        for block in view.get("blocks", [])
        if (block.get("accessory") or {}).get("action_id") == action_id
        and block["accessory"].get("value") == value
    ]
    assert pressed, f"no {action_id} button with value {value!r} in the view"
    button = pressed[0]["accessory"]
    payload = {
        "type": "block_actions",
        "user": {"id": USER_ID, "username": "ada", "name": "ada", "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": {"type": "view", "view_id": view_id},
        "trigger_id": f"{next(_sequence)}.1234567890.abcdef0123456789abcdef0123456789",
        "team": {"id": TEAM_ID, "domain": "fake-team"},
        "enterprise": None,
        "is_enterprise_install": False,
        "view": {
            "id": view_id,
            "team_id": TEAM_ID,
            "type": "home",
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.abcdef01",
            "title": {"type": "plain_text", "text": "View Title", "emoji": True},
            "clear_on_close": False,
            "notify_on_close": False,
            "close": None,
            "submit": None,
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": APP_ID,
            "external_id": "",
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
        },
        "actions": [
            {
                "action_id": action_id,
                "block_id": pressed[0].get("block_id", "Zq2"),
                "text": button.get("text", {"type": "plain_text", "text": "Button"}),
                "value": value,
                "type": "button",
                "action_ts": ts,
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})
