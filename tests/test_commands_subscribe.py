"""/subscribe, /unsubscribe and /settings for a chat, on SQLite and PostgreSQL: the whole flow,
who may change a subscription, and subscribing again."""

from __future__ import annotations

import datetime as dt

import pytest

from bot import subscriptions
from bot.archive.store import Archive
from bot.commands import (
    ChatSettings,
    Error,
    NotSubscribed,
    Refused,
    Subscribed,
    Unsubscribed,
    answer,
)
from bot.commands.subscribe import ADMIN_ONLY, MAX_TAGS, NO_CHAT

CHAT = "telegram:-100123"
NOW = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)


def subscribed(reply: object) -> Subscribed:
    assert isinstance(reply, Subscribed), reply
    return reply


def settings_of(archive: Archive, chat: str = CHAT) -> ChatSettings:
    reply = answer(archive, "settings", "", chat=chat)
    assert isinstance(reply, ChatSettings)
    return reply


def test_subscribe_change_and_unsubscribe(seeded: Archive) -> None:
    assert settings_of(seeded).subscription is None
    assert "no subscription" in settings_of(seeded).text

    new = subscribed(answer(seeded, "subscribe", "#VQ", chat=CHAT, is_admin=True, now=NOW))
    assert (new.change, new.subscription.tags, new.subscription.address, new.previous) == (
        "new",
        ("vq",),
        CHAT,
        None,
    )
    assert new.subscription.created == NOW and new.text.startswith("Subscribed") and "#vq" in new.text

    again = subscribed(answer(seeded, "subscribe", "vq", chat=CHAT, is_admin=True))
    assert (again.change, again.subscription.id) == ("already", new.subscription.id)

    updated = subscribed(answer(seeded, "subscribe", "llm, #VQ", chat=CHAT, is_admin=True))
    assert (updated.change, updated.subscription.tags) == ("updated", ("llm", "vq"))
    assert updated.previous is not None and updated.previous.tags == ("vq",)
    assert settings_of(seeded).subscription == updated.subscription

    everything = subscribed(answer(seeded, "subscribe", "", chat=CHAT, is_admin=True))
    assert (everything.change, everything.subscription.tags) == ("updated", ())
    assert "every paper" in everything.text

    gone = answer(seeded, "unsubscribe", "", chat=CHAT, is_admin=True)
    assert isinstance(gone, Unsubscribed) and gone.subscription.id == new.subscription.id
    assert settings_of(seeded).subscription is None
    assert answer(seeded, "unsubscribe", "", chat=CHAT, is_admin=True) == NotSubscribed(CHAT)


def test_a_retired_subscription_is_resumed_by_subscribing_again(seeded: Archive) -> None:
    first = subscribed(answer(seeded, "subscribe", "vq", chat=CHAT, is_admin=True)).subscription
    subscriptions.set_status(seeded, first.id, "gone", "Forbidden: bot was kicked from the group chat")
    assert "stopped after failed deliveries" in settings_of(seeded).text
    back = subscribed(answer(seeded, "subscribe", "vq", chat=CHAT, is_admin=True))
    assert (back.change, back.subscription.status, back.subscription.last_error) == (
        "reactivated",
        "active",
        None,
    )
    assert back.subscription.created == first.created and back.text.startswith("Subscription resumed")


def test_only_administrators_change_a_subscription(seeded: Archive) -> None:
    refused = answer(seeded, "subscribe", "vq", chat=CHAT, is_admin=False)
    assert refused == Refused(ADMIN_ONLY)
    assert settings_of(seeded).subscription is None  # nothing was stored
    answer(seeded, "subscribe", "vq", chat=CHAT, is_admin=True)
    assert answer(seeded, "unsubscribe", "", chat=CHAT) == Refused(ADMIN_ONLY)
    assert answer(seeded, "subscribe", "llm", chat=CHAT) == Refused(ADMIN_ONLY)
    kept = settings_of(seeded).subscription  # and any member may read the settings
    assert kept is not None and kept.tags == ("vq",)


def test_each_chat_has_its_own_subscription(seeded: Archive) -> None:
    other = "discord:123456789012345678"
    answer(seeded, "subscribe", "vq", chat=CHAT, is_admin=True)
    answer(seeded, "subscribe", "llm", chat=other, is_admin=True)
    answer(seeded, "unsubscribe", "", chat=CHAT, is_admin=True)
    assert settings_of(seeded).subscription is None
    kept = settings_of(seeded, other).subscription
    assert kept is not None and (kept.kind, kept.tags) == ("discord", ("llm",))


def test_tags_no_paper_has_are_kept_but_named(seeded: Archive) -> None:
    reply = subscribed(answer(seeded, "subscribe", "vq difusion", chat=CHAT, is_admin=True))
    assert reply.subscription.tags == ("vq", "difusion") and reply.unknown_tags == ("difusion",)
    assert "No paper is tagged #difusion yet" in reply.text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ("<b>vq</b>", "is not a tag"),
        ("vq '; DROP TABLE subscriptions; --", "is not a tag"),
        (" ".join(f"t{n}" for n in range(MAX_TAGS + 1)), f"at most {MAX_TAGS}"),
        ("x" * 201, "at most 200"),
    ],
)
def test_bad_tags_are_refused_and_nothing_changes(seeded: Archive, args: str, message: str) -> None:
    answer(seeded, "subscribe", "llm", chat=CHAT, is_admin=True)
    reply = answer(seeded, "subscribe", args, chat=CHAT, is_admin=True)
    assert isinstance(reply, Error) and message in reply.text and reply.usage and "/subscribe" in reply.usage
    kept = settings_of(seeded).subscription
    assert kept is not None and kept.tags == ("llm",)


@pytest.mark.parametrize("command", ["subscribe", "unsubscribe", "settings"])
def test_a_command_outside_a_chat_says_so(seeded: Archive, command: str) -> None:
    reply = answer(seeded, command, "", chat=None, is_admin=True)
    assert isinstance(reply, Error) and reply.text == NO_CHAT
