"""Corrections on Discord through the real discord.py client and the strict REST stand-in: the
channels' primitives, called as ``scheduler/edits.py`` calls them on a real seed day, PATCH
exactly the messages that changed in text channels, forum posts and through webhooks (with the
post's ``thread_id``), send what a longer day needs into the same place, delete what a shorter
one no longer needs, keep the role mention without pinging anyone new, and turn Discord's
answers into the scheduler's outcomes."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from bot.channels.base import Pace, Permanent, RetryAfter, TargetGone
from bot.channels.discord._publish import DiscordPublisher, outgoing
from bot.channels.discord.sender import DiscordChannel
from bot.channels.discord.webhook import WebhookChannel
from bot.config import DEFAULT_TEMPLATES
from bot.render.discord import DiscordMessage
from bot.render.environment import Templates
from scheduler.limits import Pacer
from tests import corrected_day as day
from tests.discord_standin import DiscordStandIn, discord
from tests.discord_standin_rules import Message
from tests.test_discord_sender import scaled

GUILD = 1_100_000_000_000_000_001
NEWS, FORUM, HOOKED, HOOKED_FORUM = (1_200_000_000_000_000_000 + n for n in range(1, 5))
ROLE = "1300000000000000042"
SCALE = 0.2


@dataclasses.dataclass
class World:
    api: DiscordStandIn
    bot: DiscordChannel
    hooks: WebhookChannel
    targets: dict[str, tuple[str, int]]  # name -> (address, the channel its messages are in)
    paces: dict[str, Pace] = dataclasses.field(default_factory=dict)
    pacers: dict[str, Pacer] = dataclasses.field(default_factory=dict)

    def channel(self, name: str) -> DiscordPublisher:
        return self.hooks if name.startswith("hook") else self.bot

    def pace(self, name: str) -> Pace:
        """The scheduler's pacing for the target (one per target: a call holds its slots until the next)."""
        kind = "discord-webhook" if name.startswith("hook") else "discord"
        pacer = self.pacers.setdefault(kind, Pacer(scaled(SCALE)[kind]))
        return self.paces.setdefault(name, pacer.pace(self.targets[name][0]))

    def parts(self, papers: Any) -> tuple[DiscordMessage, ...]:
        return self.bot.parts(self.bot.render(day.view(papers)))

    async def send(self, name: str) -> list[str]:
        """The day as published, sent as the fan-out sends it."""
        channel, address = self.channel(name), self.targets[name][0]
        rendered = channel.render(day.view(day.published()))
        return await channel.send(address, rendered, self.pace(name), mention=mention(name))

    async def correct(self, name: str, ids: list[str], before: Any, after: Any) -> list[str]:
        channel, address = self.channel(name), self.targets[name][0]
        return await day.correct(channel, address, ids, before, after, self.pace(name), mention=mention(name))

    def shown(self, name: str) -> list[Message]:
        return self.api.messages_in(self.targets[name][1])


def mention(name: str) -> str | None:
    return ROLE if name == "news" else None


Scenario = Callable[[World], Awaitable[Any]]


@pytest.fixture(autouse=True)
def _route_base_restored(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    yield


def play(scenario: Scenario) -> DiscordStandIn:
    """Run ``scenario`` against a stand-in with a text channel (its subscription mentions ROLE), a
    forum, and a webhook into another text channel and one into another forum."""

    async def main() -> DiscordStandIn:
        async with DiscordStandIn(scale=SCALE) as api:
            api.add_guild(GUILD, "ML papers")
            for channel, kind in (
                (NEWS, "text"),
                (FORUM, "forum"),
                (HOOKED, "text"),
                (HOOKED_FORUM, "forum"),
            ):
                api.add_channel(channel, GUILD, kind)
            templates = Templates(DEFAULT_TEMPLATES)
            targets = {
                "news": (str(NEWS), NEWS),
                "forum": (str(FORUM), FORUM),
                "hook": (api.add_webhook(api.snowflake(), None, HOOKED), HOOKED),
                "hook-forum": (api.add_webhook(api.snowflake(), None, HOOKED_FORUM), HOOKED_FORUM),
            }
            world = World(
                api,
                DiscordChannel(api.token, templates, api.base),
                WebhookChannel(templates, api.base),
                targets,
            )
            try:
                await scenario(world)
            finally:
                await world.bot.close()
                await world.hooks.close()
            return api

    return asyncio.run(main())


def looks(message: Message) -> tuple[str, list[tuple[str | None, str | None]]]:
    return message.content, [(e.get("title"), e.get("description")) for e in message.embeds]


def expected(part: DiscordMessage, role: str | None) -> tuple[str, list[tuple[str | None, str | None]]]:
    sent = outgoing(part, role)
    return sent.content or "", [(e.title, e.description) for e in sent.embeds]


def requests(api: DiscordStandIn, method: str) -> int:
    return sum(1 for m, _ in api.requests if m == method)


def unexpected(api: DiscordStandIn) -> list[tuple[str, str, int, int]]:
    """Error answers, bar how a first send finds a forum (50008, 220001) and 429s waited out."""
    return [e for e in api.errors if e[3] not in (50008, 220001) and e[2] != 429]


def test_a_correction_patches_only_the_message_that_changed_in_channels_forums_and_webhooks() -> None:
    async def scenario(world: World) -> None:
        before, after = world.parts(day.published()), world.parts(day.corrected())
        assert [a == b for a, b in zip(before, after, strict=True)] == [True, False]
        assert any(title == day.TITLE for title, _ in expected(after[1], None)[1])

        async def one(name: str) -> None:
            ids = await world.send(name)
            assert await world.correct(name, ids, before, after) == ids
            assert [looks(m) for m in world.shown(name)] == [
                expected(part, mention(name) if n == 0 else None) for n, part in enumerate(after)
            ]
            assert [m.edits for m in world.shown(name)] == [0, 1]

        await asyncio.gather(*(one(name) for name in world.targets))

    api = play(scenario)
    assert requests(api, "PATCH") == 4  # one a target: forums found by the send are remembered
    assert unexpected(api) == [] and api.rejections == []
    assert [m.pings for m in api.messages_in(NEWS)] == [[f"<@&{ROLE}>"], []]


def test_after_a_restart_a_forum_post_is_found_by_one_request_and_remembered() -> None:
    async def scenario(world: World) -> None:
        before, after = world.parts(day.published()), world.parts(day.longer())
        sent = {name: await world.send(name) for name in ("forum", "hook-forum")}
        await world.bot.close()
        await world.hooks.close()  # what they knew of forums goes with them
        world.api.errors.clear()
        for name, ids in sent.items():
            now = await world.correct(name, ids, before, after)
            assert [looks(m) for m in world.shown(name)] == [expected(part, None) for part in after]
            assert {m.channel_id for m in world.shown(name)} == {int(ids[0])}  # all in the day's post
            assert len(now) == 3 and world.shown(name)[-1].thread_name == f"Papers of {day.DAY}"

    api = play(scenario)
    assert sorted((status, code) for _, _, status, code in api.errors) == [(404, 10008), (404, 10008)]


@pytest.mark.parametrize("longer", [True, False], ids=["longer", "shorter"])
def test_a_longer_day_sends_into_the_same_place_and_a_shorter_one_deletes(longer: bool) -> None:
    async def scenario(world: World) -> None:
        before = world.parts(day.published())
        after = world.parts(day.longer() if longer else day.shorter())
        assert (len(before), len(after)) == (2, 3 if longer else 1)

        async def one(name: str) -> None:
            ids = await world.send(name)
            now = await world.correct(name, ids, before, after)
            assert now[:1] == ids[:1] and [m.id for m in world.shown(name)] == now
            assert [looks(m) for m in world.shown(name)] == [
                expected(part, mention(name) if n == 0 else None) for n, part in enumerate(after)
            ]

        await asyncio.gather(*(one(name) for name in world.targets))

    api = play(scenario)
    assert unexpected(api) == []
    first = api.messages_in(NEWS)[0]
    assert first.content.startswith(f"<@&{ROLE}> ") and first.pings == [f"<@&{ROLE}>"] and first.edits == 1
    assert requests(api, "DELETE") == (0 if longer else 4)


def test_an_everyone_in_a_corrected_title_pings_nobody() -> None:
    async def scenario(world: World) -> None:
        papers = day.corrected()
        papers[0] = dataclasses.replace(papers[0], title="@everyone PaliGemma <@&1300000000000000099>")
        before, after = world.parts(day.published()), world.parts(papers)
        ids = await world.send("news")
        await world.correct("news", ids, before, after)

    api = play(scenario)
    first = api.messages_in(NEWS)[0]
    assert first.edits == 1 and "@everyone" in str(first.embeds) and first.pings == [f"<@&{ROLE}>"]


def test_a_deleted_message_is_permanent_to_edit_and_done_to_delete() -> None:
    async def scenario(world: World) -> None:
        after = world.parts(day.corrected())
        for name, (address, _) in world.targets.items():
            ids = await world.send(name)
            world.shown(name)[1].deleted = True  # a moderator deleted it
            with pytest.raises(Permanent, match="the message is gone"):
                await world.channel(name).edit_part(address, ids, 1, after[1], world.pace(name))
            await world.channel(name).delete_part(address, ids, 1, world.pace(name))

    api = play(scenario)
    assert all(m.edits == 0 for m in api.messages)


@pytest.mark.parametrize("name", ["news", "forum", "hook", "hook-forum"])
def test_a_gone_channel_or_webhook_is_target_gone_to_every_primitive(name: str) -> None:
    async def scenario(world: World) -> None:
        after = world.parts(day.longer())
        ids = await world.send(name)
        address, channel_id = world.targets[name]
        if name.startswith("hook"):
            world.api.delete_webhook(int(address.split("/")[-2]))
        else:
            world.api.delete_channel(channel_id)
        channel, pace = world.channel(name), world.pace(name)
        for call in (
            channel.edit_part(address, ids, 1, after[1], pace),
            channel.send_part(address, ids, after[2], pace),
            channel.delete_part(address, ids, 1, pace),
        ):
            with pytest.raises(TargetGone, match=r"Unknown (Channel|Webhook)"):
                await call

    play(scenario)


def test_a_short_429_is_waited_out_and_a_long_one_is_retry_after() -> None:
    async def scenario(world: World) -> None:
        before, after = world.parts(day.published()), world.parts(day.corrected())
        for name in ("news", "hook"):
            address, channel_id = world.targets[name]
            target_id = channel_id if name == "news" else int(address.split("/")[-2])
            ids = await world.send(name)
            world.api.fail(target_id, 429, retry_after=0.2)
            await world.channel(name).edit_part(address, ids, 1, after[1], world.pace(name))
            world.api.fail(target_id, 429, retry_after=45.0)
            with pytest.raises(RetryAfter) as raised:
                await world.channel(name).edit_part(address, ids, 1, before[1], world.pace(name))
            assert raised.value.seconds == 45.0

    api = play(scenario)
    assert [reason for _, reason in api.rejections] == ["injected"] * 4
    assert [m.edits for m in api.messages_in(NEWS) + api.messages_in(HOOKED)] == [0, 1, 0, 1]
