"""A stand-in for Discord's REST API on 127.0.0.1, strict where Discord is, for tests.

    async with DiscordStandIn(scale=0.2) as api:             # options: DiscordState.__init__
        api.add_guild(GUILD, "ML")
        api.add_channel(NEWS, GUILD, "text", name="papers")
        url = api.add_webhook(api.snowflake(), None, NEWS)    # https://discord.com/api/webhooks/…
        with route_base(api):                                 # discord.http.Route.BASE -> api.base
            async with discord.Client(intents=discord.Intents.none()) as client:
                await client.login(api.token)                 # GET /users/@me, /oauth2/applications/@me
                await client.get_partial_messageable(NEWS).send("hi", embeds=[...])
            async with aiohttp.ClientSession() as http:       # webhooks need no login
                await discord.Webhook.from_url(url, session=http).send("hi", wait=True)
        assert [m.content for m in api.messages_in(NEWS)] == ["hi", "hi"]

discord.py builds every URL, webhooks' too, from ``discord.http.Route.BASE``; ``route_base`` points
it here and puts it back. ``Webhook.from_url`` accepts only discord.com URLs with a 17-20 digit id
and a ≥60-character token, which ``add_webhook`` checks and returns; ``Webhook.partial(id, token,
session=…)`` works as well. Every answer is ``application/json`` exactly (discord.py parses nothing
else) and carries the route's rate-limit headers; 429s carry ``Via: 1.1 google``, without which
discord.py takes a 429 for a Cloudflare ban and gives up.

The parts: options, registry and records in ``discord_standin_state``; routes in
``discord_standin_routes`` and ``discord_standin_interactions``; message checks in
``discord_standin_checks`` (limits from ``tests/platform_rules.py``), command and interaction
checks in ``discord_standin_commands``; errors and records in ``discord_standin_rules``; rate
limits and faults in ``discord_standin_limits``. A message is edited (PATCH) and deleted in its own
channel or thread, and a webhook's message through the webhook with the ``thread_id`` of the thread
it is in (a forum post's): anywhere else it is 10008 Unknown Message. Faults: ``fail``, ``forbid``,
``delete_channel``, ``delete_webhook``. Users act through ``interaction`` (an INTERACTION_CREATE
payload; files they attach come from ``attach`` and are served on 127.0.0.1,
``discord_standin_uploads``), which ``gateway_dispatch`` sends over the stand-in's gateway
(``discord_standin_gateway``; GET /gateway/bot points there) or ``deliver`` hands to a client
directly.
"""

from __future__ import annotations

import contextlib
import json
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests import discord_standin_rules as rules
from tests.discord_standin_gateway import Gateway
from tests.discord_standin_interactions import InteractionApi
from tests.discord_standin_limits import Fault
from tests.discord_standin_rules import ApiError, Json
from tests.discord_standin_state import Call

with warnings.catch_warnings():  # discord.py 2.7 imports audioop, deprecated since Python 3.11
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord as discord  # re-exported: tests import discord from here, warnings as errors

PREFIX = "/api/v10"
#: method, path, handler (``_route_*``), rate-limit bucket (``ROUTE_LIMITS``), who may call.
ROUTES = """
GET    /users/@me                                                    get_me              default     bot
GET    /oauth2/applications/@me                                      get_application     default     bot
GET    /gateway/bot                                                  get_gateway         default     bot
GET    /channels/{channel_id}                                        get_channel         default     bot
POST   /channels/{channel_id}/messages                               post_message        messages    bot
GET    /channels/{channel_id}/messages/{message_id}                  get_message         default     bot
PATCH  /channels/{channel_id}/messages/{message_id}                  edit_message        edits       bot
DELETE /channels/{channel_id}/messages/{message_id}                  delete_message      deletes     bot
POST   /channels/{channel_id}/threads                                post_thread         threads     bot
GET    /applications/{application_id}/commands                       get_commands        default     bot
PUT    /applications/{application_id}/commands                       put_commands        commands    bot
GET    /applications/{application_id}/guilds/{guild_id}/commands     get_commands        default     bot
PUT    /applications/{application_id}/guilds/{guild_id}/commands     put_commands        commands    bot
GET    /webhooks/{webhook_id}/{webhook_token}                        get_webhook         default     anyone
POST   /webhooks/{webhook_id}/{webhook_token}                        execute_webhook     webhook     anyone
GET    /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}  get_hook_message    default     anyone
PATCH  /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}  edit_hook_message   hook_edits  anyone
DELETE /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}  delete_hook_message hook_deletes anyone
POST   /interactions/{interaction_id}/{interaction_token}/callback   callback            interaction anyone
"""


@dataclass
class Route:
    method: str
    template: str
    handler: str
    bucket: str
    auth: str
    pattern: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        self.pattern = re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.template) + "$")


TABLE = [Route(*line.split()) for line in ROUTES.strip().splitlines()]


def match(method: str, path: str) -> tuple[Route, dict[str, str]]:
    """The route and its path parameters, or Discord's 404 or 405."""
    matched = [(r, m) for r in TABLE if (m := r.pattern.match(path))]
    for route, found in matched:
        if route.method == method:
            return route, found.groupdict()
    raise ApiError(405, 0, "405: Method Not Allowed") if matched else ApiError(404, 0, "404: Not Found")


class DiscordStandIn(InteractionApi):
    """The server (``async with``), the request pipeline (route, auth, limits, faults) and fault
    injection. Options, registry and records: ``DiscordState``; routes: ``RestApi``; interactions:
    ``InteractionApi``."""

    _runner: web.AppRunner | None = None

    def __init__(self, *, gateway: dict[str, Any] | None = None, **options: Any) -> None:
        """``options``: ``DiscordState``'s; ``gateway``: ``Gateway``'s (heartbeat_interval, …)."""
        #: Files bots uploaded: (the request's path, the file name, its bytes).
        self.files_sent: list[tuple[str, str, bytes]] = []
        super().__init__(**options)
        self.gateway = Gateway(self, **(gateway or {}))

    async def __aenter__(self) -> DiscordStandIn:
        app = web.Application()
        self.gateway.mount(app)
        app.router.add_get("/attachments/{id:[0-9]+}/{filename}", self._download)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        port = self._runner.addresses[0][1]
        self.root = f"http://127.0.0.1:{port}"
        self.base = f"{self.root}{PREFIX}"
        self.gateway.url = self.gateway_url = f"ws://127.0.0.1:{port}/gateway"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def gateway_dispatch(self, event: str, data: Json) -> int:
        """Send a dispatch to the bot's gateway sessions (``Gateway.dispatch``)."""
        return await self.gateway.dispatch(event, data)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method, path = request.method, request.path.removeprefix(PREFIX)
        self.requests.append((method, path))
        name, headers = f"{method} {path}", {"Via": "1.1 google"}
        try:
            if not request.path.startswith(PREFIX + "/"):
                raise ApiError(404, 0, "404: Not Found")
            route, params = match(method, path)
            if self.limiter.banned():
                self.rejections.append((name, "cloudflare"))
                return web.Response(status=429, text="error code: 1015", headers={"Retry-After": "600"})
            call = Call(method, path, params, dict(request.query))
            self._check_ids(params)
            if route.auth == "bot" and request.headers.get("Authorization") != f"Bot {self.token}":
                raise rules.unauthorized()
            headers |= self.limiter.check(name, route.bucket, route.template, params, bot=route.auth == "bot")
            call.body = await self._read(request)
            result = await getattr(self, f"_route_{route.handler}")(call)
            if result is None:
                return web.Response(status=204, headers=headers)
            return self._json(200, result, headers)
        except ApiError as error:
            return self._error(method, path, error, headers)
        finally:
            self._bump()

    @staticmethod
    def _check_ids(params: dict[str, str]) -> None:
        problems = [
            ((key,), "NUMBER_TYPE_COERCE", f'Value "{value}" is not snowflake.')
            for key, value in params.items()
            if key.endswith("_id") and value != "@original" and not rules.SNOWFLAKE.fullmatch(value)
        ]
        if problems:
            raise rules.form_error(problems)

    async def _read(self, request: web.Request) -> Any:
        if not request.body_exists:
            return None
        files: list[tuple[str, str, bytes]] = []
        if request.content_type == "multipart/form-data":  # payload_json, and files[n]
            form = await request.post()
            raw = form.get("payload_json")
            text = raw if isinstance(raw, str) else "{}"
            for name, value in form.items():
                if isinstance(value, web.FileField):
                    files.append((name, value.filename, value.file.read()))
        else:
            text = await request.text()
        try:
            body = json.loads(text)
        except ValueError:
            raise rules.bad(50109, "The request body contains invalid JSON.") from None
        if files:
            self._check_files(body, files, request.path)
        return body

    def _check_files(self, body: Any, files: list[tuple[str, str, bytes]], path: str) -> None:
        """Discord's rule for uploads: each ``files[n]`` is named in the message's ``attachments``
        by its id ``n``, at most 10 files, none empty or over 10 MiB (a server without boosts)."""
        message = (body or {}).get("data", body) if "type" in (body or {}) else body  # a callback's data
        declared = {str(a.get("id")) for a in (message or {}).get("attachments", []) if isinstance(a, dict)}
        if len(files) > 10:
            raise rules.bad(50035, "Invalid Form Body: too many files")
        for name, filename, data in files:
            number = name.removeprefix("files[").removesuffix("]")
            if not name.startswith("files[") or number not in declared:
                raise rules.bad(50035, f"Invalid Form Body: {name} is not in attachments")
            if not data or len(data) > 10 * 1024 * 1024:
                raise rules.bad(40005, "Request entity too large")
            self.files_sent.append((path, filename, data))

    def _json(self, status: int, body: Any, headers: dict[str, str]) -> web.Response:
        payload = json.dumps(body, ensure_ascii=False).encode()
        return web.Response(
            status=status, body=payload, headers=headers | {"Content-Type": "application/json"}
        )

    def _error(self, method: str, path: str, error: ApiError, headers: dict[str, str]) -> web.Response:
        self.limiter.answered(error)
        self.errors.append((method, path, error.status, error.code))
        headers = headers | error.headers
        if not error.via:
            headers.pop("Via", None)
        if error.status in (502, 504):  # from Cloudflare: an HTML page
            html = f"<html><body>{error.status} Bad Gateway</body></html>"
            return web.Response(status=error.status, text=html, content_type="text/html", headers=headers)
        return self._json(error.status, error.body(), headers)

    def fail(
        self,
        target_id: int,
        status: int = 429,
        retry_after: float = 1.0,
        times: int = 1,
        *,
        scope: str = "user",
        via: bool = True,
        is_global: bool = False,
    ) -> None:
        """The next ``times`` requests naming the channel or webhook ``target_id`` in their path get
        ``status``: 429 (``retry_after`` s, not scaled; ``scope`` user, shared or global; ``via=False``
        as Cloudflare's ban looks to discord.py), or 500, 502, 504 (discord.py retries them after 1,
        3, 5… s)."""
        if status not in (429, 500, 502, 504):
            raise ValueError(f"unsupported status {status}")
        self.limiter.fail(target_id, Fault(status, retry_after, scope, via, is_global), times)


@contextlib.contextmanager
def route_base(api: DiscordStandIn) -> Iterator[str]:
    """Point discord.py's REST and webhook URLs (``discord.http.Route.BASE``) at the stand-in; the
    gateway URL, which a bot sets from GET /gateway/bot, is put back as well."""
    websocket = discord.gateway.DiscordWebSocket
    before, gateway = discord.http.Route.BASE, websocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = api.base
    try:
        yield api.base
    finally:
        discord.http.Route.BASE, websocket.DEFAULT_GATEWAY = before, gateway


def deliver(client: discord.Client, payload: Json) -> None:
    """Hand ``api.interaction(…)``'s payload to the client as its gateway connection would: the
    client's CommandTree (or views) runs the callback, which answers through the stand-in."""
    client._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
