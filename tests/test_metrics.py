"""``/metrics`` read with prometheus-client's own parser, against what real ``paperboy publish``
processes did to the Telegram and Discord stand-ins; and the counting directory's start rule."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from bot import metrics
from bot import subscriptions as store
from bot.archive.schema import publications
from bot.archive.store import Archive, open_archive
from bot.channels.web.app import make_app
from bot.channels.web.metrics import metrics_routes
from bot.channels.web.server import start
from bot.config import Settings
from tests.conftest import ingest_seeds
from tests.discord_standin import DiscordStandIn
from tests.telegram_standin import TelegramStandIn
from tests.test_publish import LONG_AGO
from tests.test_service import free_port

TOKEN = "metrics-token-" + "k" * 24
ADA, BOB = 42, 7
GUILD = 1_100_000_000_000_000_001
NEWS = 1_200_000_000_000_000_001

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def counting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """This process counts in a directory, as a running web process does: alive, so the
    publishes it starts add to its directory instead of wiping it."""
    folder = tmp_path / "metrics"
    monkeypatch.setenv(metrics.ENV, "")  # restored after the test, whatever count_in sets
    metrics.count_in(folder)
    yield folder
    metrics.count_in(None)


def samples(text: str) -> Samples:
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def publish_env(db: str, tmp_path: Path, folder: Path, **settings: str) -> dict[str, str]:
    return {
        **os.environ,
        "PAPERBOY_DATABASE_URL": db,
        "PAPERBOY_SITE_DIR": str(tmp_path / "site"),
        "PAPERBOY_METRICS_TOKEN": TOKEN,
        "PAPERBOY_METRICS_DIR": str(folder),
        **settings,
    }


async def publish(env: dict[str, str], day: str, cwd: Path) -> None:
    """``paperboy publish DAY`` in a process of its own, as an operator runs it."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "publish", day, "--json",
        env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()
    assert TOKEN not in out.decode() + err.decode()


async def scrape(archive: Archive, tmp_path: Path) -> tuple[Samples, list[int]]:
    """/metrics over real HTTP from the web app, after a refused scrape and a page request."""
    settings = Settings.from_env({"PAPERBOY_SITE_DIR": str(tmp_path / "site"), "PAPERBOY_DATA_DIR": "."})
    server = await start(make_app(settings, archive, metrics_routes(archive, TOKEN)), "127.0.0.1", 0)
    try:
        async with httpx.AsyncClient(base_url=server.url) as http:
            statuses = [
                (await http.get("/metrics")).status_code,
                (await http.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code,
                (await http.get("/days/2024-07-11.html")).status_code,
            ]
            answer = await http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
            assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
            return samples(answer.text), statuses
    finally:
        await server.stop()


def test_metrics_count_what_two_publish_processes_did_to_telegram(tmp_path: Path, counting: Path) -> None:
    db = f"sqlite:///{tmp_path}/metrics.db"
    with open_archive(db) as archive:
        ingest_seeds(archive)
        for chat in (ADA, BOB):
            store.add(archive, f"telegram:{chat}", now=LONG_AGO)

        async def main() -> tuple[Samples, list[int], TelegramStandIn]:
            async with TelegramStandIn() as api:
                api.add_user(ADA, "Ada")
                api.add_user(BOB, "Bob")
                api.fail(BOB, seconds=1, times=1)  # a 429 asking for one second
                env = publish_env(
                    db,
                    tmp_path,
                    counting,
                    PAPERBOY_TELEGRAM_TOKEN=api.token,
                    PAPERBOY_TELEGRAM_API_URL=api.base_url,
                )
                await publish(env, "2024-07-11", tmp_path)  # one process
                await publish(env, "2024-06-18", tmp_path)  # another: their counts add up
                found, statuses = await scrape(archive, tmp_path)
                return found, statuses, api

        found, statuses, api = asyncio.run(main())
        with archive.engine.connect() as conn:
            first_published = conn.execute(select(func.max(publications.c.created))).scalar()

    assert statuses == [401, 401, 200]
    assert {m.chat_id for m in api.messages_in(ADA) + api.messages_in(BOB)} == {ADA, BOB}
    # Two days to two chats: four deliveries, across two processes, each counted once.
    assert value(found, "paperboy_deliveries_total", channel="telegram", outcome="sent") == 4
    assert value(found, "paperboy_deliveries_total", channel="telegram", outcome="failed") == 0
    assert value(found, "paperboy_rate_limited_total", channel="telegram") == 1
    assert value(found, "paperboy_retry_after_seconds_total", channel="telegram") == 1.0
    assert value(found, "paperboy_send_duration_seconds_count", channel="telegram") == 4
    # The delivery that met the 429 waited its second: the latency says so.
    assert value(found, "paperboy_send_duration_seconds_sum", channel="telegram") >= 1.0
    assert value(found, "paperboy_publish_duration_seconds_count") == 2
    for status in ("pending", "waiting", "sending", "failed"):
        assert ("paperboy_ledger_backlog", frozenset({("status", status)})) in found
        assert value(found, "paperboy_ledger_backlog", status=status) == 0
    assert first_published is not None
    if first_published.tzinfo is None:  # SQLite keeps UTC without its zone
        first_published = first_published.replace(tzinfo=dt.UTC)
    assert abs(value(found, "paperboy_last_publish_timestamp_seconds") - first_published.timestamp()) < 1
    # Requests by route template, never by raw path.
    assert value(found, "paperboy_web_requests_total", route="/metrics", status="401") == 2
    assert value(found, "paperboy_web_requests_total", route="/{path}", status="200") == 1
    assert not [key for key in found if ("route", "/days/2024-07-11.html") in key[1]]


def test_a_discord_429_shows_in_the_counters_and_a_waiting_delivery_in_the_backlog(
    tmp_path: Path, counting: Path
) -> None:
    db = f"sqlite:///{tmp_path}/metrics.db"
    with open_archive(db) as archive:
        ingest_seeds(archive)
        store.add(archive, f"discord:{NEWS}", now=LONG_AGO)
        store.add(archive, "telegram:-100999", now=LONG_AGO)  # telegram is off: it waits

        async def main() -> tuple[Samples, DiscordStandIn]:
            async with DiscordStandIn() as api:
                api.add_guild(GUILD, "ML papers")
                api.add_channel(NEWS, GUILD, "text", name="papers")
                api.fail(NEWS, retry_after=2.0)  # discord.py waits this one out itself
                env = publish_env(
                    db,
                    tmp_path,
                    counting,
                    PAPERBOY_DISCORD_TOKEN=api.token,
                    PAPERBOY_DISCORD_API_URL=api.base,
                )
                await publish(env, "2024-07-11", tmp_path)
                found, _ = await scrape(archive, tmp_path)
                return found, api

        found, api = asyncio.run(main())

    assert api.messages_in(NEWS)
    assert value(found, "paperboy_deliveries_total", channel="discord", outcome="sent") == 1
    assert value(found, "paperboy_rate_limited_total", channel="discord") == 1
    assert value(found, "paperboy_retry_after_seconds_total", channel="discord") == 2.0
    assert value(found, "paperboy_send_duration_seconds_sum", channel="discord") >= 2.0
    assert value(found, "paperboy_ledger_backlog", status="pending") == 1  # the telegram one


def test_metrics_is_not_there_without_a_token(tmp_path: Path) -> None:
    with open_archive(f"sqlite:///{tmp_path}/off.db") as archive:
        assert metrics_routes(archive, None) == []


def test_a_new_run_wipes_the_counts_of_the_last_but_not_of_a_live_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    monkeypatch.setenv(metrics.ENV, "")
    dead = subprocess.Popen([sys.executable, "-c", "import os; print(os.getpid())"], stdout=subprocess.PIPE)
    dead_pid = int(dead.communicate()[0])
    (folder / f"process_{dead_pid}.live").touch()
    (folder / f"counter_{dead_pid}.db").write_bytes(b"old run")
    try:
        metrics.count_in(folder)  # the first of a new run: the old counts go
        assert not (folder / f"counter_{dead_pid}.db").exists()
        assert (folder / f"process_{os.getpid()}.live").exists()
        live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
        try:
            (folder / f"process_{live.pid}.live").touch()
            (folder / f"counter_{live.pid}.db").write_bytes(b"this run")
            metrics.count_in(folder)  # another process of the same run: nothing is lost
            assert (folder / f"counter_{live.pid}.db").exists()
        finally:
            live.kill()
            live.wait()
    finally:
        metrics.count_in(None)


def test_paperboy_serve_answers_metrics_and_logs_json_lines(tmp_path: Path) -> None:
    """``paperboy serve`` as the Procfile's web process runs it, with the JSON log."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PAPERBOY_", "PROMETHEUS_"))},
        "PAPERBOY_DATABASE_URL": f"sqlite:///{tmp_path}/serve.db",
        "PAPERBOY_DATA_DIR": str(tmp_path / "data"),
        "PAPERBOY_PORT": str(port),
        "PAPERBOY_LOG_FORMAT": "json",
        "PAPERBOY_METRICS_TOKEN": TOKEN,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"], env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True
    )
    try:
        found: Samples = {}
        for _ in range(300):
            try:
                answer = httpx.get(
                    f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
                )
            except httpx.TransportError:
                time.sleep(0.1)
                continue
            found = samples(answer.text)
            break
        assert httpx.get(f"http://127.0.0.1:{port}/metrics").status_code == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert value(found, "paperboy_ledger_backlog", status="pending") == 0
    assert ("paperboy_ledger_backlog", frozenset({("status", "failed")})) in found
    records = [json.loads(line) for line in err.splitlines()]  # every line is an object
    assert any(r["message"].startswith("serving ") for r in records)
    assert TOKEN not in err
    assert (tmp_path / "data" / "metrics" / f"process_{proc.pid}.live").exists()


def test_the_backlog_counts_each_unfinished_state_on_both_databases(archive: Archive) -> None:
    from bot.archive.backlog import backlog
    from scheduler.ledger import Ledger

    now = dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC)
    subs = [store.add(archive, f"telegram:{1000 + n}", now=LONG_AGO) for n in range(6)]
    ledger = Ledger(archive, "test", clock=lambda: now)
    assert ledger.open(dt.date(2024, 7, 11), subs) == 6
    claimed = ledger.claim(["telegram"], 4)  # four sending, two pending
    ledger.sent_many([(claimed[0].id, ["1"], 0)])
    ledger.failed(claimed[1].id, "Permanent: refused")
    ledger.retry_at(claimed[2].id, now + dt.timedelta(minutes=5), "rate limited")
    assert backlog(archive, now) == {"pending": 2, "waiting": 1, "sending": 1, "failed": 1}
    # Once its time has come, a retry is due now: pending, not waiting.
    later = now + dt.timedelta(minutes=6)
    assert backlog(archive, later) == {"pending": 3, "waiting": 0, "sending": 1, "failed": 1}
