"""The Discord stand-in refuses what Discord refuses, driven by the real discord.py 2.7 client.

A publisher test that passes against ``tests/discord_standin.py`` then means something: long
contents, oversized embeds, unknown and forbidden channels, dead webhooks, bad commands and rate
limits raise what discord.py raises against Discord (``../shared/PLATFORM.md`` section 2), and
discord.py's own rate-limit handling (waiting on the headers, retrying 429s) runs against it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp
import pytest

from tests.discord_standin import DiscordStandIn, deliver, discord, route_base

app_commands = discord.app_commands
GUILD, OTHER_GUILD = 1_100_000_000_000_000_001, 1_100_000_000_000_000_002
NEWS, FORUM, SECRET, GONE = (1_200_000_000_000_000_000 + n for n in range(1, 5))
Scenario = Callable[[DiscordStandIn, discord.Client], Awaitable[None]]


def play(scenario: Scenario, **options: Any) -> DiscordStandIn:
    """Run ``scenario`` with a logged-in client against a fresh stand-in holding a guild, a text
    channel, a forum, a hidden channel and a deleted one."""

    async def main() -> DiscordStandIn:
        async with DiscordStandIn(**options) as api:
            api.add_guild(GUILD, "ML papers")
            api.add_guild(OTHER_GUILD, "No commands", commands_scope=False)
            api.add_channel(NEWS, GUILD, "text", name="daily")
            api.add_channel(FORUM, GUILD, "forum", name="digests")
            api.add_channel(SECRET, GUILD, "news", name="staff")
            api.add_channel(GONE, GUILD, "text", name="old")
            api.forbid(SECRET)
            api.delete_channel(GONE)
            with route_base(api):
                async with discord.Client(intents=discord.Intents.none()) as client:
                    await client.login(api.token)
                    await scenario(api, client)
            return api

    return asyncio.run(main())


async def raw(
    api: DiscordStandIn, method: str, path: str, *, auth: bool = True, **request: Any
) -> tuple[int, Any, Mapping[str, str]]:
    """A request of one's own, not discord.py's: status, body (JSON when the type says so), headers."""
    headers = request.pop("headers", {}) | ({"Authorization": f"Bot {api.token}"} if auth else {})
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, api.base + path, headers=headers, **request) as answer,
    ):
        json = answer.headers.get("Content-Type") == "application/json"
        return answer.status, await (answer.json() if json else answer.text()), answer.headers


def posts(api: DiscordStandIn, channel: int) -> int:
    return api.requests.count(("POST", f"/channels/{channel}/messages"))


def test_login_and_a_message_with_embeds() -> None:
    embed = discord.Embed(title="Attention is all you need", description="Transformers.", url="https://x.org")
    embed.add_field(name="Authors", value="Vaswani et al.").set_footer(text="2017")

    async def scenario(api: DiscordStandIn, client: discord.Client) -> None:
        assert client.user is not None and client.user.name == "Paperboy" and client.user.bot
        assert client.application_id == api.application_id
        sent = await client.get_partial_messageable(NEWS).send("Today's papers", embeds=[embed])
        assert sent.content == "Today's papers" and sent.embeds[0].title == embed.title
        assert sent.author.id == client.user.id and sent.channel.id == NEWS

    api = play(scenario)
    assert api.requests[:3] == [
        ("GET", "/users/@me"),
        ("GET", "/oauth2/applications/@me"),
        ("POST", f"/channels/{NEWS}/messages"),
    ]  # login needs no gateway
    (message,) = api.messages_in(NEWS)
    assert message.content == "Today's papers" and message.webhook_id is None and message.thread_name is None
    assert (
        message.embeds == [embed.to_dict()] and message.id.isdigit() and message.timestamp.endswith("+00:00")
    )
    assert api.errors == [] and api.rejections == []


@pytest.mark.parametrize(
    ("content", "embeds", "error"),
    [
        ("x" * 2001, [], "In content: Must be 2000 or fewer in length."),
        ("🙂" * 1001, [], "In content: Must be 2000 or fewer"),  # 2,002 UTF-16 units: the safe reading
        ("", [{"description": "x" * 3001}] * 2, "In embeds: Embed size exceeds maximum size of 6000"),
        ("", [{"title": "x" * 257}], "In embeds.0.title: Must be 256 or fewer in length."),
        ("", [{"description": "x" * 4097}], "In embeds.0.description: Must be 4096 or fewer"),
        (
            "",
            [{"title": "t", "fields": [{"name": "n", "value": "v"}] * 26}],
            "In embeds.0.fields: Must be 25",
        ),
        ("", [{"title": "t", "fields": [{"name": "n", "value": "v" * 1025}]}], "In embeds.0.fields.0.value"),
        (
            "",
            [{"title": "t", "fields": [{"name": " ", "value": "v"}]}],
            "fields.0.name: This field is required",
        ),
        ("", [{"title": "t", "footer": {"text": "f" * 2049}}], "In embeds.0.footer.text: Must be 2048"),
        ("", [{"author": {"name": "a" * 257}}], "In embeds.0.author.name: Must be 256"),
        ("x", [{"title": "t", "url": "javascript:alert(1)"}], "In embeds.0.url: Not a well formed URL."),
        ("x", [{}], "In embeds.0: Embeds need a title"),
    ],
)
def test_what_discord_refuses_raises_http_exception_50035(
    content: str, embeds: list[Any], error: str
) -> None:
    async def scenario(api: DiscordStandIn, client: discord.Client) -> None:
        with pytest.raises(discord.HTTPException) as raised:
            await client.get_partial_messageable(NEWS).send(
                content, embeds=[discord.Embed.from_dict(e) for e in embeds]
            )
        assert (raised.value.status, raised.value.code) == (400, 50035)
        assert error in raised.value.text, raised.value.text

    api = play(scenario)
    assert api.messages == [] and api.errors == [("POST", f"/channels/{NEWS}/messages", 400, 50035)]


def test_empty_messages_forums_and_the_largest_message_allowed() -> None:
    async def scenario(api: DiscordStandIn, client: discord.Client) -> None:
        news = client.get_partial_messageable(NEWS)
        for empty in (None, "   "):
            with pytest.raises(discord.HTTPException, match="Cannot send an empty message") as raised:
                await news.send(empty)
            assert raised.value.code == 50006
        with pytest.raises(discord.HTTPException, match="non-text channel"):
            await client.get_partial_messageable(FORUM).send("forums take posts, not messages")
        full = [discord.Embed(description="x" * 590, url="https://x.org")] * 10  # 5,900 of 6,000
        await news.send("x" * 2000, embeds=full)

    api = play(scenario)
    assert [(len(m.content), len(m.embeds)) for m in api.messages] == [(2000, 10)]
    assert [code for *_, code in api.errors] == [50006, 50006, 50008]


def test_unknown_hidden_and_forbidden_channels() -> None:
    async def scenario(api: DiscordStandIn, client: discord.Client) -> None:
        with pytest.raises(discord.NotFound, match="Unknown Channel") as unknown:
            await client.get_partial_messageable(1_299_999_999_999_999_999).send("hi")
        with pytest.raises(discord.NotFound) as deleted:
            await client.get_partial_messageable(GONE).send("hi")
        with pytest.raises(discord.Forbidden, match="Missing Access") as hidden:
            await client.get_partial_messageable(SECRET).send("hi")
        assert (unknown.value.code, deleted.value.code, hidden.value.code) == (10003, 10003, 50001)
        api.forbid(NEWS, code=50013)  # the bot sees the channel, may not write in it
        assert (await client.fetch_channel(NEWS)).id == NEWS
        with pytest.raises(discord.Forbidden, match="Missing Permissions") as denied:
            await client.get_partial_messageable(NEWS).send("hi")
        assert denied.value.code == 50013
        api.restore(NEWS)
        await client.get_partial_messageable(NEWS).send("hi again")

    api = play(scenario)
    assert [(status, code) for *_, status, code in api.errors] == [
        (404, 10003),
        (404, 10003),
        (403, 50001),
        (403, 50013),
    ]
    assert [m.content for m in api.messages] == ["hi again"]


def test_seven_messages_wait_on_the_headers_and_provoke_no_429() -> None:
    """5 messages per 5 s a channel, scaled to 5 per second: discord.py reads X-RateLimit-Remaining
    0 on the fifth answer and sleeps X-RateLimit-Reset-After before returning it."""

    async def scenario(api: DiscordStandIn, client: discord.Client) -> None:
        news, started = client.get_partial_messageable(NEWS), time.monotonic()
        for n in range(7):
            await news.send(f"paper {n}")
        assert time.monotonic() - started >= 0.95  # one window (1 s, less the first request's own time)

    api = play(scenario, scale=0.2)
    assert api.rejections == [] and [m.content for m in api.messages] == [f"paper {n}" for n in range(7)]
    assert api.messages[5].at - api.messages[4].at >= 0.9  # the wait fell between the fifth and sixth


def test_the_stand_in_enforces_the_limits_discord_py_respects() -> None:
    async def scenario(api: DiscordStandIn, client: discord.Client) -> None:
        answers = [
            await raw(api, "POST", f"/channels/{NEWS}/messages", json={"content": "x"}) for _ in range(6)
        ]
        assert [a[0] for a in answers] == [200] * 5 + [429]
        remaining = [a[2]["X-RateLimit-Remaining"] for a in answers]
        assert remaining == ["4", "3", "2", "1", "0", "0"]
        _, body, headers = answers[-1]
        assert body["message"] == "You are being rate limited." and body["global"] is False
        assert (
            4 < body["retry_after"] <= 5 and float(headers["X-RateLimit-Reset-After"]) == body["retry_after"]
        )
        assert headers["Retry-After"] == "5" and headers["X-RateLimit-Scope"] == "user"
        assert headers["Via"] == "1.1 google" and headers["Content-Type"] == "application/json"
        assert float(headers["X-RateLimit-Reset"]) == pytest.approx(
            time.time() + body["retry_after"], abs=0.2
        )

    api = play(scenario)
    assert api.rejections == [(f"POST /channels/{NEWS}/messages", "route")]


def test_the_global_limit_is_waited_out_by_discord_py() -> None:
    channels = [1_200_000_000_000_000_010 + n for n in range(4)]

    async def scenario(api: DiscordStandIn, client: discord.Client) -> None:
        for channel in channels:
            api.add_channel(channel, GUILD, "text")
        assert [(await raw(api, "GET", "/users/@me"))[0] for _ in range(3)] == [200, 200, 429]  # login: 2
        status, body, headers = await raw(api, "GET", "/gateway/bot")
        assert (status, body["global"], headers["X-RateLimit-Global"], headers["X-RateLimit-Scope"]) == (
            429,
            True,
            "true",
            "global",
        )
        await asyncio.gather(*(client.get_partial_messageable(c).send("hi") for c in channels))

    api = play(scenario, global_limit=4)  # 4 requests a second
    assert {reason for _, reason in api.rejections} == {"global"} and len(api.rejections) >= 3
    assert sorted(m.channel_id for m in api.messages) == channels  # each arrived once


def test_an_injected_429_is_waited_out_and_retried_once() -> None:
    async def scenario(api: DiscordStandIn, client: discord.Client) -> None:
        api.fail(NEWS, 429, retry_after=0.3)
        started = time.monotonic()
        await client.get_partial_messageable(NEWS).send("after a 429")
        assert time.monotonic() - started >= 0.3

    api = play(scenario)
    assert api.rejections == [(f"POST /channels/{NEWS}/messages", "injected")] and posts(api, NEWS) == 2
    assert [m.content for m in api.messages] == ["after a 429"]


def test_a_429_without_via_is_a_cloudflare_ban_to_discord_py() -> None:
    """discord.py retries a 429 only when it has a Via header (Discord's load balancer); the
    stand-in's own 429s have it, as the test above shows, and this one has not."""

    async def scenario(api: DiscordStandIn, client: discord.Client) -> None:
        api.fail(NEWS, 429, retry_after=0.1, via=False)
        with pytest.raises(discord.HTTPException) as raised:
            await client.get_partial_messageable(NEWS).send("banned?")
        assert raised.value.status == 429 and not isinstance(raised.value, discord.RateLimited)
        assert "Via" not in raised.value.response.headers

    api = play(scenario)
    assert posts(api, NEWS) == 1 and api.messages == []


def test_too_many_invalid_requests_earn_a_ban() -> None:
    async def scenario(api: DiscordStandIn, client: discord.Client) -> None:
        for _ in range(3):
            with pytest.raises(discord.Forbidden):
                await client.get_partial_messageable(SECRET).send("knock")
        with pytest.raises(discord.HTTPException) as raised:
            await client.get_partial_messageable(NEWS).send("hello?")
        assert raised.value.status == 429 and raised.value.text == "error code: 1015"

    api = play(scenario, invalid_limit=3)
    assert api.rejections == [(f"POST /channels/{NEWS}/messages", "cloudflare")]


def test_a_transient_500_is_retried() -> None:
    async def scenario(api: DiscordStandIn, client: discord.Client) -> None:
        api.fail(NEWS, 502)  # Cloudflare's HTML page; discord.py sleeps 1 s and retries
        await client.get_partial_messageable(NEWS).send("eventually")

    api = play(scenario)
    assert posts(api, NEWS) == 2 and [m.content for m in api.messages] == ["eventually"]


def test_edits_and_deletes() -> None:
    async def scenario(api: DiscordStandIn, client: discord.Client) -> None:
        sent = await client.get_partial_messageable(NEWS).send("page 1", embed=discord.Embed(title="t"))
        edited = await sent.edit(content="page 2")
        assert edited.content == "page 2" and edited.embeds[0].title == "t" and edited.edited_at
        with pytest.raises(discord.HTTPException, match="In content: Must be 2000"):
            await sent.edit(content="x" * 2001)
        await sent.edit(content=None)  # the embed alone is a message
        with pytest.raises(discord.HTTPException, match="Cannot send an empty message"):
            await sent.edit(embeds=[])
        await sent.delete()
        with pytest.raises(discord.NotFound, match="Unknown Message"):
            await sent.channel.fetch_message(sent.id)

    api = play(scenario)
    (message,) = api.messages
    assert (message.content, message.edits, message.deleted) == ("", 2, True) and api.messages_in(NEWS) == []


def test_edits_and_deletes_have_buckets_of_their_own_and_unknown_messages_are_10008() -> None:
    big = {"title": "t", "description": "x" * 4096}

    async def scenario(api: DiscordStandIn, client: discord.Client) -> None:
        ids = [(await raw(api, "POST", f"/channels/{NEWS}/messages", json={"content": "x"}))[1]["id"]]
        edits = [
            await raw(api, "PATCH", f"/channels/{NEWS}/messages/{ids[0]}", json={"content": f"edit {n}"})
            for n in range(6)
        ]
        assert [a[0] for a in edits] == [200] * 5 + [429]  # too fast: five edits a channel per 5 s
        assert (
            edits[-1][2]["X-RateLimit-Bucket"]
            != (await raw(api, "GET", "/users/@me"))[2]["X-RateLimit-Bucket"]
        )
        await asyncio.sleep(1.0)  # the bucket's 5 s, at scale 0.2
        sent = client.get_partial_messageable(NEWS).get_partial_message(int(ids[0]))
        with pytest.raises(discord.HTTPException) as raised:  # over Discord's 6,000 across embeds
            await sent.edit(embeds=[discord.Embed.from_dict(big), discord.Embed.from_dict(big)])
        assert (raised.value.status, raised.value.code) == (400, 50035)
        await sent.delete()
        for method in ("PATCH", "DELETE"):
            status, body, _ = await raw(
                api, method, f"/channels/{NEWS}/messages/{ids[0]}", json={"content": "y"}
            )
            assert (status, body["code"], body["message"]) == (404, 10008, "Unknown Message")
        status, body, _ = await raw(
            api, "PATCH", f"/channels/{FORUM}/messages/{ids[0]}", json={"content": "y"}
        )
        assert (status, body["code"]) == (404, 10008)  # a forum's own message routes hold no messages

    api = play(scenario, scale=0.2)
    assert api.rejections == [(f"PATCH /channels/{NEWS}/messages/{api.messages[0].id}", "route")]
    assert api.messages[0].edits == 5 and api.messages[0].deleted


def test_a_webhooks_message_in_a_forum_post_is_edited_and_deleted_through_its_thread_id() -> None:
    async def scenario(api: DiscordStandIn, client: discord.Client) -> None:
        url = api.add_webhook(api.snowflake(), None, FORUM, name="Digest")
        hook_id, token = url.split("/")[-2:]
        async with aiohttp.ClientSession() as http:
            hook = discord.Webhook.from_url(url, session=http)
            first = await hook.send("Today", thread_name="2026-11-23", wait=True)
            second = await hook.send("more", thread=discord.Object(first.id), wait=True)
        path = f"/webhooks/{hook_id}/{token}/messages/{second.id}"
        for query, code in [({}, 10008), ({"thread_id": str(NEWS)}, 10003), ({"thread_id": "x"}, 50035)]:
            status, body, _ = await raw(api, "PATCH", path, auth=False, params=query, json={"content": "?"})
            assert (status, body["code"]) == (404 if code != 50035 else 400, code), query
        await asyncio.sleep(0.4)  # those three counted in the bucket: a fresh window (2 s at scale 0.2)
        where = {"thread_id": str(first.id)}
        answers = [
            await raw(api, "PATCH", path, auth=False, params=where, json={"content": f"more, {n}"})
            for n in range(6)
        ]
        assert [a[0] for a in answers] == [200] * 5 + [429]  # a webhook's edits: five per 2 s
        await asyncio.sleep(0.4)
        status, body, _ = await raw(
            api, "PATCH", path, auth=False, params=where, json={"content": "x" * 2001}
        )
        assert (status, body["code"]) == (400, 50035)
        assert (await raw(api, "DELETE", path, auth=False, params=where))[0] == 204
        assert (await raw(api, "DELETE", path, auth=False, params=where))[1]["code"] == 10008

    api = play(scenario, scale=0.2)
    first, second = api.messages
    assert (first.content, second.content, second.edits, second.deleted) == ("Today", "more, 4", 5, True)


def test_mentions_ping_unless_allowed_mentions_says_otherwise() -> None:
    async def scenario(api: DiscordStandIn, client: discord.Client) -> None:
        news = client.get_partial_messageable(NEWS)
        await news.send("@everyone new papers by <@42> for <@&7>")
        await news.send("@everyone new papers by <@42>", allowed_mentions=discord.AllowedMentions.none())
        both = {"content": "x", "allowed_mentions": {"parse": ["users"], "users": ["42"]}}
        status, body, _ = await raw(api, "POST", f"/channels/{NEWS}/messages", json=both)
        assert (status, body["errors"]["allowed_mentions"]["_errors"][0]["code"]) == (
            400,
            "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
        )

    api = play(scenario)
    assert [m.pings for m in api.messages] == [["@everyone", "<@42>", "<@&7>"], []]


class Pager(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Next", custom_id="page:2")
    async def next(self, interaction: discord.Interaction, button: discord.ui.Button[Pager]) -> None:
        await interaction.response.edit_message(content="page 2")


def test_buttons_are_checked_and_a_press_updates_the_message() -> None:
    def row(*buttons: dict[str, Any]) -> dict[str, Any]:
        return {"content": "x", "components": [{"type": 1, "components": list(buttons)}]}

    button = {"type": 2, "style": 1, "label": "Go", "custom_id": "go"}
    link = {"type": 2, "style": 5, "label": "arXiv", "url": "https://arxiv.org"}

    async def scenario(api: DiscordStandIn, client: discord.Client) -> None:
        sent = await client.get_partial_messageable(NEWS).send("page 1", view=Pager())
        deliver(client, api.interaction("component", NEWS, message_id=str(sent.id), custom_id="page:2"))
        await api.wait_for(lambda: api.messages[0].edits)
        for body, where, code in [
            (
                row(*[button | {"custom_id": f"b{n}"} for n in range(6)]),
                "0.components",
                "BASE_TYPE_MAX_LENGTH",
            ),
            (row(button, button), "0.components.1.custom_id", "COMPONENT_CUSTOM_ID_DUPLICATED"),
            (
                row(link | {"custom_id": "x"}),
                "0.components.0.custom_id",
                "BUTTON_COMPONENT_CUSTOM_ID_FORBIDDEN",
            ),
            (row(button | {"label": "x" * 81}), "0.components.0.label", "BASE_TYPE_BAD_LENGTH"),
            (row(button) | {"flags": 64}, "", "MESSAGE_FLAGS_INVALID"),  # ephemeral: interactions only
        ]:
            status, answer, _ = await raw(api, "POST", f"/channels/{NEWS}/messages", json=body)
            errors = answer["errors"]["components" if where else "flags"]
            for step in filter(None, where.split(".")):
                errors = errors[step]
            assert status == 400 and code in [e["code"] for e in errors["_errors"]], answer
        assert (await raw(api, "POST", f"/channels/{NEWS}/messages", json=row(button, link)))[0] == 200

    api = play(scenario, limits={"messages": (0, 0.0)})  # 7 posts in a row: no limit
    first = api.messages[0]
    assert (first.content, first.components[0]["components"][0]["custom_id"]) == ("page 2", "page:2")
    assert [r.type for r in api.interaction_responses] == [7]


def test_forum_posts_by_the_bot_and_by_a_webhook() -> None:
    async def scenario(api: DiscordStandIn, client: discord.Client) -> None:
        forum = await client.fetch_channel(FORUM)
        assert isinstance(forum, discord.ForumChannel) and forum.name == "digests"
        post = await forum.create_thread(name="2026-11-23", content="Today", embed=discord.Embed(title="t"))
        assert post.thread.name == "2026-11-23" and post.message.id == post.thread.id
        with pytest.raises(discord.HTTPException, match=r"In message\.content: Must be 2000"):
            await forum.create_thread(name="too long", content="x" * 2001)
        with pytest.raises(discord.HTTPException, match="In name: Must be between 1 and 100"):
            await forum.create_thread(name="x" * 101, content="x")
        await client.get_partial_messageable(post.thread.id).send("a reply in the post")
        url = api.add_webhook(api.snowflake(), None, FORUM, name="Digest")
        async with aiohttp.ClientSession() as http:
            hook = discord.Webhook.from_url(url, session=http)
            by_hook = await hook.send("Tomorrow", thread_name="2026-11-24", wait=True)
            assert by_hook.channel.id == int(by_hook.id)
            with pytest.raises(discord.HTTPException, match="must have a thread_name or thread_id") as raised:
                await hook.send("where?")
            assert raised.value.code == 220001
            await hook.send("into the first post", thread=discord.Object(post.thread.id))

    api = play(scenario)
    posts_ = [(m.thread_name, m.content, m.webhook_id is not None) for m in api.messages_in(FORUM)]
    assert posts_ == [
        ("2026-11-23", "Today", False),
        ("2026-11-23", "a reply in the post", False),
        ("2026-11-24", "Tomorrow", True),
        ("2026-11-23", "into the first post", True),
    ]
    assert all(m.parent_id == FORUM for m in api.messages)


def test_webhooks_from_url_and_partial() -> None:
    async def scenario(api: DiscordStandIn, client: discord.Client) -> None:
        hook_id = api.snowflake()
        url = api.add_webhook(hook_id, None, NEWS, name="Paperboy digest")
        assert url.startswith(f"https://discord.com/api/webhooks/{hook_id}/")
        async with aiohttp.ClientSession() as http:
            hook = discord.Webhook.from_url(url, session=http)
            await hook.send("no wait")  # 204 No Content
            sent = await hook.send("waited", username="Papers", embeds=[discord.Embed(title="t")], wait=True)
            assert sent.content == "waited" and sent.author.name == "Papers" and sent.webhook_id == hook_id
            assert (await hook.fetch()).name == "Paperboy digest"
            await sent.edit(content="edited")
            with pytest.raises(discord.HTTPException, match="In content: Must be 2000"):
                await hook.send("x" * 2001)
            wrong = discord.Webhook.partial(hook_id, "x" * 68, session=http)
            with pytest.raises(discord.HTTPException, match="Invalid Webhook Token"):
                await wrong.send("x")
            api.delete_webhook(hook_id)
            with pytest.raises(discord.NotFound, match="Unknown Webhook") as raised:
                await hook.send("gone", wait=True)
            assert raised.value.code == 10015
        with pytest.raises(ValueError, match="17-20 digit id"):
            api.add_webhook(42, None, NEWS)

    api = play(scenario, scale=0.2)  # discord.py waits out the webhook's window (2 s) after 5 requests
    assert [(m.content, m.username) for m in api.messages_in(NEWS)] == [
        ("no wait", None),
        ("edited", "Papers"),
    ]


def test_command_tree_sync_stores_what_discord_accepts() -> None:
    async def scenario(api: DiscordStandIn, client: discord.Client) -> None:
        tree = app_commands.CommandTree(client)

        @tree.command(name="today", description="Today's papers")
        @app_commands.describe(tag="Only this tag")
        async def today(interaction: discord.Interaction, tag: str | None = None) -> None: ...

        follow = app_commands.Group(name="tag", description="Tags you follow")

        @follow.command(name="add", description="Follow a tag")
        @app_commands.choices(tag=[app_commands.Choice(name=t, value=t) for t in ("cv", "nlp")])
        async def add(interaction: discord.Interaction, tag: str) -> None: ...

        tree.add_command(follow)
        synced = await tree.sync()
        assert sorted(c.name for c in synced) == ["tag", "today"] and all(c.id for c in synced)
        again = await tree.sync()
        assert {c.name: c.id for c in again} == {c.name: c.id for c in synced}  # ids survive an overwrite
        tree.copy_global_to(guild=discord.Object(GUILD))
        assert len(await tree.sync(guild=discord.Object(GUILD))) == 2
        with pytest.raises(discord.Forbidden, match="Missing Access"):
            await tree.sync(guild=discord.Object(OTHER_GUILD))  # invited without applications.commands

        @tree.command(name="pick", description="Pick one")
        @app_commands.choices(tag=[app_commands.Choice(name=f"t{n}", value=f"t{n}") for n in range(26)])
        async def pick(interaction: discord.Interaction, tag: str) -> None: ...

        with pytest.raises(app_commands.CommandSyncFailure, match="choices: Must be 25 or fewer"):
            await tree.sync()  # discord.py does not count choices; Discord does

    api = play(scenario)
    assert sorted(c["name"] for c in api.commands[None]) == ["tag", "today"]
    assert all(c["guild_id"] == str(GUILD) for c in api.commands[GUILD]) and OTHER_GUILD not in api.commands
    (group,) = (c for c in api.commands[None] if c["name"] == "tag")
    assert group["options"][0]["options"][0]["choices"] == [
        {"name": "cv", "value": "cv"},
        {"name": "nlp", "value": "nlp"},
    ]


def option(name: str = "tag", **extra: Any) -> dict[str, Any]:
    return {"type": 3, "name": name, "description": "A tag"} | extra


def command(name: str = "today", **extra: Any) -> dict[str, Any]:
    return {"name": name, "description": "Today's papers"} | extra


@pytest.mark.parametrize(
    ("commands", "where", "code"),
    [
        ([command("Today")], "0.name", "APPLICATION_COMMAND_INVALID_NAME"),
        ([command("to day")], "0.name", "APPLICATION_COMMAND_INVALID_NAME"),
        ([command("x" * 33)], "0.name", "APPLICATION_COMMAND_INVALID_NAME"),
        ([command(description="")], "0.description", "BASE_TYPE_BAD_LENGTH"),
        ([command(description="x" * 101)], "0.description", "BASE_TYPE_BAD_LENGTH"),
        ([command(options=[option(f"o{n}") for n in range(26)])], "0.options", "BASE_TYPE_MAX_LENGTH"),
        (
            [command(options=[option(choices=[{"name": f"c{n}", "value": f"c{n}"} for n in range(26)])])],
            "0.options.0.choices",
            "BASE_TYPE_MAX_LENGTH",
        ),
        (
            [command(options=[option(autocomplete=True, choices=[{"name": "cv", "value": "cv"}])])],
            "0.options.0.autocomplete",
            "APPLICATION_COMMAND_OPTION_CHOICES_AUTOCOMPLETE_EXCLUSIVE",
        ),
        (
            [command(options=[option(type=5, autocomplete=True)])],  # a boolean option
            "0.options.0",
            "APPLICATION_COMMAND_OPTION_TYPE_INVALID",
        ),
        (
            [command(options=[option("a"), option("b", required=True)])],
            "0.options.1.required",
            "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
        ),
        (
            [command(options=[option("a"), option("a")])],
            "0.options.1.name",
            "APPLICATION_COMMAND_OPTION_NAME_ALREADY_EXISTS",
        ),
        (
            [command(options=[{"type": 2, "name": "g", "description": "Group", "options": [option()]}])],
            "0.options.0.options.0.type",
            "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
        ),
        ([command(), command()], "1.name", "APPLICATION_COMMANDS_DUPLICATE_NAME"),
        ({"name": "today"}, "", "BASE_TYPE_ARRAY"),
    ],
)
def test_invalid_commands_are_refused_whole(commands: Any, where: str, code: str) -> None:
    async def scenario(api: DiscordStandIn, client: discord.Client) -> None:
        status, body, _ = await raw(api, "PUT", f"/applications/{api.application_id}/commands", json=commands)
        assert (status, body["code"], body["message"]) == (400, 50035, "Invalid Form Body")
        errors = body["errors"]
        for step in filter(None, where.split(".")):
            errors = errors[step]
        assert code in [error["code"] for error in errors["_errors"]], body["errors"]

    api = play(scenario)
    assert api.commands == {}


def test_valid_commands_in_any_script_and_command_limits() -> None:
    async def scenario(api: DiscordStandIn, client: discord.Client) -> None:
        path = f"/applications/{api.application_id}/commands"
        korean = [
            command("오늘", options=[option("태그", autocomplete=True)]),
            {"type": 3, "name": "Save Paper"},
        ]
        status, body, _ = await raw(api, "PUT", path, json=korean)
        assert status == 200 and [c["name"] for c in body] == ["오늘", "Save Paper"]
        status, body, _ = await raw(api, "PUT", path, json=[command(f"c{n}") for n in range(101)])
        assert (status, body["code"]) == (400, 30032)
        status, body, _ = await raw(api, "PUT", "/applications/1/commands", json=[])
        assert (status, body["code"]) == (403, 50001)

    api = play(scenario)
    assert [c["name"] for c in api.commands[None]] == ["오늘", "Save Paper"]


def test_interactions_autocomplete_and_command_responses() -> None:
    async def scenario(api: DiscordStandIn, client: discord.Client) -> None:
        tree = app_commands.CommandTree(client)
        tags = ["cv", "nlp", "rl"] + [f"t{n}" for n in range(30)]

        async def complete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            found = [t for t in tags if t.startswith(current)]
            return [app_commands.Choice(name=t, value=t) for t in found]  # no [:25]: Discord refuses 26+

        @tree.command(name="follow", description="Follow a tag")
        @app_commands.autocomplete(tag=complete)
        async def follow(interaction: discord.Interaction, tag: str) -> None:
            await interaction.response.defer(ephemeral=True)
            await interaction.edit_original_response(content=f"Following {tag}")
            await interaction.followup.send("Anything else?", ephemeral=True)

        await tree.sync()
        deliver(
            client, api.interaction("autocomplete", NEWS, name="follow", options={"tag": "c"}, focused="tag")
        )
        await api.wait_for(lambda: api.interaction_responses)
        deliver(
            client, api.interaction("autocomplete", NEWS, name="follow", options={"tag": "t"}, focused="tag")
        )
        await api.wait_for(lambda: api.errors)
        deliver(client, api.interaction("command", NEWS, name="follow", options={"tag": "cv"}))
        await api.wait_for(lambda: len(api.messages_in(NEWS)) == 2)
        with pytest.raises(ValueError, match="no synced command /unfollow"):
            api.interaction("command", NEWS, name="unfollow")

    api = play(scenario)
    assert [(r.type, r.data) for r in api.interaction_responses] == [
        (8, {"choices": [{"name": "cv", "value": "cv"}]}),
        (5, {"flags": 64}),
    ]
    (refused,) = api.errors
    assert refused[2:] == (400, 50035) and refused[1].endswith("/callback")
    assert [(m.content, m.flags, m.interaction_id is not None) for m in api.messages_in(NEWS)] == [
        ("Following cv", 64, True),
        ("Anything else?", 64, True),
    ]


def test_interaction_callbacks_are_answered_once_and_in_time() -> None:
    async def scenario(api: DiscordStandIn, client: discord.Client) -> None:
        await raw(api, "PUT", f"/applications/{api.application_id}/commands", json=[command()])
        first = api.interaction("command", NEWS, name="today")
        callback = f"/interactions/{first['id']}/{first['token']}/callback"
        message = {"type": 4, "data": {"content": "Today: 3 papers"}}
        status, body, _ = await raw(api, "POST", callback + "?with_response=true", auth=False, json=message)
        assert status == 200 and body["resource"]["message"]["content"] == "Today: 3 papers"
        status, body, _ = await raw(api, "POST", callback, auth=False, json=message)
        assert (status, body["code"]) == (400, 40060)
        late = api.interaction("command", NEWS, name="today")
        await asyncio.sleep(0.25)
        status, body, _ = await raw(
            api, "POST", f"/interactions/{late['id']}/{late['token']}/callback", auth=False, json=message
        )
        assert (status, body["code"], body["message"]) == (404, 10062, "Unknown interaction")
        third = api.interaction("command", NEWS, name="today")
        wrong = {"type": 8, "data": {"choices": []}}  # an autocomplete result answers no command
        status, body, _ = await raw(
            api, "POST", f"/interactions/{third['id']}/{third['token']}/callback", auth=False, json=wrong
        )
        assert (status, body["errors"]["type"]["_errors"][0]["code"]) == (
            400,
            "INTERACTION_RESPONSE_TYPE_INVALID",
        )

    api = play(scenario, interaction_timeout=0.2)
    assert [m.content for m in api.messages] == ["Today: 3 papers"]


def test_the_wire_format() -> None:
    async def scenario(api: DiscordStandIn, client: discord.Client) -> None:
        status, body, headers = await raw(api, "GET", "/users/@me", auth=False)
        assert (status, body) == (401, {"message": "401: Unauthorized", "code": 0})
        status, body, headers = await raw(api, "GET", f"/channels/{NEWS}")
        assert status == 200 and body["name"] == "daily" and headers["Content-Type"] == "application/json"
        assert {
            "X-RateLimit-Limit",
            "X-RateLimit-Remaining",
            "X-RateLimit-Reset",
            "X-RateLimit-Reset-After",
            "X-RateLimit-Bucket",
        } <= headers.keys()
        status, body, headers = await raw(api, "DELETE", f"/channels/{NEWS}/messages/123")
        assert (status, body["code"]) == (404, 10008) and "X-RateLimit-Bucket" in headers
        assert (await raw(api, "GET", "/channels/abc"))[1]["errors"]["channel_id"]["_errors"][0][
            "code"
        ] == "NUMBER_TYPE_COERCE"
        assert (await raw(api, "GET", "/guilds/1/members"))[:2] == (
            404,
            {"message": "404: Not Found", "code": 0},
        )
        assert (await raw(api, "PUT", f"/channels/{NEWS}"))[:2] == (
            405,
            {"message": "405: Method Not Allowed", "code": 0},
        )
        status, body, _ = await raw(
            api,
            "POST",
            f"/channels/{NEWS}/messages",
            data=b"{oops",
            headers={"Content-Type": "application/json"},
        )
        assert (status, body["code"]) == (400, 50109)
        assert api.base == discord.http.Route.BASE

    play(scenario)
    assert discord.http.Route.BASE == "https://discord.com/api/v10"  # route_base put it back
