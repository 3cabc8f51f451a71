"""A correction as an operator makes one without any chat, against the Telegram stand-in with
the real python-telegram-bot: `paperboy ingest corrected.txt`, then `paperboy publish DAY` edits
every message already sent, in place; killed mid-way, the same command run again finishes it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections import Counter
from pathlib import Path

from bot import subscriptions as store
from bot.archive.store import open_archive
from tests.conftest import SEEDS
from tests.telegram_standin import TelegramStandIn
from tests.test_publish import LONG_AGO

DAY = "2024-07-11"
ORIGINAL = (SEEDS / "daily-2024-07-11.txt").read_text()
FIXED_TITLE = "MARS: Mixture of Auto-Regressive Models for Fine-Grained Text-to-Image Synthesis"


def corrected() -> str:
    return ORIGINAL.replace("Fine-grained Text-to-image", "Fine-Grained Text-to-Image").replace(
        "#continual-learning #pretraining", "#continual-learning #pretraining #llm"
    )


async def paperboy(env: dict[str, str], *args: str, kill_when: object = None) -> tuple[int, str]:
    """Run `paperboy ARGS` as a user does; with ``kill_when`` (a callable), SIGKILL it once true."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    if kill_when is not None:
        while proc.returncode is None and not kill_when():  # type: ignore[operator]
            await asyncio.sleep(0.01)
        if proc.returncode is None:
            proc.send_signal(signal.SIGKILL)
    output, _ = await asyncio.wait_for(proc.communicate(), 300)
    assert proc.returncode is not None
    return proc.returncode, output.decode()


def environment(tmp_path: Path, api: TelegramStandIn) -> dict[str, str]:
    return {
        **os.environ,
        "PAPERBOY_DATABASE_URL": f"sqlite:///{tmp_path}/archive.db",
        "PAPERBOY_DATA_DIR": str(tmp_path),
        "PAPERBOY_SITE_DIR": str(tmp_path / "site"),
        "PAPERBOY_TELEGRAM_TOKEN": api.token,
        "PAPERBOY_TELEGRAM_API_URL": api.base_url,
    }


def test_ingest_then_publish_edits_every_message_sent_in_place(tmp_path: Path) -> None:
    chats = [-100101, -100102, 301]

    async def main() -> None:
        async with TelegramStandIn() as api:
            for chat in chats:
                api.add_user(chat, f"reader {chat}") if chat > 0 else api.add_chat(chat, "supergroup")
            env = environment(tmp_path, api)
            assert (await paperboy(env, "ingest", str(SEEDS)))[0] == 0
            with open_archive(env["PAPERBOY_DATABASE_URL"]) as archive:
                for chat in chats:
                    store.add(archive, f"telegram:{chat}", now=LONG_AGO)
            code, out = await paperboy(env, "publish", DAY)
            assert code == 0, out
            sent = {chat: [m.message_id for m in api.messages_in(chat)] for chat in chats}
            assert all(len(ids) >= 2 for ids in sent.values())
            assert all(FIXED_TITLE not in m.plain for m in api.sent)

            (tmp_path / "corrected.txt").write_text(corrected())
            code, out = await paperboy(env, "ingest", str(tmp_path / "corrected.txt"))
            assert code == 0 and f"corrects {DAY}, which has gone out (2 changed)" in out, out
            code, out = await paperboy(env, "publish", DAY)
            assert code == 0, out
            assert "corrected 3 deliveries" in out, out

            assert len(api.sent) == sum(len(ids) for ids in sent.values())  # no new message
            for chat in chats:
                shown = api.shown_in(chat)
                assert [m["message_id"] for m in shown] == sent[chat]  # the same messages, edited
                text = "\n".join(m["text"] for m in shown)
                assert FIXED_TITLE in text and "#llm" in text and "Fine-grained" not in text
            edited = Counter((e.chat_id, e.message_id) for e in api.edits)
            assert edited and max(edited.values()) == 1  # once each
            assert not [e for e in api.errors if e[0] == "editMessageText"]  # never an identical edit

            code, out = await paperboy(env, "corrections", "list", "--json")
            (listed,) = json.loads(out)["corrections"]
            assert (listed["edits"]["done"], listed["edits"]["messages"]) == (3, len(api.edits))
            code, out = await paperboy(env, "publish", DAY)  # again: nothing more to do
            assert code == 0 and "corrected" not in out and len(api.edits) == sum(edited.values())

    asyncio.run(main())


def test_a_correction_killed_mid_way_is_finished_by_the_same_command(tmp_path: Path) -> None:
    chats = [-1009000 - n for n in range(60)]

    async def main() -> None:
        async with TelegramStandIn() as api:
            for chat in chats:
                api.add_chat(chat, "supergroup")
            env = environment(tmp_path, api)
            assert (await paperboy(env, "ingest", str(SEEDS)))[0] == 0
            with open_archive(env["PAPERBOY_DATABASE_URL"]) as archive:
                for chat in chats:
                    store.add(archive, f"telegram:{chat}", now=LONG_AGO)
            assert (await paperboy(env, "publish", DAY))[0] == 0
            messages = len(api.sent)
            (tmp_path / "corrected.txt").write_text(corrected())
            assert (await paperboy(env, "ingest", str(tmp_path / "corrected.txt")))[0] == 0

            code, out = await paperboy(env, "publish", DAY, kill_when=lambda: len(api.edits) >= 25)
            assert code == -signal.SIGKILL, out
            before = len(api.edits)
            assert 25 <= before < 2 * len(chats)  # killed mid-way

            code, out = await paperboy(env, "publish", DAY)
            assert code == 0, out
            assert len(api.sent) == messages  # edits only
            for chat in chats:
                text = "\n".join(m["text"] for m in api.shown_in(chat))
                assert FIXED_TITLE in text and "#llm" in text, chat
            edited = Counter((e.chat_id, e.message_id) for e in api.edits)
            assert max(edited.values()) == 1  # an accepted edit never repeats
            repeated = [e for e in api.errors if e[0] == "editMessageText"]  # "message is not modified"
            assert len(repeated) <= 30  # at most what was in flight (Telegram's concurrency)
            with open_archive(env["PAPERBOY_DATABASE_URL"]) as archive:
                from sqlalchemy import select

                from bot.archive.schema import edits

                with archive.engine.connect() as conn:
                    statuses = set(conn.scalars(select(edits.c.status)))
            assert statuses == {"done"}

    asyncio.run(main())
