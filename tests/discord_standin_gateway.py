"""Discord's gateway in the stand-in: the websocket a bot keeps open to receive events.

    async with DiscordStandIn() as api:                        # GET /gateway/bot -> api.gateway.url
        ...                                                    # a bot connects and identifies
        await api.gateway.wait_for_session()
        await api.gateway_dispatch("INTERACTION_CREATE", api.interaction("command", NEWS, name="tag", …))

Strict where Discord is (developers/docs/topics/gateway, opcodes-and-status-codes): the URL's
``v`` must be 10 (else close 4012) and ``encoding`` json (the stand-in speaks no ETF);
``compress=zlib-stream`` compresses every payload with one zlib stream per connection, each ending
in a Z_SYNC_FLUSH (0000FFFF) as discord.py expects. On connect: op 10 HELLO. Before IDENTIFY or
RESUME only heartbeats are allowed (4003); IDENTIFY needs the bot token (4004), properties,
intents without unknown bits (4013) or privileged ones not granted (4014), a valid shard (4010)
holding at most ``guilds_per_shard`` guilds (4011); a second IDENTIFY closes 4005; an unknown op
4001; anything but a JSON object 4002; more than 120 payloads in 60 s 4008. IDENTIFY is answered
with READY (guilds unavailable) and a GUILD_CREATE, channels and threads included, per guild of
the shard (``(guild_id >> 22) % count``). Heartbeats get op 11; one claiming a sequence number
not yet sent is closed 4007 (the stand-in's own rule). RESUME replays what the session missed and
sends RESUMED; an unknown session gets op 9 false. Dispatch sequence numbers ``s`` count up per session.

Records: ``identifies`` (IDENTIFY payloads), ``sessions`` (by session id), ``closes`` (the close
codes the stand-in sent, with reasons), ``heartbeats`` (their ``d``), ``resumes``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from tests.discord_standin_rules import THREAD_TYPES, Json

if TYPE_CHECKING:
    from tests.discord_standin_state import DiscordState

DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, VOICE, RESUME, RECONNECT, MEMBERS, INVALID, HELLO, ACK = (
    0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11,
)  # fmt: skip
CLIENT_OPS = {HEARTBEAT, IDENTIFY, PRESENCE, VOICE, RESUME, MEMBERS}
#: every documented intent: bits 0-16, 20, 21, 24, 25
KNOWN_INTENTS = sum(1 << bit for bit in (*range(17), 20, 21, 24, 25))
PRIVILEGED_INTENTS = 1 << 1 | 1 << 8 | 1 << 15  # guild members, presences, message content
SEND_LIMIT = (120, 60.0)  # payloads a connection may send per 60 s
ZLIB_SUFFIX = b"\x00\x00\xff\xff"


class Closed(Exception):
    """Close the connection with Discord's code and reason."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(code, reason)
        self.code, self.reason = code, reason


@dataclass
class Session:
    """One identified session: what it asked for and every dispatch sent to it (for RESUME)."""

    id: str
    shard: tuple[int, int]
    intents: int
    events: list[Json] = field(default_factory=list)
    socket: Connection | None = None

    @property
    def seq(self) -> int:
        return len(self.events)

    def covers(self, guild_id: int) -> bool:
        shard_id, count = self.shard
        return (guild_id >> 22) % count == shard_id


class Connection:
    """One websocket: its compression stream, its send budget and its session once identified."""

    def __init__(self, ws: web.WebSocketResponse, compress: bool) -> None:
        self.ws = ws
        self.session: Session | None = None
        self._zlib = zlib.compressobj() if compress else None
        self._received: deque[float] = deque()

    async def send(self, payload: Json) -> None:
        text = json.dumps(payload, ensure_ascii=False)
        if self._zlib is None:
            await self.ws.send_str(text)
            return
        data = self._zlib.compress(text.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
        half = len(data) // 2  # long payloads arrive in two frames, as Discord's may
        frames = [data[:half], data[half:]] if len(data) > 4096 else [data]
        for frame in frames:
            await self.ws.send_bytes(frame)

    def count_received(self) -> None:
        now, (limit, window) = time.monotonic(), SEND_LIMIT
        self._received.append(now)
        while self._received and now - self._received[0] > window:
            self._received.popleft()
        if len(self._received) > limit:
            raise Closed(4008, "Rate limited.")


class Gateway:
    """The gateway of one stand-in (``api.gateway``), mounted on its server at ``/gateway``."""

    def __init__(
        self,
        api: DiscordState,
        *,
        heartbeat_interval: int = 41_250,
        guilds_per_shard: int = 2_500,
        privileged_intents: int = 0,
    ) -> None:
        """``heartbeat_interval`` ms, as HELLO says; ``privileged_intents`` the privileged bits the
        application was granted in the developer portal."""
        self.api, self.heartbeat_interval = api, heartbeat_interval
        self.guilds_per_shard, self.privileged_intents = guilds_per_shard, privileged_intents
        self.url = ""
        self.identifies: list[Json] = []
        self.sessions: dict[str, Session] = {}
        self.closes: list[tuple[int, str]] = []
        self.heartbeats: list[int | None] = []
        self.resumes: list[Json] = []
        self._connections: set[Connection] = set()
        self._changed = asyncio.Event()

    def mount(self, app: web.Application) -> None:
        app.router.add_get("/gateway", self._handle)

    # -- for tests ------------------------------------------------------------------------------

    @property
    def connected(self) -> list[Session]:
        return [s for s in self.sessions.values() if s.socket is not None and not s.socket.ws.closed]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
        """Wait until ``predicate()`` is truthy (checked after each gateway event, and every 50 ms
        for what the client does with them); return it."""
        async with asyncio.timeout(timeout):
            while not (value := predicate()):
                changed = self._changed
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), 0.05)
            return value

    async def wait_for_session(self, timeout: float = 30.0) -> Session:
        found: list[Session] = await self.wait_for(lambda: self.connected, timeout)
        return found[0]

    async def dispatch(self, event: str, data: Json) -> int:
        """Send ``event`` to every session it concerns (the shard of ``data``'s guild, if any);
        a disconnected one gets it on RESUME. Returns how many connected sessions got it."""
        guild = data.get("guild_id")
        targets = [s for s in self.sessions.values() if guild is None or s.covers(int(guild))]
        if not targets:
            raise RuntimeError(f"no gateway session to send {event} to: no bot has identified")
        sent = 0
        for session in targets:
            payload = {"op": DISPATCH, "t": event, "s": session.seq + 1, "d": data}
            session.events.append(payload)
            if session.socket is not None and not session.socket.ws.closed:
                await session.socket.send(payload)
                sent += 1
        return sent

    async def reconnect(self) -> None:
        """Ask every connected session to reconnect (op 7), as Discord does before a restart."""
        for session in self.connected:
            assert session.socket is not None
            await session.socket.send({"op": RECONNECT, "d": None, "s": None, "t": None})

    # -- the connection -------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        compress = request.query.get("compress")
        conn = Connection(ws, compress == "zlib-stream")
        self._connections.add(conn)
        try:
            if request.query.get("v") != "10":
                raise Closed(4012, "Invalid API version")
            if request.query.get("encoding", "json") != "json":
                raise Closed(4002, "the stand-in speaks encoding=json only")
            if compress not in (None, "zlib-stream"):
                raise Closed(4000, f"the stand-in has no compress={compress}")
            await conn.send({"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval}})
            async for message in ws:
                if message.type is not WSMsgType.TEXT:
                    raise Closed(4002, "Decode error")
                conn.count_received()
                await self._receive(conn, message.data)
                self._bump()
        except Closed as closed:
            self.closes.append((closed.code, closed.reason))
            await ws.close(code=closed.code, message=closed.reason.encode())
        finally:
            self._connections.discard(conn)
            if conn.session is not None and conn.session.socket is conn:
                conn.session.socket = None
            self._bump()
        return ws

    async def _receive(self, conn: Connection, raw: str) -> None:
        try:
            payload = json.loads(raw)
        except ValueError:
            raise Closed(4002, "Decode error") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("op"), int):
            raise Closed(4002, "Decode error")
        op, data = payload["op"], payload.get("d")
        if op not in CLIENT_OPS:
            raise Closed(4001, "Unknown opcode")
        if op == HEARTBEAT:
            self._heartbeat(conn, data)
            await conn.send({"op": ACK, "d": None, "s": None, "t": None})
        elif op == IDENTIFY:
            await self._identify(conn, data)
        elif op == RESUME:
            await self._resume(conn, data)
        elif conn.session is None:
            raise Closed(4003, "Not authenticated.")

    def _heartbeat(self, conn: Connection, data: Any) -> None:
        """``d``: the last sequence number received; before RESUME, the old connection's."""
        sent = conn.session.seq if conn.session else None
        if data is not None and (type(data) is not int or data < 0 or (sent is not None and data > sent)):
            raise Closed(4007, f"Invalid seq: heartbeat claims {data!r}, {sent} sent")
        self.heartbeats.append(data)

    async def _identify(self, conn: Connection, data: Any) -> None:
        if conn.session is not None:
            raise Closed(4005, "Already authenticated.")
        if not isinstance(data, dict):
            raise Closed(4002, "Decode error")
        self.identifies.append(data)
        if data.get("token") != self.api.token:
            raise Closed(4004, "Authentication failed.")
        properties = data.get("properties")
        if not isinstance(properties, dict) or not all(
            isinstance(properties.get(k), str) for k in ("os", "browser", "device")
        ):
            raise Closed(4002, "Decode error")
        intents = data.get("intents")
        if not isinstance(intents, int) or intents < 0 or intents & ~KNOWN_INTENTS:
            raise Closed(4013, "Invalid intent(s).")
        if intents & PRIVILEGED_INTENTS & ~self.privileged_intents:
            raise Closed(4014, "Disallowed intent(s).")
        shard = self._shard(data.get("shard", [0, 1]))
        session = Session(secrets.token_hex(16), shard, intents)
        guilds = [g for g in self.api.guilds.values() if session.covers(g.id)]
        if len(guilds) > self.guilds_per_shard:
            raise Closed(4011, "Sharding required.")
        self.sessions[session.id] = conn.session = session
        session.socket = conn
        ready: Json = {
            "v": 10,
            "user": self.api.bot_user,
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "resume_gateway_url": self.url,
            "application": {"id": str(self.api.application_id), "flags": 0},
            "_trace": ["stand-in"],
        }
        if "shard" in data:
            ready["shard"] = list(shard)
        await self._send(session, "READY", ready)
        for guild in guilds:
            await self._send(session, "GUILD_CREATE", self._guild_json(guild.id, guild.name))

    @staticmethod
    def _shard(value: Any) -> tuple[int, int]:
        ok = isinstance(value, list) and len(value) == 2 and all(type(v) is int for v in value)
        if not ok or not 0 <= value[0] < value[1]:
            raise Closed(4010, "Invalid shard.")
        return value[0], value[1]

    async def _resume(self, conn: Connection, data: Any) -> None:
        if conn.session is not None:
            raise Closed(4005, "Already authenticated.")
        if not isinstance(data, dict):
            raise Closed(4002, "Decode error")
        self.resumes.append(data)
        if data.get("token") != self.api.token:
            raise Closed(4004, "Authentication failed.")
        session = self.sessions.get(str(data.get("session_id")))
        seq = data.get("seq")
        if session is None or not isinstance(seq, int):
            await conn.send({"op": INVALID, "d": False, "s": None, "t": None})
            return
        if not 0 <= seq <= session.seq:
            raise Closed(4007, "Invalid seq.")
        if session.socket is not None:  # the old connection, if still open, is dropped
            with contextlib.suppress(Exception):
                await session.socket.ws.close(code=4000, message=b"resumed elsewhere")
        conn.session, session.socket = session, conn
        for missed in session.events[seq:]:
            await conn.send(missed)
        await self._send(session, "RESUMED", {"_trace": ["stand-in"]})

    async def _send(self, session: Session, event: str, data: Json) -> None:
        payload = {"op": DISPATCH, "t": event, "s": session.seq + 1, "d": data}
        session.events.append(payload)
        assert session.socket is not None
        await session.socket.send(payload)

    def _guild_json(self, guild_id: int, name: str) -> Json:
        api = self.api
        channels = [c for c in api.channels.values() if c.guild_id == guild_id and c.state != "deleted"]
        roles = sorted(api.guilds[guild_id].roles.items())
        everyone = {
            "id": str(guild_id),
            "name": "@everyone",
            "permissions": "2248473465835073",
            "position": 0,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }
        me = {"user": api.bot_user, "roles": [], "joined_at": "2024-01-01T00:00:00+00:00", "deaf": False}
        listed = [_without_guild(api.channel_json(c)) for c in channels if c.type not in THREAD_TYPES]
        return {
            "id": str(guild_id),
            "name": name,
            "icon": None,
            "owner_id": "1",
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [everyone, *(everyone | {"id": str(i), "name": n, "position": 1} for i, n in roles)],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "system_channel_flags": 0,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "nsfw_level": 0,
            "joined_at": "2024-01-01T00:00:00+00:00",
            "large": False,
            "unavailable": False,
            "member_count": 2,
            "members": [me | {"mute": False, "flags": 0}],
            "channels": listed,
            "threads": [api.channel_json(c) for c in channels if c.type in THREAD_TYPES],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def _bump(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def close(self) -> None:
        """Close every connection (the server is going away): 1001, as Discord's restarts do."""
        for conn in list(self._connections):
            with contextlib.suppress(Exception):
                await conn.ws.close(code=1001, message=b"going away")


def _without_guild(channel: Json) -> Json:
    """A channel as GUILD_CREATE lists it: without its guild_id."""
    return {k: v for k, v in channel.items() if k != "guild_id"}
