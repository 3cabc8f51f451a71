"""The Discord stand-in's gateway is strict where Discord's is: it closes with Discord's codes,
acknowledges heartbeats, compresses as discord.py expects, and a real discord.py client connects,
fills its cache, receives dispatches and resumes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import zlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
import yarl

from tests.discord_standin import DiscordStandIn, discord, route_base
from tests.discord_standin_gateway import ACK, DISPATCH, HELLO, INVALID
from tests.discord_standin_rules import Json

GUILD, OTHER = 1_100_000_000_000_000_001, 1_100_000_000_000_000_002
NEWS = 1_200_000_000_000_000_001
PROPERTIES = {"os": "linux", "browser": "test", "device": "test"}


async def stand_in(**gateway: Any) -> DiscordStandIn:
    api = DiscordStandIn(gateway=gateway)
    api.add_guild(GUILD, "ML papers")
    api.add_guild(OTHER, "Other")
    api.add_channel(NEWS, GUILD, "text", name="papers")
    return api


class Raw:
    """A bare websocket client: what it sends, what it gets back, decoded."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.inflate = zlib.decompressobj()
        self.buffer = b""

    async def receive(self) -> Json | int:
        """The next payload, or the close code when the stand-in closed the connection."""
        while True:
            message = await asyncio.wait_for(self.ws.receive(), 10)
            if message.type is aiohttp.WSMsgType.TEXT:
                loaded: Json = json.loads(message.data)
                return loaded
            if message.type is aiohttp.WSMsgType.BINARY:
                self.buffer += message.data
                if not self.buffer.endswith(b"\x00\x00\xff\xff"):
                    continue  # the rest of the payload is in the next frame
                text, self.buffer = self.inflate.decompress(self.buffer), b""
                compressed: Json = json.loads(text)
                return compressed
            assert self.ws.close_code is not None, message
            return self.ws.close_code

    async def send(self, op: int, d: Any) -> None:
        await self.ws.send_str(json.dumps({"op": op, "d": d}))

    async def identify(self, token: str, extra: Json | None = None) -> None:
        await self.send(2, {"token": token, "properties": PROPERTIES, "intents": 1} | (extra or {}))


@contextlib.asynccontextmanager
async def raw(api: DiscordStandIn, query: str = "v=10&encoding=json") -> AsyncIterator[Raw]:
    async with aiohttp.ClientSession() as http, http.ws_connect(f"{api.gateway.url}?{query}") as ws:
        yield Raw(ws)


def run(scenario: Any, **gateway: Any) -> DiscordStandIn:
    async def main() -> DiscordStandIn:
        api = await stand_in(**gateway)
        async with api:
            await scenario(api)
        return api

    return asyncio.run(main())


# -- the protocol, spoken by hand -----------------------------------------------------------------


def test_gateway_bot_names_the_stand_ins_own_gateway() -> None:
    async def scenario(api: DiscordStandIn) -> None:
        auth = {"Authorization": f"Bot {api.token}"}
        async with aiohttp.ClientSession() as http, http.get(f"{api.base}/gateway/bot", headers=auth) as r:
            body = await r.json()
        assert body["url"] == api.gateway.url
        assert yarl.URL(api.gateway.url).host == "127.0.0.1"

    run(scenario)


def test_hello_then_identify_gives_ready_and_a_guild_create_per_guild_with_rising_sequence() -> None:
    async def scenario(api: DiscordStandIn) -> None:
        async with raw(api) as ws:
            hello = await ws.receive()
            assert isinstance(hello, dict) and hello["op"] == HELLO
            assert hello["d"]["heartbeat_interval"] == 41_250
            await ws.send(1, None)  # a heartbeat is allowed before identifying
            assert (await ws.receive())["op"] == ACK  # type: ignore[index]
            await ws.identify(api.token)
            ready, *guilds = [await ws.receive() for _ in range(3)]
            assert isinstance(ready, dict) and (ready["op"], ready["t"], ready["s"]) == (DISPATCH, "READY", 1)
            assert ready["d"]["guilds"] == [
                {"id": str(GUILD), "unavailable": True},
                {"id": str(OTHER), "unavailable": True},
            ]
            assert ready["d"]["resume_gateway_url"] == api.gateway.url
            assert ready["d"]["application"] == {"id": str(api.application_id), "flags": 0}
            assert "shard" not in ready["d"]  # none was asked for
            assert [(g["t"], g["s"]) for g in guilds] == [("GUILD_CREATE", 2), ("GUILD_CREATE", 3)]  # type: ignore[index]
            first = guilds[0]["d"]  # type: ignore[index]
            assert [c["name"] for c in first["channels"]] == ["papers"]
            assert "guild_id" not in first["channels"][0]
            await ws.send(1, 3)
            assert (await ws.receive())["op"] == ACK  # type: ignore[index]
            assert await api.gateway_dispatch("TYPING_START", {"channel_id": str(NEWS)}) == 1
            assert (await ws.receive())["s"] == 4  # type: ignore[index]
        assert api.gateway.heartbeats == [None, 3]
        assert [i["token"] for i in api.gateway.identifies] == [api.token]

    run(scenario)


CLOSES = [
    ("bad token", "v=10", {"token": "not-the-token"}, 4004),
    ("no such version", "v=6", None, 4012),
    ("etf", "v=10&encoding=etf", None, 4002),
    ("unknown intent bit", "v=10", {"intents": 1 << 30}, 4013),
    ("privileged intent not granted", "v=10", {"intents": 1 << 15}, 4014),
    ("shard beyond the count", "v=10", {"shard": [2, 2]}, 4010),
    ("shard not a pair", "v=10", {"shard": [0]}, 4010),
]


@pytest.mark.parametrize(("case", "query", "identify", "code"), CLOSES, ids=[c[0] for c in CLOSES])
def test_bad_connections_and_identifies_are_closed_with_discords_codes(
    case: str, query: str, identify: Json | None, code: int
) -> None:
    async def scenario(api: DiscordStandIn) -> None:
        async with raw(api, query) as ws:
            first = await ws.receive()
            if identify is not None:
                assert isinstance(first, dict) and first["op"] == HELLO
                await ws.identify(api.token, identify)
                first = await ws.receive()
            assert first == code
        assert [c for c, _ in api.gateway.closes] == [code]
        assert api.gateway.sessions == {}

    run(scenario)


def test_sharding_required_when_a_shard_would_hold_too_many_guilds() -> None:
    async def scenario(api: DiscordStandIn) -> None:
        async with raw(api) as ws:
            await ws.receive()
            await ws.identify(api.token)
            assert await ws.receive() == 4011
        assert api.gateway.closes == [(4011, "Sharding required.")]

    run(scenario, guilds_per_shard=1)


@pytest.mark.parametrize(
    ("sequence", "code"),
    [([(3, {"status": "online"})], 4003), ([(2, "IDENTIFY"), (2, "IDENTIFY")], 4005), ([(5, None)], 4001)],
    ids=["presence before identify", "identify twice", "unknown opcode"],
)
def test_out_of_order_payloads_are_closed(sequence: list[tuple[int, Any]], code: int) -> None:
    async def scenario(api: DiscordStandIn) -> None:
        async with raw(api) as ws:
            await ws.receive()
            for op, d in sequence:
                if d == "IDENTIFY":
                    await ws.identify(api.token)
                else:
                    await ws.send(op, d)
            while isinstance(answer := await ws.receive(), dict):
                pass
            assert answer == code

    run(scenario)


def test_a_heartbeat_may_not_claim_an_unsent_sequence_number() -> None:
    async def scenario(api: DiscordStandIn) -> None:
        async with raw(api) as ws:
            await ws.receive()
            await ws.identify(api.token)
            for _ in range(3):  # READY, two GUILD_CREATEs
                await ws.receive()
            await ws.send(1, 3)
            assert await ws.receive() == {"op": ACK, "d": None, "s": None, "t": None}
            await ws.send(1, 4)
            assert await ws.receive() == 4007

    run(scenario)


def test_zlib_stream_compresses_every_payload_to_a_sync_flush() -> None:
    async def scenario(api: DiscordStandIn) -> None:
        async with raw(api, "v=10&encoding=json&compress=zlib-stream") as ws:
            hello = await ws.receive()
            assert isinstance(hello, dict) and hello["op"] == HELLO
            await ws.identify(api.token)
            ready = await ws.receive()
            assert isinstance(ready, dict) and ready["t"] == "READY"

    run(scenario)


def test_resuming_an_unknown_session_is_invalid() -> None:
    async def scenario(api: DiscordStandIn) -> None:
        async with raw(api) as ws:
            await ws.receive()
            await ws.send(6, {"token": api.token, "session_id": "nope", "seq": 1})
            assert await ws.receive() == {"op": INVALID, "d": False, "s": None, "t": None}

    run(scenario)


# -- a real discord.py client -------------------------------------------------------------------------


@contextlib.contextmanager
def gateway_at(api: DiscordStandIn) -> Iterator[None]:
    websocket = discord.gateway.DiscordWebSocket
    before = websocket.DEFAULT_GATEWAY
    websocket.DEFAULT_GATEWAY = yarl.URL(api.gateway.url)
    try:
        yield
    finally:
        websocket.DEFAULT_GATEWAY = before


@contextlib.asynccontextmanager
async def connected(api: DiscordStandIn) -> AsyncIterator[discord.Client]:
    with route_base(api), gateway_at(api):
        client = discord.Client(intents=discord.Intents(guilds=True))
        await client.login(api.token)
        task = asyncio.create_task(client.connect(reconnect=True))
        try:
            await api.gateway.wait_for_session()
            yield client
        finally:
            await client.close()
            await task


def test_a_real_client_fills_its_cache_gets_dispatches_and_resumes() -> None:
    async def scenario(api: DiscordStandIn) -> None:
        async with connected(api) as client:
            seen: asyncio.Queue[discord.Interaction] = asyncio.Queue()

            @client.event
            async def on_interaction(interaction: discord.Interaction) -> None:
                await seen.put(interaction)

            await api.gateway.wait_for(lambda: client.get_guild(GUILD) is not None)
            guild = client.get_guild(GUILD)
            assert guild is not None and [c.name for c in guild.channels] == ["papers"]
            assert client.user is not None and client.user.id == int(api.bot_user["id"])
            api.commands[None] = [{"id": "1", "name": "ping", "type": 1, "options": []}]
            payload = api.interaction("command", NEWS, name="ping")
            await api.gateway_dispatch("INTERACTION_CREATE", payload)
            got = await asyncio.wait_for(seen.get(), 10)
            assert (got.id, got.channel_id, got.guild_id) == (int(payload["id"]), NEWS, GUILD)

            await api.gateway.reconnect()  # op 7: discord.py reconnects and resumes its session
            await api.gateway.wait_for(lambda: api.gateway.resumes and api.gateway.connected)
            again = api.interaction("command", NEWS, name="ping")
            await api.gateway_dispatch("INTERACTION_CREATE", again)
            assert (await asyncio.wait_for(seen.get(), 10)).id == int(again["id"])
        (session,) = api.gateway.sessions.values()
        assert len(api.gateway.identifies) == 1  # resumed, not identified again
        assert api.gateway.resumes[0]["session_id"] == session.id
        assert [e["s"] for e in session.events] == list(range(1, len(session.events) + 1))
        assert [e["t"] for e in session.events][-2:] == ["RESUMED", "INTERACTION_CREATE"]
        assert api.gateway.closes == []

    run(scenario)
