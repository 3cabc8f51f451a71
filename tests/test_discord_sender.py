"""Publishing to Discord through the real discord.py client and the strict REST stand-in: channels,
forums and webhooks get the day once, in order, inside Discord's limits; a role is pinged only when
asked and nothing else ever is; rate limits are waited out without duplicates; gone targets retire
their subscriptions; refused messages are kept for the operator."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest

from bot import subscriptions as store
from bot.archive.parsers import ParseOptions, parse_file
from bot.archive.store import Archive
from bot.channels.base import DeliveryError, Misconfigured, Permanent, RetryAfter, TargetGone, Transient
from bot.channels.discord._publish import DiscordDay
from bot.channels.discord.sender import DiscordChannel
from bot.channels.discord.webhook import WebhookChannel
from bot.channels.registry import CHANNELS
from bot.config import DEFAULT_TEMPLATES, Settings
from bot.errors import InputError
from bot.render.context import digest_view
from bot.render.discord import DiscordMessage
from bot.render.environment import Templates
from scheduler.limits import DEFAULTS, Limits
from scheduler.publish import Publisher
from tests.conftest import SEEDS, CliRunner
from tests.discord_standin import DiscordStandIn, discord
from tests.test_publish import DAY, LONG_AGO, Sleeps, make

GUILD = 1_100_000_000_000_000_001
NEWS, PAPERS, FORUM, SECRET, HOOKED, HOOKED_FORUM = (1_200_000_000_000_000_000 + n for n in range(1, 7))
ROLE = 1_300_000_000_000_000_042
OTHER_DAY = dt.date(2024, 6, 18)  # three Discord messages; DAY (2024-07-11) is two


@dataclasses.dataclass
class World:
    """The stand-in, the publisher sending through it, and what the fan-out slept."""

    api: DiscordStandIn
    publisher: Publisher
    hook: str  # a webhook into the text channel HOOKED
    forum_hook: str  # a webhook into the forum HOOKED_FORUM
    sleeps: Sleeps

    def channel(self, kind: str) -> Any:
        return self.publisher.channels[kind]

    def day(self, kind: str = "discord", day: dt.date = DAY) -> DiscordDay:
        digest = digest_view(day, list(self.publisher.contents(day)), self.publisher.fanout.base_url)
        rendered: DiscordDay = self.channel(kind).render(digest)
        return rendered

    async def publish(self, day: dt.date = DAY, **expected: int) -> None:
        report = await self.publisher.publish(day)
        assert report.fanout is not None
        assert {name: getattr(report.fanout, name) for name in expected} == expected, report.fanout.errors


Scenario = Callable[[World], Awaitable[Any]]


@pytest.fixture(autouse=True)
def _route_base_restored(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The channels point discord.py's process-wide REST base at the stand-in: put it back after."""
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    yield


def play(
    archive: Archive,
    tmp_path: Path,
    scenario: Scenario,
    *,
    templates: Templates | None = None,
    **options: Any,
) -> World:
    """Run ``scenario`` against a fresh stand-in: a guild with text channels NEWS and HOOKED, an
    announcement channel PAPERS, forums FORUM and HOOKED_FORUM, a hidden channel SECRET, and a
    webhook into HOOKED and one into HOOKED_FORUM; the publisher's fan-out sleeps are recorded."""

    async def main() -> World:
        async with DiscordStandIn(**options) as api:
            api.add_guild(GUILD, "ML papers")
            for channel, kind in ((NEWS, "text"), (PAPERS, "news"), (SECRET, "text"), (HOOKED, "text")):
                api.add_channel(channel, GUILD, kind)
            for channel in (FORUM, HOOKED_FORUM):
                api.add_channel(channel, GUILD, "forum")
            api.forbid(SECRET)
            chosen = templates or Templates(DEFAULT_TEMPLATES)
            channels = {
                "discord": DiscordChannel(api.token, chosen, api.base),
                "discord-webhook": WebhookChannel(chosen, api.base),
            }
            sleeps = Sleeps()
            world = World(
                api,
                make(archive, tmp_path, channels, sleep=sleeps, limits=scaled(options.get("scale", 1.0))),
                api.add_webhook(api.snowflake(), None, HOOKED),
                api.add_webhook(api.snowflake(), None, HOOKED_FORUM),
                sleeps,
            )
            try:
                await scenario(world)
            finally:
                for channel in channels.values():
                    await channel.close()
            return world

    return asyncio.run(main())


def scaled(scale: float) -> dict[str, Limits]:
    """Paperboy's limits with per-target windows ``scale`` times as long, as the stand-in's
    ``scale`` makes its own (the global window stays a second long: only stricter)."""
    return {
        kind: dataclasses.replace(
            limits, per_target_windows=tuple((n, t * scale) for n, t in limits.per_target_windows)
        )
        for kind, limits in DEFAULTS.items()
    }


def subscribe(archive: Archive, *addresses: str, mention: int | None = None) -> None:
    for address in addresses:
        store.add(archive, address, now=LONG_AGO, mention=str(mention) if mention else None)


def assert_the_day_once(world: World, *channels: int) -> None:
    """Each channel got the day's messages, once each, in order."""
    contents = [m.content for m in world.day().messages]
    for channel in channels:
        assert [m.content for m in world.api.messages_in(channel)] == contents


def hook_id(url: str) -> int:
    return int(url.split("/")[-2])


def posts(api: DiscordStandIn, path: str) -> int:
    return api.requests.count(("POST", path))


def test_a_day_reaches_channels_and_webhooks_once_in_order(seeded_sqlite: Archive, tmp_path: Path) -> None:
    async def scenario(world: World) -> None:
        subscribe(seeded_sqlite, f"discord:{NEWS}", f"discord:{PAPERS}", f"discord-webhook:{world.hook}")
        await world.publish(sent=3, failed=0)
        again = await world.publisher.publish(DAY)
        assert again.opened == 0 and again.fanout and again.fanout.sent == 0
        marks = {row.subscription.target: row.message_ids for row in world.publisher.ledger.listing(day=DAY)}
        assert list(marks[str(NEWS)]) == [m.id for m in world.api.messages_in(NEWS)]

    world = play(seeded_sqlite, tmp_path, scenario)
    api, day = world.api, world.day()
    assert api.rejections == [] and api.errors == []  # the stand-in refuses what breaks Discord's limits
    assert len(day.messages) == 2 and day.title == "Papers of 2024-07-11"
    for channel in (NEWS, PAPERS, HOOKED):
        got = api.messages_in(channel)
        assert [m.content for m in got] == [m.content for m in day.messages]
        assert [[e["title"] for e in m.embeds] for m in got] == [
            [e["title"] for e in m.embeds] for m in day.messages
        ]
        assert all(m.pings == [] and m.allowed_mentions == {"parse": []} for m in got)
    assert api.messages_in(NEWS)[0].content.startswith("**📰 Paperboy · 2024-07-11** · 6 papers")
    assert {m.webhook_id for m in api.messages_in(HOOKED)} == {hook_id(world.hook)}
    assert api.requests.count(("GET", "/users/@me")) == 1  # one login for the run


def test_a_role_is_the_only_thing_pinged_even_with_everyone_in_a_title(
    seeded_sqlite: Archive, tmp_path: Path
) -> None:
    """An operator's template that puts paper titles in the content: a title saying @everyone
    pings nobody; a subscription's role, named first, is pinged and nothing else."""
    folder = tmp_path / "templates" / "discord"
    folder.mkdir(parents=True)
    (folder / "content.md").write_text(
        "{% for paper in digest.papers %}{{ paper.title }} · {% endfor %}@here <@123456789012345678>\n"
    )
    templates = Templates(DEFAULT_TEMPLATES, tmp_path / "templates")

    async def scenario(world: World) -> None:
        subscribe(seeded_sqlite, f"discord:{NEWS}", f"discord-webhook:{world.hook}")
        subscribe(seeded_sqlite, f"discord:{PAPERS}", mention=ROLE)
        channel = world.channel("discord")
        papers = world.publisher.contents(DAY)
        shouting = [dataclasses.replace(papers[0], title="@everyone read this"), *papers[1:]]
        day = channel.render(digest_view(DAY, list(shouting), world.publisher.fanout.base_url))
        assert "@everyone read this" in day.messages[0].content

        async def pace() -> None:
            return None

        await channel.send(str(NEWS), day, pace)
        await channel.send(str(PAPERS), day, pace, mention=str(ROLE))
        await world.channel("discord-webhook").send(world.hook, day, pace, mention=str(ROLE))

    api = play(seeded_sqlite, tmp_path, scenario, templates=templates).api
    assert api.errors == []
    plain, mentioned, hooked = (api.messages_in(c) for c in (NEWS, PAPERS, HOOKED))
    assert "@everyone read this" in plain[0].content and "@here" in plain[0].content
    assert [m.pings for m in plain] == [[], []]
    for got in (mentioned, hooked):
        assert got[0].content.startswith(f"<@&{ROLE}> @everyone read this")
        assert got[0].allowed_mentions == {"parse": [], "roles": [ROLE]}
        assert [m.pings for m in got] == [[f"<@&{ROLE}>"], []]  # the day's first message only


def test_a_forum_gets_one_post_a_day_holding_all_of_the_days_messages(
    seeded_sqlite: Archive, tmp_path: Path
) -> None:
    async def scenario(world: World) -> None:
        subscribe(seeded_sqlite, f"discord:{FORUM}", f"discord-webhook:{world.forum_hook}", mention=ROLE)
        await world.publish(DAY, sent=2, failed=0)
        await world.publish(OTHER_DAY, sent=2, failed=0)

    world = play(seeded_sqlite, tmp_path, scenario, scale=0.2)  # 7 calls to a forum: 5 per second
    api = world.api
    for forum, by_hook in ((FORUM, None), (HOOKED_FORUM, hook_id(world.forum_hook))):
        got = api.messages_in(forum)
        threads = {m.thread_name: m.channel_id for m in got}
        assert list(threads) == ["Papers of 2024-07-11", "Papers of 2024-06-18"]
        for day, name in ((DAY, "Papers of 2024-07-11"), (OTHER_DAY, "Papers of 2024-06-18")):
            in_post = [m for m in got if m.thread_name == name]
            assert {m.channel_id for m in in_post} == {threads[name]} and in_post[0].id == str(threads[name])
            assert [m.content for m in in_post][1:] == [m.content for m in world.day(day=day).messages][1:]
            assert in_post[0].content.startswith(f"<@&{ROLE}> **📰 Paperboy")
            assert [m.pings for m in in_post][:2] == [[f"<@&{ROLE}>"], []]
        assert all(m.parent_id == forum and m.webhook_id == by_hook for m in got)
    # Each forum was found out once: one refused message, and for the bot one lookup of its type.
    assert sorted(code for *_, code in api.errors) == [50008, 220001]
    assert api.requests.count(("GET", f"/channels/{FORUM}")) == 1


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("forbid", "403 50001"),
        ("deny", "403 50013"),
        ("delete_channel", "404 10003"),
        ("delete_webhook", "404 10015"),
        ("revoke_token", "401 50027"),
    ],
)
def test_a_gone_target_retires_its_subscription_and_the_others_still_get_the_day(
    seeded_sqlite: Archive, tmp_path: Path, fault: str, error: str
) -> None:
    address: list[str] = []

    async def scenario(world: World) -> None:
        api, hook = world.api, hook_id(world.hook)
        on_hook = fault in ("delete_webhook", "revoke_token")
        address.append(f"discord-webhook:{world.hook}" if on_hook else f"discord:{NEWS}")
        subscribe(seeded_sqlite, address[0], f"discord:{PAPERS}")
        {
            "forbid": lambda: api.forbid(NEWS),
            "deny": lambda: api.forbid(NEWS, code=50013),
            "delete_channel": lambda: api.delete_channel(NEWS),
            "delete_webhook": lambda: api.delete_webhook(hook),
            "revoke_token": lambda: setattr(api.webhooks[hook], "token", "t" * 68),
        }[fault]()
        await world.publish(sent=1, gone=1, failed=0)

    api = play(seeded_sqlite, tmp_path, scenario).api
    gone = store.get(seeded_sqlite, address[0])
    assert gone.status == "gone" and gone.last_error and error in gone.last_error
    assert "t" * 60 not in gone.last_error
    assert api.messages_in(NEWS) == [] and api.messages_in(HOOKED) == [] and api.messages_in(PAPERS)
    assert len(api.errors) == 1  # one refusal, no retries


@pytest.mark.parametrize(
    ("waits", "by_the_fan_out"),
    [((0.2, 0.3), []), ((45.0, 45.5), [45.0, 45.5])],
    ids=["short", "long"],
)
def test_a_429_is_waited_out_and_the_day_goes_once(
    seeded_sqlite: Archive, tmp_path: Path, waits: tuple[float, float], by_the_fan_out: list[float]
) -> None:
    """discord.py sleeps a short retry_after inside the send; one longer than it should hold a
    sending slot for (30 s) comes back to the fan-out, which waits exactly that, then resends."""

    async def scenario(world: World) -> None:
        subscribe(seeded_sqlite, f"discord:{NEWS}", f"discord-webhook:{world.hook}")
        world.api.fail(NEWS, 429, retry_after=waits[0])
        world.api.fail(hook_id(world.hook), 429, retry_after=waits[1])
        await world.publish(sent=2, failed=0, deferred=0)

    world = play(seeded_sqlite, tmp_path, scenario)
    assert [reason for _, reason in world.api.rejections] == ["injected", "injected"]
    assert sorted(world.sleeps) == by_the_fan_out
    assert_the_day_once(world, NEWS, HOOKED)
    assert posts(world.api, f"/channels/{NEWS}/messages") == len(world.day().messages) + 1


def test_a_day_interrupted_by_a_long_429_resumes_without_resending_its_first_parts(
    seeded_sqlite: Archive, tmp_path: Path
) -> None:
    async def scenario(world: World) -> None:
        await world.channel("discord").client()  # logged in: each pace below precedes a message
        for kind, target, faulty, where in (
            ("discord", str(NEWS), NEWS, NEWS),
            ("discord-webhook", world.hook, hook_id(world.hook), HOOKED),
        ):
            channel, day = world.channel(kind), world.day(kind, OTHER_DAY)
            calls: list[int] = []

            async def pace(faulty: int = faulty, calls: list[int] = calls) -> None:
                calls.append(len(calls))
                if len(calls) == 2:  # just before the second message
                    world.api.fail(faulty, 429, retry_after=40)

            with pytest.raises(RetryAfter) as caught:
                await channel.send(target, day, pace)
            assert caught.value.seconds == 40.0
            ids = await channel.send(target, day, pace)
            got = world.api.messages_in(where)
            assert len(day.messages) == 3 and ids == [m.id for m in got]
            assert [m.content for m in got] == [m.content for m in day.messages]
            assert len(calls) == 4  # three messages, one of them twice
            assert channel._partial == {}

    play(seeded_sqlite, tmp_path, scenario)


def test_a_429_discord_py_gives_up_on_is_left_to_the_ledger(seeded_sqlite: Archive, tmp_path: Path) -> None:
    """A 429 without Discord's Via header (Cloudflare's ban): discord.py does not retry it, and its
    Retry-After (two minutes) is longer than the fan-out waits in process."""

    async def scenario(world: World) -> None:
        subscribe(seeded_sqlite, f"discord:{NEWS}")
        world.api.fail(NEWS, 429, retry_after=120, via=False)
        await world.publish(sent=0, deferred=1)
        (row,) = world.publisher.ledger.listing(day=DAY)
        assert row.status == "pending" and row.last_error and "429" in row.last_error

    world = play(seeded_sqlite, tmp_path, scenario)
    assert world.api.messages_in(NEWS) == [] and world.sleeps == []


def test_a_server_error_is_retried_and_the_day_goes_once(seeded_sqlite: Archive, tmp_path: Path) -> None:
    async def scenario(world: World) -> None:
        subscribe(seeded_sqlite, f"discord:{NEWS}", f"discord-webhook:{world.hook}")
        world.api.fail(NEWS, 502)  # Cloudflare's HTML page
        world.api.fail(hook_id(world.hook), 500)
        await world.publish(sent=2, failed=0)

    world = play(seeded_sqlite, tmp_path, scenario)
    assert sorted(status for *_, status, _ in world.api.errors) == [500, 502]
    assert_the_day_once(world, NEWS, HOOKED)


def test_an_unreachable_api_is_transient_and_retried_with_backoff(
    seeded_sqlite: Archive, tmp_path: Path
) -> None:
    store.add(seeded_sqlite, f"discord:{NEWS}", now=LONG_AGO)
    channel = DiscordChannel("token", Templates(DEFAULT_TEMPLATES), "http://127.0.0.1:9/api/v10")
    sleeps = Sleeps()
    publisher = make(seeded_sqlite, tmp_path, {"discord": channel}, sleep=sleeps)

    async def main() -> None:
        try:
            report = await publisher.publish(DAY)
        finally:
            await channel.close()
        assert report.fanout and (report.fanout.sent, report.fanout.failed) == (0, 1)

    asyncio.run(main())
    sub = store.get(seeded_sqlite, f"discord:{NEWS}")
    assert sub.status == "active" and sub.last_error and sub.last_error.startswith("Transient: Discord")
    # Five attempts, backing off: 0.5 s, 1 s, 2 s, 4 s, each plus up to 1 s of jitter (so two
    # neighbours may come out of order: 1.12 s then 1.11 s was seen).
    assert len(sleeps) == 4
    for n, slept in enumerate(sleeps):
        assert 0.5 * 2**n <= slept <= 0.5 * 2**n + 1, sleeps


def test_a_message_discord_refuses_fails_and_is_kept_for_the_operator(
    seeded_sqlite: Archive, tmp_path: Path
) -> None:
    too_long = DiscordDay("Papers of 2024-07-11", (DiscordMessage("x" * 2001),))

    async def scenario(world: World) -> None:
        subscribe(seeded_sqlite, f"discord:{NEWS}", f"discord-webhook:{world.hook}")
        for kind in ("discord", "discord-webhook"):
            world.channel(kind).render = lambda digest: too_long
        await world.publish(sent=0, failed=2, gone=0)
        assert {row.status for row in world.publisher.ledger.listing(day=DAY)} == {"failed"}
        assert world.channel("discord")._partial == {}

    world = play(seeded_sqlite, tmp_path, scenario)
    for address in (f"discord:{NEWS}", f"discord-webhook:{world.hook}"):
        sub = store.get(seeded_sqlite, address)
        assert sub.status == "active" and sub.last_error
        assert sub.last_error.startswith("Permanent: Discord 400 50035") and "In content" in sub.last_error
    assert [code for *_, code in world.api.errors] == [50035, 50035]  # refused once each, not retried


def test_the_api_url_setting_is_honoured_and_checked(seeded_sqlite: Archive, tmp_path: Path) -> None:
    settings = Settings.from_env({})
    factories = {item.kind: item.factory for item in CHANNELS}
    with pytest.raises(InputError, match="PAPERBOY_DISCORD_TOKEN is not set"):
        DiscordChannel.from_env(settings, {})
    with pytest.raises(InputError, match=r"PAPERBOY_DISCORD_API_URL: it must be an http\(s\) URL"):
        WebhookChannel.from_env(settings, {"PAPERBOY_DISCORD_API_URL": "discord.example/api"})
    assert WebhookChannel.from_env(settings, {}).api_url == "https://discord.com/api/v10"

    async def main() -> DiscordStandIn:
        async with DiscordStandIn() as api:
            api.add_guild(GUILD)
            api.add_channel(NEWS, GUILD, "text")
            hook = api.add_webhook(api.snowflake(), None, NEWS)
            discord.http.Route.BASE = "https://discord.invalid/api/v10"  # nothing answers there
            env = {"PAPERBOY_DISCORD_TOKEN": api.token, "PAPERBOY_DISCORD_API_URL": api.base + "/"}
            day = DiscordDay("t", (DiscordMessage("through the setting"),))

            async def pace() -> None:
                return None

            for kind, target in (("discord", str(NEWS)), ("discord-webhook", hook)):
                factory = factories[kind]
                assert factory is not None
                channel = factory(settings, env)
                try:
                    await channel.send(target, day, pace)
                finally:
                    await channel.close()
            return api

    api = asyncio.run(main())
    assert [m.content for m in api.messages_in(NEWS)] == ["through the setting"] * 2


# -- addresses, mentions and the CLI ------------------------------------------------------------

HOOK_ID, HOOK_TOKEN = "1234567890123456789", "Ab_-9" * 13 + "xyz"  # 68 characters


@pytest.mark.parametrize(
    "url",
    [
        f"https://discord.com/api/webhooks/{HOOK_ID}/{HOOK_TOKEN}",
        f"https://discordapp.com/api/webhooks/{HOOK_ID}/{HOOK_TOKEN}/",
        f"https://canary.discord.com/api/v10/webhooks/{HOOK_ID}/{HOOK_TOKEN}",
        f" https://ptb.discord.com/api/webhooks/{HOOK_ID}/{HOOK_TOKEN} ",
    ],
)
def test_webhook_urls_are_stored_in_the_one_form_discord_py_sends_to(url: str) -> None:
    kind, target = store.parse_address(f"Discord-Webhook:{url}")
    assert (kind, target) == ("discord-webhook", f"https://discord.com/api/webhooks/{HOOK_ID}/{HOOK_TOKEN}")

    async def accepted() -> int:
        async with aiohttp.ClientSession() as session:
            return discord.Webhook.from_url(target, session=session).id

    assert asyncio.run(accepted()) == int(HOOK_ID)


@pytest.mark.parametrize(
    "target",
    [
        f"https://discord.com/api/webhooks/1234567890123456/{HOOK_TOKEN}",  # 16 digits
        f"https://discord.com/api/webhooks/123456789012345678901/{HOOK_TOKEN}",  # 21 digits
        f"https://discord.com/api/webhooks/{HOOK_ID}/{'é' * 68}",  # not a token's characters
        f"https://discord.com/api/webhooks/{HOOK_ID}/{HOOK_TOKEN[:59]}",
        f"http://discord.com/api/webhooks/{HOOK_ID}/{HOOK_TOKEN}",
        f"https://discord.example/api/webhooks/{HOOK_ID}/{HOOK_TOKEN}",
        f"https://discord.com/api/webhooks/{HOOK_ID}/{HOOK_TOKEN}?thread_id=1",
        f"https://discord.com/api/webhooks/{'١' * 19}/{HOOK_TOKEN}",  # Arabic-Indic digits
    ],
)
def test_other_webhook_urls_are_refused_without_repeating_the_token(target: str) -> None:
    with pytest.raises(InputError, match="Copy Webhook URL") as raised:
        store.parse_address(f"discord-webhook:{target}")
    assert HOOK_TOKEN[:59] not in str(raised.value)


def test_discord_ids_are_ascii_snowflakes() -> None:
    assert store.parse_address("discord:" + "9" * 20) == ("discord", "9" * 20)
    for address in ("discord:" + "١" * 18, "discord:" + "1" * 21, "telegram:-١٢٣٤"):
        with pytest.raises(InputError, match="target is a"):
            store.parse_address(address)


@pytest.mark.parametrize(
    ("raw", "role"),
    [(None, None), ("", None), ("  ", None), (str(ROLE), str(ROLE)), (f" <@&{ROLE}> ", str(ROLE))],
)
def test_a_role_to_mention_is_an_id_or_discords_mention(raw: str | None, role: str | None) -> None:
    assert store.parse_mention(raw) == role


@pytest.mark.parametrize(
    "raw", [f"<@{ROLE}>", f"{ROLE}>", f"<@&{ROLE}", "@everyone", "moderators", "١" * 18, "1" * 21]
)
def test_anything_else_is_not_a_role(raw: str) -> None:
    with pytest.raises(InputError, match="a role to mention is a Discord role id"):
        store.parse_mention(raw)


def test_only_discord_subscriptions_mention_a_role(archive: Archive) -> None:
    url = f"https://discord.com/api/webhooks/{HOOK_ID}/{HOOK_TOKEN}"
    with pytest.raises(InputError, match="only a Discord subscription"):
        store.add(archive, "telegram:-100123", mention=str(ROLE))
    hooked = store.add(archive, f"discord-webhook:{url}", mention=f"<@&{ROLE}>")
    assert hooked.mention == str(ROLE) and HOOK_TOKEN not in hooked.label
    assert hooked.label == f"discord-webhook:https://discord.com/api/webhooks/{HOOK_ID}/…"
    assert store.add(archive, f"discord:{NEWS}", mention=str(ROLE)).mention == str(ROLE)
    assert store.add(archive, f"discord:{NEWS}").mention is None  # adding again says it all again


def test_the_cli_subscribes_a_channel_with_a_role_and_a_webhook_without_showing_its_token(
    run_cli: CliRunner,
) -> None:
    url = f"https://discord.com/api/webhooks/{HOOK_ID}/{HOOK_TOKEN}"
    added = run_cli("subscriptions", "add", f"discord:{NEWS}", "--mention", f"<@&{ROLE}>", "--json")
    assert added.code == 0 and added.json()["mention"] == str(ROLE)
    hooked = run_cli("subscriptions", "add", f"discord-webhook:{url}")
    assert (
        hooked.code == 0
        and HOOK_TOKEN not in hooked.out
        and f"webhooks/{HOOK_ID}/…: subscribed" in hooked.out
    )
    listed = run_cli("subscriptions", "list")
    assert HOOK_TOKEN not in listed.out and f"webhooks/{HOOK_ID}/…" in listed.out
    assert f"discord:{NEWS}" in listed.out and f"(mentions <@&{ROLE}>)" in listed.out
    as_json = run_cli("subscriptions", "list", "--json").json()["subscriptions"]
    assert [(s["target"], s["mention"]) for s in as_json] == [
        (f"discord:{NEWS}", str(ROLE)),
        (f"discord-webhook:{url}", None),  # scripts get the address whole, to remove it with
    ]
    refused = run_cli("subscriptions", "add", "telegram:-100123", "--mention", str(ROLE))
    assert (
        refused.code == 2 and "only a Discord subscription" in refused.err and "Traceback" not in refused.err
    )
    removed = run_cli("subscriptions", "remove", f"discord-webhook:{url}")
    assert removed.code == 0 and HOOK_TOKEN not in removed.out and "unsubscribed" in removed.out


def test_a_refused_bot_token_stops_the_channel_after_one_login_and_fails_no_one(
    seeded_sqlite: Archive, tmp_path: Path
) -> None:
    """Not the channels' fault: they stay active, their deliveries wait untouched, and the bot does
    not knock again and again (401s count towards Cloudflare's ban)."""

    async def scenario(world: World) -> None:
        subscribe(seeded_sqlite, f"discord:{NEWS}", f"discord:{PAPERS}")
        world.channel("discord").token = "not-the-token"
        report = await world.publisher.publish(DAY)
        assert report.fanout and (report.fanout.sent, report.fanout.failed, report.fanout.gone) == (0, 0, 0)
        assert "PAPERBOY_DISCORD_TOKEN" in report.fanout.stopped["discord"]
        waiting = world.publisher.ledger.listing(day=DAY)
        assert [(row.status, row.attempts) for row in waiting] == [("pending", 0)] * 2

    world = play(seeded_sqlite, tmp_path, scenario)
    assert [(path, status) for _, path, status, _ in world.api.errors] == [("/users/@me", 401)]
    for channel in (NEWS, PAPERS):
        sub = store.get(seeded_sqlite, f"discord:{channel}")
        assert (sub.status, sub.last_error) == ("active", None)


@pytest.mark.parametrize(
    ("kind", "status", "code", "outcome"),
    [
        ("discord", 404, 0, Misconfigured),  # a wrong PAPERBOY_DISCORD_API_URL: no channel is to blame
        ("discord", 404, 10003, TargetGone),
        ("discord", 403, 50001, TargetGone),
        ("discord", 403, 40002, Permanent),  # another 403 (an unverified account): not the channel
        ("discord", 401, 0, Misconfigured),  # our own token
        ("discord-webhook", 401, 0, TargetGone),  # the URL's token
        ("discord-webhook", 404, 10015, TargetGone),
        ("discord", 400, 50035, Permanent),
        ("discord", 503, 0, Transient),
        ("discord-webhook", 429, 0, RetryAfter),
    ],
)
def test_discords_answers_become_the_fan_outs_outcomes(
    kind: str, status: int, code: int, outcome: type[Exception]
) -> None:
    templates = Templates(DEFAULT_TEMPLATES)
    channel = DiscordChannel("token", templates) if kind == "discord" else WebhookChannel(templates)
    answer = SimpleNamespace(status=status, reason="Reason", headers={"Retry-After": "7"})
    error = discord.DiscordServerError if status >= 500 else discord.HTTPException
    with pytest.raises(DeliveryError) as raised, channel.translated():
        raise error(answer, {"message": "What Discord says", "code": code})  # type: ignore[arg-type]
    assert type(raised.value) is outcome and "What Discord says" in str(raised.value)
    if outcome is RetryAfter:
        assert raised.value.seconds == 7.0  # type: ignore[attr-defined]


def test_error_texts_never_carry_a_webhooks_token() -> None:
    url = f"https://discord.com/api/webhooks/{HOOK_ID}/{HOOK_TOKEN}?wait=true"
    with pytest.raises(Transient) as raised, WebhookChannel(Templates(DEFAULT_TEMPLATES)).translated():
        raise aiohttp.InvalidURL(url)  # aiohttp's errors quote the request's URL
    assert HOOK_TOKEN not in str(raised.value) and f"/webhooks/{HOOK_ID}/…?wait=true" in str(raised.value)


def test_a_correction_reaches_channels_forums_and_webhooks_as_edits(
    seeded_sqlite: Archive, tmp_path: Path
) -> None:
    """Through the publisher as the service runs it: the day goes out, a post corrects a title
    typo, a commentary sentence and a tag; every message already sent shows the correction,
    edited in place (PATCH), with no new message and no second ping."""
    fixed = "MARS: Mixture of Auto-Regressive Models for Fine-Grained Text-to-Image Synthesis"

    async def scenario(world: World) -> None:
        subscribe(seeded_sqlite, f"discord:{NEWS}", f"discord:{FORUM}", f"discord-webhook:{world.forum_hook}")
        subscribe(seeded_sqlite, f"discord-webhook:{world.hook}", mention=ROLE)
        await world.publish(sent=4, failed=0)
        targets = (NEWS, FORUM, HOOKED, HOOKED_FORUM)
        sent = {target: [m.id for m in world.api.messages_in(target)] for target in targets}
        pings = sum(len(m.pings) for m in world.api.messages)
        original = (SEEDS / "daily-2024-07-11.txt").read_text()
        corrected = tmp_path / "corrected.txt"
        corrected.write_text(
            original.replace("Fine-grained Text-to-image", "Fine-Grained Text-to-Image")
            .replace("Yi Tay", "Yi Tay 씨")
            .replace("#continual-learning #pretraining", "#continual-learning #pretraining #llm")
        )
        assert seeded_sqlite.ingest(parse_file(corrected, ParseOptions())).correction is not None
        posted = [r for r in world.api.requests if r[0] == "POST"]
        report = await world.publisher.deliver()
        assert report.edits is not None and (report.edits.corrected, report.edits.failed) == (4, 0)
        assert report.sent == 0
        for target in targets:
            shown = world.api.messages_in(target)
            assert [m.id for m in shown] == sent[target]  # the same messages, edited
            text = json.dumps([(m.content, m.embeds) for m in shown], ensure_ascii=False)
            assert fixed in text and "Yi Tay 씨" in text and "#llm" in text
            assert "Fine-grained" not in text
        assert world.api.messages_in(HOOKED)[0].content.startswith(f"<@&{ROLE}>")
        assert sum(len(m.pings) for m in world.api.messages) == pings  # editing pinged nobody anew
        assert [r for r in world.api.requests if r[0] == "POST"] == posted  # no new message
        assert any(r[0] == "PATCH" for r in world.api.requests)

    play(seeded_sqlite, tmp_path, scenario)
