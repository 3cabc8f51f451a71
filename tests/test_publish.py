"""Publishing through the ledger: each subscriber once, filtered by tags, retried as the
platform asks, and never held up by another target's failure (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot import subscriptions as store
from bot.archive import queries
from bot.archive.parsers import ParseOptions, parse_file
from bot.archive.store import Archive
from bot.channels.base import Misconfigured, Permanent, RetryAfter, TargetGone, Transient
from bot.config import Settings
from scheduler.publish import Publisher
from tests.conftest import SEED_FILES, TODAY
from tests.fakes import RecordingChannel, ScriptedChannel

LONG_AGO = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
DAY = dt.date(2024, 7, 11)


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make(archive: Archive, tmp_path: Path, channels: dict[str, Any], **kwargs: Any) -> Publisher:
    settings = replace(
        Settings.from_env({}), site_dir=tmp_path / "site", database_url="unused", data_dir=tmp_path
    )
    kwargs.setdefault("sleep", Sleeps())
    return Publisher(archive, settings, channels, worker="test-worker", **kwargs)


def subscribe(archive: Archive, *addresses: str, tags: tuple[str, ...] = ()) -> None:
    for address in addresses:
        store.add(archive, address, tags, now=LONG_AGO)


def test_each_subscriber_gets_the_day_once(seeded: Archive, tmp_path: Path) -> None:
    subscribe(seeded, "telegram:-1001", "telegram:-1002", "telegram:@paperboy_ml")
    channel = RecordingChannel()
    publisher = make(seeded, tmp_path, {"telegram": channel})
    report = asyncio.run(publisher.publish(DAY))
    assert (report.source, report.papers, report.audience, report.opened) == ("digest", 6, 3, 3)
    assert report.fanout and report.fanout.sent == 3
    assert sorted(target for target, _ in channel.sent) == ["-1001", "-1002", "@paperboy_ml"]
    assert channel.sent[0][1][0] == "PaliGemma: A versatile 3B VLM for transfer"
    assert (tmp_path / "site" / "days" / "2024-07-11.html").exists()
    again = asyncio.run(make(seeded, tmp_path, {"telegram": channel}).publish(DAY))
    assert again.opened == 0 and again.fanout and again.fanout.sent == 0
    assert len(channel.sent) == 3
    rows = publisher.ledger.listing(day=DAY)
    assert {row.status for row in rows} == {"sent"} and all(row.message_ids for row in rows)


def test_tag_subscribers_get_only_their_papers_and_only_their_days(seeded: Archive, tmp_path: Path) -> None:
    subscribe(seeded, "telegram:-2001", tags=("vq",))
    subscribe(seeded, "telegram:-2002", tags=("llm",))
    channel = RecordingChannel()
    for day in (DAY, dt.date(2024, 6, 18)):
        asyncio.run(make(seeded, tmp_path, {"telegram": channel}).publish(day))
    got = {(target, titles) for target, titles in channel.sent}
    assert got == {
        ("-2001", ("MARS: Mixture of Auto-Regressive Models for Fine-grained Text-to-image Synthesis",)),
        ("-2001", ("Scaling the Codebook Size of VQGAN to 100,000 with a Utilization Rate of 99%",)),
        (
            "-2002",
            (
                "Nemotron-4 340B Technical Report",
                "DeepSeek-Coder-V2: Breaking the Barrier of Closed-Source Models in Code Intelligence",
            ),
        ),
    }


def test_a_later_subscriber_gets_no_back_issues(seeded: Archive, tmp_path: Path) -> None:
    store.add(seeded, "telegram:-3001", now=dt.datetime(2024, 7, 11, 1, 0, tzinfo=dt.UTC))  # 10:00 in Seoul
    store.add(seeded, "telegram:-3002", now=dt.datetime(2024, 7, 10, 23, 59, tzinfo=dt.UTC))  # 08:59 in Seoul
    channel = RecordingChannel()
    assert asyncio.run(make(seeded, tmp_path, {"telegram": channel}).publish(DAY)).audience == 1
    assert [target for target, _ in channel.sent] == ["-3002"]


def test_a_day_without_a_digest_takes_the_next_queued_papers(seeded: Archive, tmp_path: Path) -> None:
    subscribe(seeded, "telegram:-4001")
    channel = RecordingChannel()
    quiet = dt.date(2025, 1, 2)
    report = asyncio.run(make(seeded, tmp_path, {"telegram": channel}).publish(quiet))
    assert (report.source, report.papers) == ("queue", 3)
    assert channel.sent == [("-4001", ("u-μP", "Divergent Token metrics (DTMs)", "MultiFusion"))]
    assert [p.title for p in queries.queue(seeded)] == ["M-VADER", "MAGMA"]
    # Re-ingesting the abstracts does not put them back; the day keeps the same papers.
    seeded.ingest(parse_file(SEED_FILES[0], ParseOptions(today=TODAY)))
    seeded.ingest(replace(parse_file(SEED_FILES[0], ParseOptions(today=TODAY)), source="copy.txt"))
    assert [p.title for p in queries.queue(seeded)] == ["M-VADER", "MAGMA"]
    assert asyncio.run(make(seeded, tmp_path, {"telegram": channel}).publish(quiet)).opened == 0
    assert queries.find_paper(seeded, "multifusion").date == quiet
    nothing = asyncio.run(
        make(
            seeded,
            tmp_path,
            {"telegram": channel},
        ).publish(dt.date(2025, 1, 3))
    )
    assert nothing.papers == 2  # the last two; then the queue is empty
    empty = asyncio.run(make(seeded, tmp_path, {"telegram": channel}).publish(dt.date(2025, 1, 4)))
    assert (empty.source, empty.papers, empty.opened) == ("nothing", 0, 0)


def test_retry_after_is_honoured_exactly_then_the_send_succeeds(seeded: Archive, tmp_path: Path) -> None:
    subscribe(seeded, "telegram:-5001", "telegram:-5002")
    channel = ScriptedChannel({"-5001": [RetryAfter(3), RetryAfter(3), RetryAfter(7)]})
    sleeps = Sleeps()
    report = asyncio.run(make(seeded, tmp_path, {"telegram": channel}, sleep=sleeps).publish(DAY))
    assert report.fanout and report.fanout.sent == 2
    assert sleeps == [3.0, 3.0, 7.0]
    assert channel.calls["-5001"] == 4
    row = next(
        r for r in make(seeded, tmp_path, {}).ledger.listing(day=DAY) if r.subscription.target == "-5001"
    )
    assert (row.status, row.attempts) == ("sent", 1)


def test_transient_failures_back_off_then_fail_without_holding_up_others(
    seeded: Archive, tmp_path: Path
) -> None:
    subscribe(seeded, "telegram:-6001", "telegram:-6002", "telegram:-6003")
    channel = ScriptedChannel({"-6002": [Transient("timed out")]}, always=True)
    sleeps = Sleeps()
    publisher = make(seeded, tmp_path, {"telegram": channel}, sleep=sleeps)
    report = asyncio.run(publisher.publish(DAY))
    assert report.fanout and (report.fanout.sent, report.fanout.failed) == (2, 1)
    assert channel.calls["-6002"] == 5  # max attempts
    assert len(sleeps) == 4 and all(0.5 <= wait <= 30 for wait in sleeps)
    assert sleeps[3] > sleeps[0]  # exponential: 0.5 s, 1 s, 2 s, 4 s, each plus up to 1 s of jitter
    failed = publisher.ledger.listing(status="failed")
    assert [(r.subscription.target, r.last_error) for r in failed] == [("-6002", "Transient: timed out")]
    assert store.get(seeded, "telegram:-6002").last_error == "Transient: timed out"
    # `deliveries retry` resends only the failed one.
    fixed = RecordingChannel()
    retried = make(seeded, tmp_path, {"telegram": fixed})
    assert retried.ledger.retry_failed(DAY) == 1
    assert asyncio.run(retried.deliver()).sent == 1 and [t for t, _ in fixed.sent] == ["-6002"]


def test_gone_targets_retire_and_moved_chats_are_followed(seeded: Archive, tmp_path: Path) -> None:
    subscribe(seeded, "telegram:-7001", "telegram:-7002", "telegram:-7003")
    channel = ScriptedChannel(
        {
            "-7001": [TargetGone("Forbidden: bot was blocked by the user")],
            "-7002": [TargetGone("group chat was upgraded to a supergroup chat", new_target="-1007002")],
        }
    )
    report = asyncio.run(make(seeded, tmp_path, {"telegram": channel}).publish(DAY))
    assert report.fanout and (report.fanout.sent, report.fanout.gone) == (2, 1)
    assert sorted(t for t, _ in channel.sent) == ["-1007002", "-7003"]
    gone = store.get(seeded, "telegram:-7001")
    assert (gone.status, gone.last_error) == ("gone", "Forbidden: bot was blocked by the user")
    assert store.get(seeded, "telegram:-1007002").status == "active"


def test_permanent_failures_and_broken_channels_are_kept_not_raised(seeded: Archive, tmp_path: Path) -> None:
    subscribe(seeded, "telegram:-8001", "telegram:-8002")
    subscribe(seeded, "email:reader@example.org")
    telegram = ScriptedChannel({"-8001": [Permanent("Bad Request: message is too long")]})
    broken = ScriptedChannel(
        {"reader@example.org": [RuntimeError("SMTP client bug")]}, kind="email", always=True
    )
    publisher = make(seeded, tmp_path, {"telegram": telegram, "email": broken})
    report = asyncio.run(publisher.publish(DAY))
    assert report.fanout and (report.fanout.sent, report.fanout.failed) == (1, 2)
    errors = {r.subscription.address: r.last_error for r in publisher.ledger.listing(status="failed")}
    assert errors == {
        "telegram:-8001": "Permanent: Bad Request: message is too long",
        "email:reader@example.org": "RuntimeError: SMTP client bug",
    }


def test_a_setting_refused_at_send_time_stops_its_channel_and_fails_no_one(
    seeded: Archive, tmp_path: Path
) -> None:
    chats = [f"-{8100 + n}" for n in range(50)]
    subscribe(seeded, *(f"telegram:{chat}" for chat in chats))
    subscribe(seeded, "email:reader@example.org")
    refused = Misconfigured("Telegram refused PAPERBOY_TELEGRAM_TOKEN (Unauthorized)")
    telegram = ScriptedChannel({chat: [refused] for chat in chats}, always=True)
    email = RecordingChannel("email")
    publisher = make(seeded, tmp_path, {"telegram": telegram, "email": email})
    report = asyncio.run(publisher.publish(DAY))
    assert report.fanout is not None
    assert report.fanout.stopped == {"telegram": str(refused)}
    assert (report.fanout.sent, report.fanout.failed) == (1, 0)  # email went; nobody failed
    assert [target for target, _ in email.sent] == ["reader@example.org"]
    waiting = [row for row in publisher.ledger.listing() if row.subscription.kind == "telegram"]
    assert [(row.status, row.attempts, row.last_error) for row in waiting] == [("pending", 0, None)] * 50
    assert all(store.get(seeded, f"telegram:{chat}").last_error is None for chat in chats)
    assert 0 < sum(telegram.calls.values()) < 50  # once it knew, it stopped trying the others


def test_a_long_retry_after_is_deferred_to_the_ledger(seeded: Archive, tmp_path: Path) -> None:
    subscribe(seeded, "telegram:-9001")
    channel = ScriptedChannel({"-9001": [RetryAfter(3600)]})
    clock = Clock(dt.datetime(2024, 7, 11, 0, 0, tzinfo=dt.UTC))
    publisher = make(seeded, tmp_path, {"telegram": channel}, clock=clock)
    report = asyncio.run(publisher.publish(DAY))
    assert report.fanout and report.fanout.deferred == 1 and channel.sent == []
    assert publisher.ledger.next_due(["telegram"]) == clock.now + dt.timedelta(hours=1)
    assert asyncio.run(publisher.deliver()).sent == 0  # not yet
    clock.now += dt.timedelta(hours=1, seconds=1)
    assert asyncio.run(publisher.deliver()).sent == 1


def test_dry_run_changes_nothing(seeded: Archive, tmp_path: Path) -> None:
    subscribe(seeded, "telegram:-10001")
    channel = RecordingChannel()
    publisher = make(seeded, tmp_path, {"telegram": channel})
    report = asyncio.run(publisher.publish(dt.date(2025, 1, 2), dry_run=True))
    assert (report.source, report.papers, report.audience, report.dry_run) == ("queue", 3, 1, True)
    assert channel.sent == [] and publisher.ledger.listing() == [] and not (tmp_path / "site").exists()
    assert len(queries.queue(seeded)) == 5


@pytest.mark.parametrize("kinds", [["web"], ["telegram"]])
def test_one_channel_at_a_time(seeded: Archive, tmp_path: Path, kinds: list[str]) -> None:
    subscribe(seeded, "telegram:-11001")
    channel = RecordingChannel()
    report = asyncio.run(make(seeded, tmp_path, {"telegram": channel}).publish(DAY, kinds=kinds))
    assert report.site == (kinds == ["web"])
    assert (tmp_path / "site").exists() == (kinds == ["web"])
    assert len(channel.sent) == (0 if kinds == ["web"] else 1)


def test_the_audience_is_read_and_written_a_page_at_a_time(
    seeded: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Memory stays flat in the number of subscribers: pages of subscriptions, not all of them at
    once; every active one in reach, over every page, once; paused and filtered ones left out."""
    import scheduler.publish

    monkeypatch.setattr(scheduler.publish, "AUDIENCE_PAGE", 2)
    chats = [f"telegram:-10{n}" for n in range(7)]
    subscribe(seeded, *chats)
    subscribe(seeded, "telegram:-2001", tags=("no-such-tag",))
    paused = store.add(seeded, "telegram:-3001", now=LONG_AGO)
    store.set_status(seeded, paused.id, "paused")
    pages = [len(page) for page in store.active_pages(seeded, 2)]
    assert pages == [2, 2, 2, 2]  # eight active, the paused one left out
    channel = RecordingChannel()
    publisher = make(seeded, tmp_path, {"telegram": channel})
    report = asyncio.run(publisher.publish(DAY, dry_run=True))
    assert report.audience == 7 and channel.sent == []
    report = asyncio.run(publisher.publish(DAY))
    assert (report.audience, report.opened) == (7, 7)
    assert sorted(target for target, _ in channel.sent) == sorted(c.split(":")[1] for c in chats)
    assert asyncio.run(publisher.publish(DAY)).opened == 0  # a second publish opens nothing new
