"""Subscriptions from the CLI: the contract's JSON, target checks, updates and removal."""

from __future__ import annotations

import datetime as dt

import pytest

from bot import subscriptions as store
from bot.archive.store import Archive
from bot.errors import InputError
from tests.conftest import CliRunner


def test_add_list_remove(run_cli: CliRunner) -> None:
    assert run_cli("subscriptions", "add", "telegram:-100123").code == 0
    assert run_cli("subscriptions", "add", "email:Reader@Example.org", "--tags", "#VQ,llm").code == 0
    listed = run_cli("subscriptions", "list", "--json").json()["subscriptions"]
    assert [(s["target"], s["kind"], s["tags"], s["status"], s["last_error"]) for s in listed] == [
        ("email:Reader@example.org", "email", ["vq", "llm"], "active", None),
        ("telegram:-100123", "telegram", [], "active", None),
    ]
    assert dt.datetime.fromisoformat(listed[0]["created"]).tzinfo is not None
    assert run_cli("subscriptions", "remove", "telegram:-100123").code == 0
    assert [s["target"] for s in run_cli("subscriptions", "list", "--json").json()["subscriptions"]] == [
        "email:Reader@example.org"
    ]
    missing = run_cli("subscriptions", "remove", "telegram:-100123")
    assert missing.code == 1 and "no subscription for telegram:-100123" in missing.err


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("sms:123", "the kind must be one of telegram, discord, discord-webhook, email"),
        ("telegram:", "give the target after 'telegram:'"),
        ("telegram:chat", "a Telegram target is a chat id"),
        ("telegram:-100123/abc", "a Telegram target is a chat id"),
        ("discord:12", "a Discord target is a channel id"),
        ("email:not-an-address", "An email address must have an @-sign"),
        ("telegram:'; DROP TABLE subscriptions; --", "a Telegram target is a chat id"),
    ],
)
def test_bad_targets_are_refused_clearly(run_cli: CliRunner, address: str, message: str) -> None:
    result = run_cli("subscriptions", "add", address)
    assert result.code == 2 and message in result.err and "Traceback" not in result.err


def test_adding_again_updates_tags_and_reactivates(archive: Archive) -> None:
    first = store.add(archive, "telegram:@paperboy_ml", ["vq"])
    store.set_status(archive, first.id, "gone", "Forbidden: bot was blocked by the user")
    again = store.add(archive, "telegram:@paperboy_ml", ["llm", "#LLM"])
    assert (again.id, again.tags, again.status, again.last_error) == (first.id, ("llm",), "active", None)
    assert again.created == first.created  # when it started does not move
    assert again.wants(("llm", "x")) and not again.wants(("vq",))
    with pytest.raises(InputError):
        store.add(archive, "telegram:@paperboy_ml", ["not a tag!"])


def test_topics_channels_and_chats_are_targets(archive: Archive) -> None:
    for address in ("telegram:-1001234567890/45", "telegram:@paperboy_ml", "discord:123456789012345678"):
        assert store.add(archive, address).address == address
