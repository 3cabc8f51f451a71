"""``paperboy run`` with a Telegram token, against the stand-in: it answers commands, publishes
the day to subscribed chats and welcomes a new one; and the webhook mode, with its secret."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from bot import subscriptions as store
from bot.archive import queries
from bot.archive.store import Archive, open_archive
from bot.channels.telegram.bot import SECRET_HEADER, TelegramBot, from_env
from bot.channels.web.app import make_app
from bot.channels.web.server import start
from bot.config import Settings
from bot.desk import drafts
from bot.errors import InputError
from tests.conftest import CliRunner, run_env
from tests.desk_posts import NEW_DAY, NEW_DAY_TEXT, TYPO_TITLE
from tests.telegram_standin import TelegramStandIn
from tests.test_publish import LONG_AGO
from tests.test_service import free_port

ADA, BOB, MALLORY = 42, 7, 666


def test_paperboy_run_answers_and_publishes_through_the_bot_api(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/run.db"
    with open_archive(db) as archive:
        store.add(archive, f"telegram:{BOB}", now=LONG_AGO)  # subscribed long before today

    async def main() -> TelegramStandIn:
        async with TelegramStandIn() as api:
            api.add_user(ADA, "Ada")
            api.add_user(BOB, "Bob")
            env = run_env(
                db, tmp_path, PAPERBOY_TELEGRAM_TOKEN=api.token, PAPERBOY_TELEGRAM_API_URL=api.base_url
            )
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", "--no-web",
                env=env, cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
            try:
                digest = await api.next_sent(BOB, timeout=60)  # today's papers, from the queue
                assert digest.plain.startswith("📰 Paperboy ·")
                api.user_says(ADA, ADA, "/tag vq")
                reply = await api.next_sent(ADA, timeout=30)
                assert "Scaling the Codebook Size of VQGAN" in reply.plain
                api.user_says(ADA, ADA, "/subscribe")
                assert "Subscribed" in (await api.next_sent(ADA, timeout=30)).plain
                welcome = await api.next_sent(ADA, timeout=60)  # the latest digest, at once
                assert welcome.plain == digest.plain
            finally:
                proc.send_signal(signal.SIGTERM)
                output, _ = await asyncio.wait_for(proc.communicate(), 60)
            log = output.decode()
            assert proc.returncode == 0, log
            assert "telegram bot @paperboy_test_bot is polling" in log
            assert api.token not in log  # the secret never reaches the log
            return api

    api = asyncio.run(main())
    assert len({m.text for m in api.messages_in(BOB)}) == len(api.messages_in(BOB))  # nothing twice


def test_a_curator_posts_previews_and_publishes_through_paperboy_run(tmp_path: Path) -> None:
    """The desk inside the service: a curator's file, its preview, "Publish now", and a subscriber
    getting the day exactly as the preview showed it; someone else refused."""
    db = f"sqlite:///{tmp_path}/run.db"
    with open_archive(db) as archive:
        store.add(archive, f"telegram:{BOB}", now=LONG_AGO)

    async def main() -> TelegramStandIn:
        async with TelegramStandIn() as api:
            api.add_user(ADA, "Ada")
            api.add_user(BOB, "Bob")
            api.add_user(MALLORY, "Mallory")
            env = run_env(
                db,
                tmp_path,
                PAPERBOY_TELEGRAM_TOKEN=api.token,
                PAPERBOY_TELEGRAM_API_URL=api.base_url,
                PAPERBOY_CURATORS=f"telegram:{ADA}",
            )
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", "--no-web",
                env=env, cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
            try:
                today = await api.next_sent(BOB, timeout=60)  # the service is up: today went out
                assert today.plain.startswith("📰 Paperboy ·")
                api.user_sends_document(MALLORY, MALLORY, NEW_DAY_TEXT.encode(), "day.txt")
                assert (await api.next_sent(MALLORY, timeout=30)).plain == "Only curators can post."
                api.user_sends_document(ADA, ADA, NEW_DAY_TEXT.encode(), "day.txt")
                summary = await api.next_sent(ADA, timeout=30)
                assert summary.plain.startswith(f"📝 Preview · {NEW_DAY}") and summary.reply_markup
                sample = await api.next_sent(ADA, timeout=30)
                publish = summary.reply_markup["inline_keyboard"][0][0]
                assert publish["text"] == "✅ Publish now"
                api.press(ADA, ADA, summary.message_id, publish["callback_data"])
                first = await api.next_sent(BOB, timeout=60)
                assert first.text == sample.text  # what the preview showed is what Bob got
                await api.wait_for(lambda: [m for m in api.messages_in(ADA) if "went out" in m.plain], 60)
            finally:
                proc.send_signal(signal.SIGTERM)
                output, _ = await asyncio.wait_for(proc.communicate(), 60)
            log = output.decode()
            assert proc.returncode == 0, log
            assert "Traceback" not in log and api.token not in log
            assert f"telegram user {MALLORY} (Mallory) tried to post" in log  # how to find an id
            return api

    api = asyncio.run(main())
    assert [e for e in api.errors if e[1] != 429] == []
    with open_archive(db) as archive:
        assert queries.digest_papers(archive, NEW_DAY)[0].title == TYPO_TITLE
        assert drafts.count(archive) == 0


def test_webhook_mode_takes_updates_only_with_the_secret(seeded_sqlite: Archive, tmp_path: Path) -> None:
    port = free_port()
    hook = f"http://127.0.0.1:{port}/telegram/hook"

    async def main() -> None:
        async with TelegramStandIn() as api:
            api.add_user(ADA, "Ada")
            settings = Settings.from_env({"PAPERBOY_SITE_DIR": str(tmp_path / "site")})
            bot = TelegramBot(seeded_sqlite, settings, api.token, api_url=api.base_url, webhook_url=hook)
            server = await start(make_app(settings, seeded_sqlite, bot.routes), "127.0.0.1", port)
            await bot.start()
            try:
                assert api.webhook and api.webhook["url"] == hook
                api.user_says(ADA, ADA, "/tag vq")
                assert "VQGAN" in (await api.next_sent(ADA)).plain
                chat = {"id": ADA, "type": "private"}
                forged = {
                    "update_id": 999,
                    "message": {"message_id": 1, "date": 0, "chat": chat, "text": "/tags"},
                }
                async with aiohttp.ClientSession() as http:
                    for headers in ({}, {SECRET_HEADER: "guess"}):
                        async with http.post(hook, json=forged, headers=headers) as response:
                            assert response.status == 403
                await asyncio.sleep(0.3)
                assert len(api.messages_in(ADA)) == 1  # the forged updates changed nothing
            finally:
                await bot.stop()
                await server.stop()

    asyncio.run(main())


def test_a_webhook_must_be_https(seeded_sqlite: object) -> None:
    env = {"PAPERBOY_TELEGRAM_TOKEN": "1:x", "PAPERBOY_TELEGRAM_WEBHOOK_URL": "http://bot.example.org/hook"}
    with pytest.raises(InputError, match="only to an https:// URL"):
        from_env(seeded_sqlite, Settings.from_env({}), env, None)  # type: ignore[arg-type]


@pytest.mark.parametrize("raw", ["adas_papers", "-42x", "@ab", "https://t.me/adas_papers"])
def test_a_bad_source_channel_stops_run_before_it_starts(
    run_cli: CliRunner, monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv("PAPERBOY_TELEGRAM_TOKEN", "123456:" + "A" * 35)
    monkeypatch.setenv("PAPERBOY_TELEGRAM_SOURCE_CHANNEL", raw)
    for command in (["run", "--no-web"], ["days"]):  # checked when any command starts
        result = run_cli(*command)
        assert result.code == 2 and result.out == ""
        assert result.err == (
            f"paperboy: PAPERBOY_TELEGRAM_SOURCE_CHANNEL is {raw!r}: give the channel's id, such as"
            " -1001234567890, or its public @username\n"
        )


def test_the_log_never_shows_a_secret_setting() -> None:
    import logging

    from bot.cli._logging import Redact, secrets_in

    env = {
        "PAPERBOY_TELEGRAM_TOKEN": "123456:ABCdefGHIjkl",
        "PAPERBOY_DATABASE_URL": "postgresql://paperboy:hunter22@db/paperboy",
        "PAPERBOY_PORT": "8000",
    }
    redact = Redact(secrets_in(env))
    record = logging.LogRecord(
        "x",
        logging.INFO,
        "f",
        1,
        "GET %s/bot%s/getMe with %s",
        ("u", env["PAPERBOY_TELEGRAM_TOKEN"], "hunter22"),
        None,
    )
    redact.filter(record)
    assert record.getMessage() == "GET u/bot***/getMe with ***"
