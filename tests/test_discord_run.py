"""``paperboy run`` with a Discord token, against the stand-in's REST API and gateway: it
identifies and syncs its commands, publishes the day to a subscribed channel and a webhook once
each, answers /tag over the gateway, and welcomes a channel that subscribes with the latest digest."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from bot import subscriptions as store
from bot.archive.store import Archive, open_archive
from bot.desk import drafts
from scheduler.ledger import Ledger
from tests.conftest import run_env
from tests.desk_posts import NEW_DAY, NEW_DAY_TEXT
from tests.discord_standin import DiscordStandIn
from tests.discord_standin_rules import Message
from tests.platform_rules import discord_violations
from tests.test_publish import LONG_AGO

GUILD = 1_100_000_000_000_000_001
NEWS, HOOKED, NEW = (1_200_000_000_000_000_000 + n for n in range(1, 4))
MANAGE_CHANNELS = 1 << 4


def shown(messages: list[Message]) -> list[tuple[str, list[object]]]:
    return [(m.content, m.embeds) for m in messages]


def published(api: DiscordStandIn, channel: int) -> list[Message]:
    """The channel's messages that are not answers to a command."""
    return [m for m in api.messages_in(channel) if m.interaction_id is None]


async def delivered(archive: Archive, count: int, timeout: float = 90.0) -> None:
    """Wait until the ledger has ``count`` deliveries sent (polled: another process writes it)."""
    ledger = Ledger(archive, "test")
    async with asyncio.timeout(timeout):
        while len(ledger.listing(status="sent")) < count:
            await asyncio.sleep(0.2)


def test_paperboy_run_identifies_publishes_and_answers_over_the_gateway(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/run.db"

    async def main() -> DiscordStandIn:
        async with DiscordStandIn() as api, asyncio.timeout(240):
            api.add_guild(GUILD, "ML papers")
            api.add_channel(NEWS, GUILD, "text", name="papers")
            api.add_channel(HOOKED, GUILD, "text", name="papers-by-webhook")
            api.add_channel(NEW, GUILD, "text", name="new-papers")
            hook = api.add_webhook(api.snowflake(), None, HOOKED)
            with open_archive(db) as archive:
                store.add(archive, f"discord:{NEWS}", now=LONG_AGO)  # subscribed long before today
                store.add(archive, f"discord-webhook:{hook}", now=LONG_AGO)
                env = run_env(
                    db, tmp_path, PAPERBOY_DISCORD_TOKEN=api.token, PAPERBOY_DISCORD_API_URL=api.base
                )
                proc = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot", "run", "--no-web",
                    env=env, cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                )  # fmt: skip
                try:
                    await scenario(api, archive)
                finally:
                    proc.send_signal(signal.SIGTERM)
                    out, err = await asyncio.wait_for(proc.communicate(), 60)
        log = out.decode() + err.decode()
        assert proc.returncode == 0, log
        assert "Traceback" not in log and "Unclosed client session" not in log, log
        assert "discord bot Paperboy has its commands in every server" in log
        assert api.token not in log and hook.rsplit("/", 1)[1] not in log  # no secret reaches the log
        return api

    async def scenario(api: DiscordStandIn, archive: Archive) -> None:
        session = await api.gateway.wait_for_session(timeout=60)
        (identify,) = api.gateway.identifies
        assert identify["intents"] == 1  # guilds only: interactions need no intent
        assert session.shard == (0, 1)
        names = {c["name"] for c in api.commands[None]}  # synced globally before connecting
        assert {"tag", "subscribe", "latest"} <= names

        await delivered(archive, 2)  # today's digest, to the channel and through the webhook
        digest = published(api, NEWS)
        assert digest and shown(api.messages_in(HOOKED)) == shown(digest)  # same messages, same order
        assert len({str(m) for m in shown(digest)}) == len(digest)  # nothing twice
        assert all(m.webhook_id is not None for m in api.messages_in(HOOKED))

        payload = api.interaction("command", NEWS, name="tag", options={"tag": "vq"})
        assert await api.gateway_dispatch("INTERACTION_CREATE", payload) == 1
        asked = int(payload["id"])
        reply = await api.wait_for(
            lambda: [m for m in api.messages if m.interaction_id == asked and m.embeds], timeout=60
        )
        assert [r.interaction_id for r in api.interaction_responses] == [asked]
        assert any("Scaling the Codebook Size of VQGAN" in e.get("title", "") for e in reply[0].embeds)
        for message in api.messages:
            assert discord_violations({"content": message.content, "embeds": message.embeds}) == []

        subscribe = api.interaction("command", NEW, name="subscribe")
        member = subscribe["member"]
        member["permissions"] = str(int(member["permissions"]) | MANAGE_CHANNELS)
        await api.gateway_dispatch("INTERACTION_CREATE", subscribe)
        welcome = await api.wait_for(
            lambda: len(published(api, NEW)) >= len(digest) and published(api, NEW), timeout=60
        )
        assert shown(welcome) == shown(digest)  # the latest digest, at once
        found = store.get(archive, f"discord:{NEW}")
        assert found is not None and found.status == "active"
        answered = [r for r in api.interaction_responses if r.interaction_id == int(subscribe["id"])]
        assert answered, "the /subscribe interaction got no answer"

    api = asyncio.run(main())
    assert api.errors == []  # Discord refused nothing
    assert shown(published(api, NEWS)) == shown(published(api, HOOKED))  # published once, not again


CURATOR = 1_500_000_000_000_000_001


def test_a_curator_posts_previews_and_publishes_through_paperboy_run(tmp_path: Path) -> None:
    """The desk inside the service, over the gateway: ``/post`` with a file, the ephemeral preview,
    "Publish now", and the subscribed channel getting the day exactly as the preview showed it."""
    db = f"sqlite:///{tmp_path}/run.db"

    async def main() -> DiscordStandIn:
        async with DiscordStandIn() as api, asyncio.timeout(240):
            api.add_guild(GUILD, "ML papers")
            api.add_channel(NEWS, GUILD, "text", name="papers")
            api.add_channel(NEW, GUILD, "text", name="desk")
            with open_archive(db) as archive:
                store.add(archive, f"discord:{NEWS}", now=LONG_AGO)
                env = run_env(
                    db,
                    tmp_path,
                    PAPERBOY_DISCORD_TOKEN=api.token,
                    PAPERBOY_DISCORD_API_URL=api.base,
                    PAPERBOY_CURATORS=f"discord:{CURATOR}",
                )
                proc = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot", "run", "--no-web",
                    env=env, cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                )  # fmt: skip
                try:
                    await curate(api, archive)
                finally:
                    proc.send_signal(signal.SIGTERM)
                    out, err = await asyncio.wait_for(proc.communicate(), 60)
        log = out.decode() + err.decode()
        assert proc.returncode == 0, log
        assert "Traceback" not in log and api.token not in log, log
        return api

    async def curate(api: DiscordStandIn, archive: Archive) -> None:
        await api.gateway.wait_for_session(timeout=60)
        await delivered(archive, 1)  # today's digest: the service is up
        assert "post" in {c["name"] for c in api.commands[None]}
        today = len(published(api, NEWS))
        post = api.interaction(
            "command", NEW, name="post", options={"file": api.attach(NEW_DAY_TEXT.encode(), "day.txt")},
            user_id=CURATOR,
        )  # fmt: skip
        await api.gateway_dispatch("INTERACTION_CREATE", post)
        asked = int(post["id"])
        summary, sample = await api.wait_for(
            lambda: [m for m in api.messages if m.interaction_id == asked][1:] and
            [m for m in api.messages if m.interaction_id == asked],
            timeout=60,
        )  # fmt: skip
        assert f"📝 Preview · {NEW_DAY}" in summary.embeds[0]["description"]
        (publish, _) = [c for row in summary.components for c in row["components"]]
        assert publish["label"] == "✅ Publish now"
        press = api.interaction(
            "component", NEW, message_id=summary.id, custom_id=publish["custom_id"], user_id=CURATOR
        )
        await api.gateway_dispatch("INTERACTION_CREATE", press)
        await delivered(archive, 2)
        first = published(api, NEWS)[today]
        assert (first.content, first.embeds) == (sample.content, sample.embeds)  # as previewed
        assert drafts.count(archive) == 0

    api = asyncio.run(main())
    assert api.errors == []  # Discord refused nothing
