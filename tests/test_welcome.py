"""A new subscriber gets the latest digest at once (no back issues beyond it), exactly once."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from bot import subscriptions as store
from bot.archive.store import Archive
from bot.config import Settings
from bot.errors import InputError
from tests.conftest import CliRunner
from tests.fakes import RecordingChannel
from tests.test_cli_publish import seeded_cli  # noqa: F401  (a fixture)
from tests.test_publish import DAY, LONG_AGO, Clock, make
from tests.test_service import SEOUL, service

LATER = dt.datetime(2024, 7, 20, 12, 0, tzinfo=dt.UTC)  # after every seed day's publish time


def test_a_new_subscriber_gets_the_latest_day_it_wants_once(seeded: Archive, tmp_path: Path) -> None:
    channel = RecordingChannel()
    publisher = make(seeded, tmp_path, {"telegram": channel}, clock=Clock(LATER))
    store.add(seeded, "telegram:-1", now=LONG_AGO)
    for day in (dt.date(2024, 6, 18), DAY):
        asyncio.run(publisher.publish(day))
    assert len(channel.sent) == 2

    newcomer = store.add(seeded, "telegram:-2", now=LATER)
    assert publisher.welcome(newcomer) == DAY
    assert publisher.welcome(newcomer) is None  # a repeated /subscribe queues nothing more
    asyncio.run(publisher.deliver())
    assert [target for target, _ in channel.sent].count("-2") == 1
    assert channel.sent[-1][1][0] == "PaliGemma: A versatile 3B VLM for transfer"

    # Its tags choose the day: the latest day with a #llm paper, and only those papers.
    llm = store.add(seeded, "telegram:-3", ("llm",), now=LATER)
    day = publisher.welcome(llm)
    assert day == dt.date(2024, 6, 18)
    asyncio.run(publisher.deliver())
    titles = channel.sent[-1][1]
    assert channel.sent[-1][0] == "-3" and titles
    assert all("llm" in p.tags for p in publisher.contents(day) if p.title in titles)


def test_nothing_published_yet_means_nothing_to_welcome(seeded: Archive, tmp_path: Path) -> None:
    publisher = make(seeded, tmp_path, {"telegram": RecordingChannel()}, clock=Clock(LATER))
    assert publisher.welcome(store.add(seeded, "telegram:-9", now=LATER)) is None
    assert publisher.ledger.pending_count() == 0


@pytest.mark.parametrize("send_latest", [True, False])
def test_the_service_welcomes_chat_subscribers_per_the_setting(
    seeded: Archive, tmp_path: Path, send_latest: bool
) -> None:
    clock = Clock(dt.datetime(2024, 7, 11, 10, 0, tzinfo=SEOUL))
    svc, _ = service(seeded, tmp_path, clock, send_latest=send_latest)
    asyncio.run(svc.publisher.publish(DAY))
    sub = store.add(seeded, "telegram:-5", now=clock())
    assert asyncio.run(svc.subscribed(sub)) == (DAY if send_latest else None)
    assert svc.publisher.ledger.pending_count() == (1 if send_latest else 0)


def test_send_latest_setting_is_validated() -> None:
    assert Settings.from_env({}).send_latest is True
    assert Settings.from_env({"PAPERBOY_SEND_LATEST": "off"}).send_latest is False
    with pytest.raises(InputError, match="PAPERBOY_SEND_LATEST is 'sometimes': give on or off"):
        Settings.from_env({"PAPERBOY_SEND_LATEST": "sometimes"})


def test_cli_add_send_latest_queues_the_latest_digest(seeded_cli: CliRunner) -> None:  # noqa: F811
    assert seeded_cli("publish", "2024-07-11").code == 0
    plain = seeded_cli("subscriptions", "add", "discord:123456789012345678")
    assert plain.code == 0 and "latest digest" not in plain.out
    welcomed = seeded_cli("subscriptions", "add", "telegram:-100123", "--send-latest")
    assert welcomed.code == 0, welcomed.err
    assert "latest digest: 2024-07-11 queued (the telegram channel is off in this process)" in welcomed.out
    listed = seeded_cli("deliveries", "list", "--json").json()["deliveries"]
    assert [(d["target"], d["date"], d["status"]) for d in listed] == [
        ("telegram:-100123", "2024-07-11", "pending")
    ]
    again = seeded_cli("subscriptions", "add", "telegram:-100123", "--send-latest")
    assert "latest digest: none to send" in again.out
