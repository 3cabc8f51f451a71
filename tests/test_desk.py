"""The desk without a chat: PAPERBOY_CURATORS as a user meets it, the preview's rehearsal leaving
nothing behind (SQLite and PostgreSQL), a draft published once, close tags, capped downloads."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
from aiohttp import web
from sqlalchemy import func, insert, select

from bot.archive import queries
from bot.archive.schema import corrections, entries, paper_tags, papers, publications, sources, tags
from bot.archive.store import Archive
from bot.config import Settings
from bot.desk import Desk, buttons, drafts, intake
from bot.desk.preview import _close_tags
from bot.errors import InputError
from tests.conftest import SEEDS, CliRunner
from tests.desk_posts import NEW_DAY, NEW_DAY_TEXT, archive_without, corrected, one_paper_post, with_typo

CURATORS = "telegram:42, discord:123456789012345678 ,discord-role:223456789012345678,"


def test_curators_are_read_from_the_setting() -> None:
    curators = Settings.from_env({"PAPERBOY_CURATORS": CURATORS}).curators
    assert curators.on_telegram(42) and not curators.on_telegram(43) and not curators.on_telegram(None)
    assert curators.on_discord(123456789012345678)
    assert curators.on_discord(1, {5, 223456789012345678}) and not curators.on_discord(1, {5})
    assert not Settings.from_env({}).curators  # nobody, by default


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("slack:42", "PAPERBOY_CURATORS has 'slack:42': give telegram:USER_ID, discord:USER_ID or"),
        ("42", "PAPERBOY_CURATORS has '42': give telegram:USER_ID"),
        ("telegram:-1001234", "PAPERBOY_CURATORS has 'telegram:-1001234': a chat's id, not a user's"),
        ("telegram:ada", "PAPERBOY_CURATORS has 'telegram:ada': not a user id"),
        ("telegram:42,discord:123", "PAPERBOY_CURATORS has 'discord:123': a Discord user id is 15 to 21"),
        ("discord-role:@mods", "PAPERBOY_CURATORS has 'discord-role:@mods': a Discord role id is 15"),
    ],
)
@pytest.mark.parametrize("command", [["days"], ["publish", "2024-07-11"], ["run"]])
def test_a_bad_curator_entry_stops_every_command(
    run_cli: CliRunner, monkeypatch: pytest.MonkeyPatch, raw: str, message: str, command: list[str]
) -> None:
    monkeypatch.setenv("PAPERBOY_CURATORS", raw)
    result = run_cli(*command)
    assert (result.code, result.out) == (2, "")
    assert result.err.startswith(f"paperboy: {message}") and result.err.count("\n") == 1


def test_close_tags_read_short_forms_but_not_lookalike_words() -> None:
    names = ["text-to-image", "reasoning", "llm", "vision-language", "diffusion-model", "pre-training"]
    assert _close_tags("text2img", names) == ["text-to-image"]
    assert _close_tags("pretraining", names) == ["pre-training"]  # not #reasoning
    assert _close_tags("llms", names) == ["llm"]
    assert _close_tags("diffusion-models", names) == ["diffusion-model"]
    assert _close_tags("vqgan", names) == []


def counts(archive: Archive) -> dict[str, int]:
    with archive.engine.connect() as conn:
        return {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (sources, entries, papers, paper_tags, tags, corrections, publications)
        }


def publish_record(archive: Archive, day: dt.date) -> None:
    """What publishing the day records: the papers it sent."""
    ids = [paper.id for paper in queries.digest_papers(archive, day)]
    with archive.engine.begin() as conn:
        conn.execute(
            insert(publications).values(day=day, papers=json.dumps(ids), created=dt.datetime.now(dt.UTC))
        )


def desk_for(archive: Archive) -> Desk:
    settings = Settings.from_env({"PAPERBOY_CURATORS": "telegram:42", "PAPERBOY_TIMEZONE": "UTC"})
    return Desk(archive, settings, clock=lambda: dt.datetime(2024, 8, 2, 12, tzinfo=dt.UTC))


def test_the_preview_rehearses_a_post_and_leaves_nothing_behind(archive: Archive) -> None:
    archive_without(archive)
    desk = desk_for(archive)
    first = desk.receive_text("telegram:42", with_typo(NEW_DAY_TEXT))
    assert first.draft is not None
    assert desk.act(first.draft.id, "now", "telegram:42").ok
    publish_record(archive, NEW_DAY)
    before = counts(archive)

    fix = desk.receive_text("telegram:42", corrected(NEW_DAY_TEXT))
    preview = fix.preview
    assert preview.changes is not None and [c.kind for c in preview.changes] == ["changed"]
    assert preview.digest is not None and "versatile" in preview.digest.papers[0].title
    assert counts(archive) == before  # no correction recorded, no entry, tag or paper changed
    assert queries.digest_papers(archive, NEW_DAY)[0].title.endswith("versatle 3B VLM for transfer")
    assert drafts.count(archive) == 1  # only the draft itself


def test_a_draft_is_published_once_however_often_it_is_pressed(archive: Archive) -> None:
    archive_without(archive)
    desk = desk_for(archive)
    received = desk.receive_text("telegram:42", one_paper_post(NEW_DAY))
    assert received.draft is not None
    outcomes = [desk.act(received.draft.id, "now", "telegram:42") for _ in range(2)]
    assert [o.ok for o in outcomes] == [True, False] and outcomes[1].text == drafts.GONE
    assert [p.title for p in queries.digest_papers(archive, NEW_DAY)] == ["A Small Paper About Codebooks"]


def test_drafts_expire_and_are_swept(archive: Archive) -> None:
    now = dt.datetime(2024, 8, 2, 12, tzinfo=dt.UTC)
    kept = drafts.create(archive, "telegram:42", "a.txt", "text", now=now)
    old = drafts.create(archive, "telegram:42", "b.txt", "text", now=now - drafts.LIFETIME)
    with pytest.raises(drafts.DraftGone, match="expired"):
        drafts.get(archive, old.id, now=now)
    assert drafts.get(archive, kept.id, now=now).text == "text"
    assert drafts.sweep(archive, now=now + drafts.LIFETIME) == 1  # the old one went on use already
    assert drafts.count(archive) == 0


@asynccontextmanager
async def serving(handler: Callable[[web.Request], object]) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/file", handler)  # type: ignore[arg-type]
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/file"
    finally:
        await runner.cleanup()


def test_a_download_is_cut_off_at_the_cap_whatever_the_server_says() -> None:
    body = b"x" * (intake.MAX_POST_BYTES + 1)

    async def announced(request: web.Request) -> web.Response:
        return web.Response(body=body)

    async def unannounced(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(body), 100_000):
            await response.write(body[start : start + 100_000])
        return response

    async def exact(request: web.Request) -> web.Response:
        return web.Response(body=body[:-1])

    async def main() -> None:
        for handler in (announced, unannounced):
            async with serving(handler) as url:
                with pytest.raises(intake.Refused, match="a post is at most 1 MB"):
                    await intake.fetch(url)
        async with serving(exact) as url:
            assert len(await intake.fetch(url)) == intake.MAX_POST_BYTES
        with pytest.raises(InputError, match="could not be downloaded"):
            await intake.fetch("http://127.0.0.1:9/nothing-listens-here")

    asyncio.run(main())


def test_an_undated_post_joins_the_queue(archive: Archive) -> None:
    archive_without(archive, SEEDS / "abstracts-queue.txt")
    desk = desk_for(archive)
    received = desk.receive_text("telegram:42", (SEEDS / "abstracts-queue.txt").read_text())
    preview = received.preview
    assert (preview.day, preview.format, preview.errors) == (None, "abstracts", ())
    assert buttons(preview) == [("📥 Add to the queue", "later"), ("🗑 Discard", "drop")]
    assert preview.digest is not None and preview.digest.count == 3  # a day from the queue takes 3
    assert received.draft is not None and preview.name == f"chat-queue-{received.draft.id}.txt"
    outcome = desk.act(received.draft.id, "later", "telegram:42")
    count = len(preview.entries)
    assert outcome.text == f"Added {count} papers to the queue ({count} wait in all)." and not outcome.publish
    assert len(queries.queue(archive)) == count
