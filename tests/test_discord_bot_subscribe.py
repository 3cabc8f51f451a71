"""The Discord bot's subscription commands, hostile input and settings, end to end through
discord.py against the stand-in (harness: ``test_discord_bot``)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from bot import subscriptions
from bot.archive.store import Archive
from bot.channels.discord.bot import DiscordBot, from_env
from bot.channels.discord.commands import EVERYONE
from bot.channels.registry import frontends
from bot.commands import Error, answer
from bot.config import Settings
from bot.errors import InputError, NotFound
from tests.discord_standin import DiscordStandIn, discord
from tests.test_discord_bot import (
    EMBED_LINKS,
    FORUM,
    GUILD,
    NEWS,
    POST,
    ROLE,
    THREAD,
    VQ_TITLES,
    Session,
    play,
    running,
    stand_in,
)

REFUSED = "Only members with the Manage Channels permission can change this channel's subscription."
ALL_PERMISSIONS = (1 << 51) - 1


def role(role_id: int = ROLE, name: str = "paper-readers") -> dict[str, Any]:
    """The ``resolved`` data Discord sends with a role option."""
    found = {
        "id": str(role_id),
        "name": name,
        "color": 0,
        "hoist": False,
        "position": 1,
        "permissions": "0",
        "managed": False,
        "mentionable": True,
        "flags": 0,
    }
    return {"roles": {str(role_id): found}}


def stored(archive: Archive, channel: int) -> subscriptions.Subscription | None:
    try:
        return subscriptions.get(archive, f"discord:{channel}")
    except NotFound:
        return None


def test_members_without_manage_channels_are_refused_even_if_discord_let_them(
    seeded_sqlite: Archive,
) -> None:
    async def scenario(session: Session) -> None:
        for name in ("subscribe", "unsubscribe"):
            asked = await session.command(name)  # the stand-in's member lacks Manage Channels
            assert (asked.response.type, asked.ephemeral, asked.text) == (4, True, REFUSED)
        settings = await session.command("settings")  # reading is harmless: anyone may
        assert settings.ephemeral and "no subscription" in settings.text

    _, welcomed = play(seeded_sqlite, scenario)
    assert stored(seeded_sqlite, NEWS) is None and welcomed == []


def test_subscribe_with_tags_and_a_role_then_settings_and_unsubscribe(seeded_sqlite: Archive) -> None:
    async def scenario(session: Session) -> None:
        new = await session.command(
            "subscribe", admin=True, tags="vq #LLM", mention=str(ROLE), resolved=role()
        )
        assert new.ephemeral and new.text.startswith(
            "Subscribed: this chat gets the daily digest (#vq, #llm)."
        )
        assert f"It mentions <@&{ROLE}> when the digest has papers for it." in new.text  # shown, not pinged
        again = await session.command(
            "subscribe", admin=True, tags="vq llm", mention=str(ROLE), resolved=role()
        )
        assert again.text.startswith("Already subscribed")
        settings = await session.command("settings", admin=True)
        assert settings.ephemeral and "(#vq, #llm); the subscription is active." in settings.text
        assert f"<@&{ROLE}>" in settings.text
        no_role = await session.command("subscribe", admin=True, tags="vq")
        assert no_role.text.startswith("Subscription updated") and "<@&" not in no_role.text
        gone = await session.command("unsubscribe", admin=True)
        assert gone.ephemeral and gone.text.startswith("Unsubscribed")
        assert "no subscription" in (await session.command("settings")).text

    api, welcomed = play(seeded_sqlite, scenario)
    first, updated = welcomed  # the service sends each the latest digest; "already" is not welcomed
    assert (first.address, first.tags, first.mention) == (f"discord:{NEWS}", ("vq", "llm"), str(ROLE))
    assert (updated.tags, updated.mention) == (("vq",), None)
    assert stored(seeded_sqlite, NEWS) is None
    assert all(m.flags & 64 for m in api.messages)  # every subscription reply was ephemeral


def test_a_forum_post_subscribes_its_forum_and_a_thread_itself(seeded_sqlite: Archive) -> None:
    async def scenario(session: Session) -> None:
        forum = await session.command("subscribe", POST, admin=True)
        assert "Each day's digest arrives as a new post in this forum." in forum.text
        thread = await session.command("subscribe", THREAD, admin=True, tags="vq")
        assert "new post" not in thread.text
        refused = await session.command("unsubscribe", POST)
        assert refused.text == REFUSED.replace("channel's", "forum's")

    _, welcomed = play(seeded_sqlite, scenario)
    assert [sub.address for sub in welcomed] == [f"discord:{FORUM}", f"discord:{THREAD}"]
    assert stored(seeded_sqlite, POST) is None


def test_subscribing_where_the_bot_cannot_post_says_what_it_needs(seeded_sqlite: Archive) -> None:
    async def scenario(session: Session) -> None:
        asked = await session.command("subscribe", admin=True, app_permissions=ALL_PERMISSIONS & ~EMBED_LINKS)
        assert asked.ephemeral and "it needs Embed Links here" in asked.text
        everyone = await session.command("subscribe", admin=True, mention=str(GUILD), resolved=role(GUILD))
        assert everyone.ephemeral and everyone.text == EVERYONE

    _, welcomed = play(seeded_sqlite, scenario)
    assert stored(seeded_sqlite, NEWS) is None and welcomed == []


HOSTILE: list[tuple[str, dict[str, str], str]] = [
    ("tag", {"tag": "x" * 5000}, "That is 5,000 characters long; a command takes at most 200."),
    ("search", {"query": "y" * 5000}, "That is 5,000 characters long"),
    (
        "search",
        {"query": "@everyone **bold** <script>"},
        'Nothing matches "@everyone \\*\\*bold\\*\\* <script>"',
    ),
    ("search", {"query": "'; DROP TABLE papers; --"}, "Nothing matches"),
    ("tag", {"tag": "<@&123456789012345678> @here"}, "' is not a tag: use letters, digits"),
    ("paper", {"id": "\u202e<@42>\u202c"}, "No paper has the id '<@42>'"),
    ("subscribe", {"tags": "@everyone"}, "'@everyone' is not a tag"),
    ("subscribe", {"tags": "vq <@&1> <@&123456789012345678> <@&223456789012345678>"}, "one at most"),
]


@pytest.mark.parametrize(("name", "options", "expected"), HOSTILE, ids=[h[2][:20] for h in HOSTILE])
def test_hostile_input_gets_a_clear_private_line(
    seeded_sqlite: Archive, name: str, options: dict[str, str], expected: str
) -> None:
    async def scenario(session: Session) -> None:
        asked = await session.command(name, admin=True, **options)
        assert asked.ephemeral and expected in asked.text and "Sorry" not in asked.text
        assert asked.messages[0].allowed_mentions == {"parse": []}

    play(seeded_sqlite, scenario)  # and, checked there: no reply pinged anyone
    assert answer(seeded_sqlite, "tag", "vq").text.startswith("#vq: 2 papers")  # the archive is intact


def test_invisible_and_reversing_characters_are_dropped_before_looking_up(seeded_sqlite: Archive) -> None:
    async def scenario(session: Session) -> None:
        for typed in ("v\u200bq", "\u202evq\u202c", "\ufeff#VQ"):
            asked = await session.command("tag", tag=typed)
            assert not asked.ephemeral and VQ_TITLES[0] in asked.text

    play(seeded_sqlite, scenario)


def test_a_role_mention_is_only_for_discord_subscriptions(seeded_sqlite: Archive) -> None:
    refused = answer(
        seeded_sqlite, "subscribe", "vq <@&123456789012345678>", chat="telegram:-100", is_admin=True
    )
    assert isinstance(refused, Error) and refused.usage == "/subscribe [tags...], as in /subscribe vq llm"
    assert refused.text.startswith("Only a Discord") and refused.text.endswith("can mention a role.")


# -- settings and start-up ------------------------------------------------------------------------


def test_settings_from_the_environment(seeded_sqlite: Archive) -> None:
    def make(**env: str) -> DiscordBot:
        return from_env(seeded_sqlite, Settings.from_env({}), {"PAPERBOY_DISCORD_TOKEN": "t"} | env, None)

    plain = make()
    assert type(plain.client) is discord.Client and (plain.guild, plain.routes) == (None, [])
    assert plain.api_url == "https://discord.com/api/v10"
    auto = make(PAPERBOY_DISCORD_SHARDS="auto")
    assert isinstance(auto.client, discord.AutoShardedClient) and auto.client.shard_count is None
    assert make(PAPERBOY_DISCORD_SHARDS=" 4 ").client.shard_count == 4
    assert make(PAPERBOY_DISCORD_GUILD=str(GUILD)).guild == GUILD
    assert (
        make(PAPERBOY_DISCORD_API_URL="http://127.0.0.1:9/api/v10/").api_url == "http://127.0.0.1:9/api/v10"
    )
    for key, value, problem in [
        ("PAPERBOY_DISCORD_SHARDS", "many", "'auto' (Discord's recommended count) or a number"),
        ("PAPERBOY_DISCORD_SHARDS", "0", "from 1 to 1,000"),
        ("PAPERBOY_DISCORD_GUILD", "my server", "a server id, 15 to 21 digits"),
        ("PAPERBOY_DISCORD_API_URL", "discord.example", "it must be an http(s) URL"),
    ]:
        with pytest.raises(InputError, match=re.escape(problem)) as raised:
            make(**{key: value})
        assert key in str(raised.value)
    (bot,) = frontends(
        seeded_sqlite, Settings.from_env({}), lambda sub: asyncio.sleep(0), {"PAPERBOY_DISCORD_TOKEN": "t"}
    )
    assert isinstance(bot, DiscordBot) and bot.name == "discord"


def test_a_sharded_bot_answers_too(seeded_sqlite: Archive) -> None:
    async def scenario(session: Session) -> None:
        assert isinstance(session.bot.client, discord.AutoShardedClient)
        asked = await session.command("tag", tag="vq")
        assert not asked.ephemeral and VQ_TITLES[1] in asked.text

    play(seeded_sqlite, scenario, shards=2)


def test_a_refused_token_or_server_stops_start_up_with_a_clear_message(seeded_sqlite: Archive) -> None:
    async def main() -> DiscordStandIn:
        async with stand_in() as api:
            wrong = DiscordBot(seeded_sqlite, Settings.from_env({}), "not-the-token", api_url=api.base)
            with pytest.raises(InputError, match="Discord refused PAPERBOY_DISCORD_TOKEN"):
                await wrong.start()
            other = 1_100_000_000_000_000_099
            api.add_guild(other, "Invited without applications.commands", commands_scope=False)
            bot = DiscordBot(seeded_sqlite, Settings.from_env({}), api.token, api_url=api.base, guild=other)
            with pytest.raises(InputError, match=r"applications\.commands scope"):
                await bot.start()
            async with running(seeded_sqlite, api) as session:  # the right settings start
                assert session.bot.client.user is not None
        return api

    api = asyncio.run(main())
    assert [e[2:] for e in api.errors if not e[1].startswith("/gateway")] == [(401, 0), (403, 50001)]


def test_stopping_while_a_shard_is_starting_leaves_no_heartbeat_thread(seeded_sqlite: Archive) -> None:
    """A second shard waits 5 s between HELLO and IDENTIFY (Discord's identify rate), beating from
    a thread all the while, unknown to the client until it is launched: stopping then must end
    that thread, or it outlives the event loop and fails at its next beat (CI caught this)."""
    import threading

    def beating() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name.startswith("keep-alive-handler") and t.is_alive()]

    async def main() -> None:
        async with stand_in() as api:
            bot = DiscordBot(seeded_sqlite, Settings.from_env({}), api.token, api_url=api.base, shards=2)
            await bot.start()
            await api.gateway.wait_for(lambda: len(api.gateway.heartbeats) >= 2)  # both shards said HELLO
            assert len(api.gateway.identifies) == 1  # the second is still waiting to identify
            await bot.stop()

    asyncio.run(main())
    for thread in beating():  # its next beat is 41 s away (Discord's interval): it must be stopped
        thread.join(timeout=2)
    assert beating() == []
