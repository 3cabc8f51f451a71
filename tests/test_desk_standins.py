"""The stand-ins' files and forms are as strict as the platforms: Telegram's getFile and file
download (through the real python-telegram-bot), Discord's attachments and modals (through the
real discord.py). A stand-in that accepted what the platform refuses would let the desk's tests
pass for a bot that fails in production."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
import telegram
from telegram.error import BadRequest

from bot.channels.discord.sender import rest_client
from tests.discord_standin import DiscordStandIn, discord, route_base
from tests.discord_standin_uploads import UPLOAD_LIMIT
from tests.telegram_standin import TelegramStandIn
from tests.telegram_standin_files import GET_FILE_LIMIT

ADA = 42
GUILD, DESK = 1_100_000_000_000_000_001, 1_200_000_000_000_000_001


def test_telegram_hands_a_document_to_the_bot_through_getfile_only() -> None:
    async def main() -> None:
        async with TelegramStandIn() as api:
            api.add_user(ADA, "Ada")
            api.user_sends_document(ADA, ADA, b"2024\xeb\x85\x84 post", "post.txt")
            (update,) = api.updates
            document = update["message"]["document"]
            assert "text" not in update["message"] and document["file_size"] == 12
            big = api.document(b"x" * (GET_FILE_LIMIT + 1), "big.txt")
            async with telegram.Bot(
                api.token, base_url=api.base_url, base_file_url=api.base_url.replace("/bot", "/file/bot")
            ) as bot:
                found = await bot.get_file(document["file_id"])
                assert found.file_path and found.file_path.startswith(
                    f"{api.base_url.replace('/bot', '/file/bot')}{api.token}/documents/"
                )
                assert bytes(await found.download_as_bytearray()) == b"2024\xeb\x85\x84 post"
                with pytest.raises(BadRequest, match="Invalid file_id"):
                    await bot.get_file("BQACAgIAAxkBAAI-no-such-file")
                with pytest.raises(BadRequest, match="File is too big"):
                    await bot.get_file(big.file_id)
            root = api.base_url.removesuffix("/bot")
            async with aiohttp.ClientSession() as http:
                wrong = f"{root}/file/bot1:wrong/{found.file_path.rsplit(api.token + '/', 1)[1]}"
                async with http.get(wrong) as response:
                    assert response.status == 401  # the bot's token only
                async with http.get(f"{root}/file/bot{api.token}/documents/file_999999.txt") as response:
                    assert response.status == 404  # a path getFile never handed out
                big_path = f"{root}/file/bot{api.token}/documents/big.txt"
                async with http.get(big_path) as response:
                    assert response.status == 404  # getFile refused it: it has no path
            assert [size for _, size in api.downloads] == [12]

    asyncio.run(main())


async def _discord(api: DiscordStandIn) -> None:
    api.add_guild(GUILD, "ML")
    api.add_channel(DESK, GUILD, "text", name="desk")
    api.commands[None] = [
        {
            "id": "1",
            "type": 1,
            "name": "post",
            "description": "post",
            "options": [{"type": 11, "name": "file", "description": "file", "required": False}],
        }
    ]


def test_discord_attachments_are_resolved_served_and_capped_as_discord_does() -> None:
    async def main() -> None:
        async with DiscordStandIn() as api:
            await _discord(api)
            file = api.attach(b"2024\xeb\x85\x84 post", "post.txt")
            payload = api.interaction("command", DESK, name="post", options={"file": file})
            (option,) = payload["data"]["options"]
            assert (option["type"], option["value"]) == (11, file["id"])
            assert payload["data"]["resolved"]["attachments"][file["id"]]["size"] == 12
            with pytest.raises(ValueError, match="does not upload"):
                api.attach(b"x" * (UPLOAD_LIMIT + 1), "big.txt")
            with pytest.raises(ValueError, match=r"what api\.attach"):
                api.interaction("command", DESK, name="post", options={"file": {"id": "123", "url": "x"}})
            with route_base(api):
                client = rest_client()
                await client.login(api.token)
                attachment = discord.Attachment(data=file, state=client._connection)  # type: ignore[arg-type]
                assert await attachment.read() == b"2024\xeb\x85\x84 post"  # discord.py's own download
                await client.close()
            async with aiohttp.ClientSession() as http:
                async with http.get(file["url"].replace("post.txt", "other.txt")) as response:
                    assert response.status == 404
                async with http.get(f"{api.root}/attachments/1/post.txt") as response:
                    assert response.status == 404
            assert [size for _, size in api.downloads] == [12]

    asyncio.run(main())


def test_discord_modal_submits_only_what_the_modal_allows() -> None:
    modal: dict[str, Any] = {
        "custom_id": "m1",
        "title": "Post",
        "components": [
            {
                "type": 1,
                "components": [
                    {"type": 4, "custom_id": "text", "label": "Post", "style": 2, "max_length": 10}
                ],
            }
        ],
    }

    async def main() -> None:
        async with DiscordStandIn() as api:
            await _discord(api)
            opened = api.interaction("command", DESK, name="post")
            with pytest.raises(ValueError, match="opened no modal"):
                api.interaction("modal", DESK, opened_by=int(opened["id"]), values={"text": "hi"})
            api.interactions[int(opened["id"])].modal = modal
            submit = api.interaction("modal", DESK, opened_by=int(opened["id"]), values={"text": "hi"})
            assert submit["type"] == 5 and submit["data"]["custom_id"] == "m1"
            assert submit["data"]["components"][0]["components"][0]["value"] == "hi"
            for values, error in (
                ({"text": "x" * 11}, "0 to 10 characters"),
                ({}, "with 'text' empty"),
                ({"text": "hi", "other": "x"}, "no text input"),
            ):
                with pytest.raises(ValueError, match=error):
                    api.interaction("modal", DESK, opened_by=int(opened["id"]), values=values)
            with pytest.raises(ValueError, match="add_role first"):
                api.interaction("command", DESK, name="post", roles=(1_400_000_000_000_000_001,))

    asyncio.run(main())
