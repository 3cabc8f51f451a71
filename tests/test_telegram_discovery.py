"""Discovery in Telegram, end to end: the real python-telegram-bot Application polling the stand-in
Bot API over an archive of the seeds whose features and suggestions were built by
``bot.suggest.refresh``: /tag marks the model's suggestions, /similar and the "similar" buttons
answer with the nearest papers, a curator's /candidates starts a draft file, and the preview's
✅/✖ buttons take or drop the tags the model offers."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.archive import candidates, queries
from bot.archive.candidates import Candidate
from bot.archive.parsers import ParseOptions, parse_document, text_document
from bot.archive.parsers.daily_post import PLACEHOLDERS
from bot.archive.store import Archive, open_archive
from bot.channels.telegram.bot import TelegramBot
from bot.config import Settings
from bot.desk import Desk, drafts
from bot.suggest.refresh import refresh
from bot.suggest.similar import similar
from bot.suggest.store import folder_for
from tests.conftest import ingest_seeds
from tests.telegram_standin import TelegramStandIn
from tests.telegram_standin_rules import Sent

ADA, MALLORY = 42, 666
SIMVLG = "simvlg-simple-and-efficient-pretraining-1f39b1fe"
PALIGEMMA = "paligemma-a-versatile-3b-vlm-for-c0d6dc7e"
NOW = dt.datetime(2024, 8, 2, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def discovered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The seeds ingested and analysed once (the database is copied per test)."""
    folder = tmp_path_factory.mktemp("discovered")
    url = f"sqlite:///{folder}/archive.db"
    with open_archive(url) as archive:
        ingest_seeds(archive)
        refresh(archive, folder_for(url, folder))
    yield url, folder


@pytest.fixture
def room(discovered: tuple[str, Path], tmp_path: Path) -> Iterator[tuple[Archive, Settings]]:
    import shutil

    url, folder = discovered
    shutil.copy(folder / "archive.db", tmp_path / "archive.db")
    mine = f"sqlite:///{tmp_path}/archive.db"
    shutil.copytree(folder_for(url, folder), folder_for(mine, tmp_path))
    settings = Settings.from_env(
        {
            "PAPERBOY_DATABASE_URL": mine,
            "PAPERBOY_DATA_DIR": str(tmp_path),
            "PAPERBOY_CURATORS": f"telegram:{ADA}",
            "PAPERBOY_SITE_DIR": str(tmp_path / "site"),
            "PAPERBOY_TIMEZONE": "UTC",
        }
    )
    with open_archive(mine) as archive:
        yield archive, settings


Scenario = Callable[[TelegramStandIn, Archive], Awaitable[Any]]


def play(archive: Archive, settings: Settings, scenario: Scenario, **options: Any) -> TelegramStandIn:
    async def main() -> TelegramStandIn:
        async with TelegramStandIn() as api:
            api.add_user(ADA, "Ada")
            api.add_user(MALLORY, "Mallory")
            desk = Desk(archive, settings, clock=lambda: NOW)
            bot = TelegramBot(archive, settings, api.token, api_url=api.base_url, desk=desk, **options)
            await bot.start()
            try:
                await scenario(api, archive)
            finally:
                await bot.stop()
            return api

    api = asyncio.run(main())
    assert [e for e in api.errors if e[1] != 429] == []  # every call within Telegram's rules
    return api


def paragraphs(message: Sent) -> dict[str, str]:
    """A /tag page's numbered papers, by their number."""
    found = re.split(r"\n+(?=\d+\. )", message.plain)
    return {part.split(".", 1)[0]: part for part in found[1:]}


def keyboard(message: Sent) -> list[dict[str, Any]]:
    return [b for row in (message.reply_markup or {}).get("inline_keyboard", []) for b in row]


def test_tag_marks_the_models_suggestions_after_the_curators_papers(room: tuple[Archive, Settings]) -> None:
    archive, settings = room

    async def scenario(api: TelegramStandIn, archive: Archive) -> None:
        api.user_says(ADA, ADA, "/tag vision-language")
        reply = await api.next_sent(ADA)
        assert reply.plain.startswith("#vision-language\n9 papers (5 suggested)")
        papers = paragraphs(reply)
        assert len(papers) == 9
        names = ("PaliGemma", "SimVLG", "MM1", "FLAME")
        by_title = {name: p for p in papers.values() for name in names if name in p}
        assert "suggested" not in by_title["PaliGemma"] and "suggested" not in by_title["MM1"]
        assert "☆ suggested" in by_title["SimVLG"] and "☆ suggested" in by_title["FLAME"]
        # The curator's four come first, then the section of suggestions.
        marked = [n for n, p in papers.items() if "☆ suggested" in p]
        assert marked == ["5", "6", "7", "8", "9"]
        assert reply.plain.index("Suggested for #vision-language") < reply.plain.index("5. ☆ suggested")
        # The mark is markup Telegram parsed (italic), not escaped text.
        offsets = [e for e in reply.entities if e["type"] == "italic"]
        assert any(reply.plain[e["offset"] : e["offset"] + e["length"]] == "suggested" for e in offsets)

    play(archive, settings, scenario, page_size=10)


def test_similar_answers_the_nearest_papers_and_the_button_answers_the_same(
    room: tuple[Archive, Settings],
) -> None:
    archive, settings = room
    expected = similar(archive, folder_for(settings.database_url, settings.data_dir), SIMVLG, 5)
    assert expected.similar and SIMVLG not in [r.id for r in expected.similar]

    async def scenario(api: TelegramStandIn, archive: Archive) -> None:
        api.user_says(ADA, ADA, "/similar simvlg")  # a prefix naming one paper will do
        answer = await api.next_sent(ADA)
        head, *items = answer.plain.split("\n\n")
        assert head == "Like: SimVLG: Simple and Efficient Pretraining of Visual Language Generative Models"
        assert [item.split("\n")[1] for item in items] == [f"/paper {r.id}" for r in expected.similar]
        assert all(SIMVLG not in item for item in items)  # never the paper itself

        api.user_says(ADA, ADA, "/tag vision-language")
        page = await api.next_sent(ADA)
        number = next(n for n, p in paragraphs(page).items() if "SimVLG" in p)
        (button,) = [b for b in keyboard(page) if b["text"] == f"≈ {number}"]
        assert button["callback_data"] == f"similar:{SIMVLG}" and len(button["callback_data"].encode()) <= 64
        api.press(ADA, ADA, page.message_id, button["callback_data"])
        pressed = await api.next_sent(ADA)
        assert pressed.text == answer.text  # the button's answer is /similar's, as a new message

        api.user_says(ADA, ADA, "/similar no-such-paper")
        assert (await api.next_sent(ADA)).plain.splitlines()[0] == (
            "No paper has the id 'no-such-paper'. /search and /tag show papers' ids."
        )
        api.press(ADA, ADA, page.message_id, "similar:../../etc", forged=True)
        await api.wait_for(lambda: api.callback_answers[-1:] if len(api.callback_answers) > 1 else None)
        assert "no longer works" in (api.callback_answers[-1].text or "")

    play(archive, settings, scenario, page_size=10)


def test_a_paper_added_since_the_last_refresh_has_no_related_papers_yet(
    room: tuple[Archive, Settings],
) -> None:
    archive, settings = room
    post = "2024년 8월 1일\nA Fresh Paper Nobody Analysed\n(Ada Lovelace)\nAn abstract.\n코멘트.\n#vq\n"
    archive.ingest(parse_document(text_document(post, "fresh.txt"), ParseOptions(today=NOW.date())))

    async def scenario(api: TelegramStandIn, archive: Archive) -> None:
        api.user_says(ADA, ADA, "/similar a-fresh-paper")
        reply = await api.next_sent(ADA)
        assert reply.plain == (
            "“A Fresh Paper Nobody Analysed” is not analysed yet: related papers show once the"
            " features are refreshed."
        )

    play(archive, settings, scenario)


def candidate(arxiv: str, title: str, summary: str, upvotes: int) -> Candidate:
    return Candidate(
        id=f"arxiv-{arxiv}",
        source="hf",
        arxiv_id=arxiv,
        title=title,
        summary=summary,
        authors=("Ada Lovelace", "Alan Turing"),
        upvotes=upvotes,
        links=(f"https://arxiv.org/abs/{arxiv}",),
        day=dt.date(2024, 8, 1),
    )


VLM = candidate(
    "2408.00001",
    "Frozen Language Models Read Images Through a Small Adapter",
    "We pretrain a vision-language model with a frozen large language model and a visual encoder,"
    " aligning visual tokens with language; the multimodal model answers questions about images.",
    42,
)
CODE = candidate("2408.00002", "Sorting Integers Faster", "We sort integers with a new radix method.", 3)


def test_candidates_are_for_curators_and_a_pick_is_a_draft_file_the_desk_takes_once_completed(
    room: tuple[Archive, Settings],
) -> None:
    archive, settings = room
    candidates.store_pull(archive, [VLM, CODE], now=NOW)

    async def scenario(api: TelegramStandIn, archive: Archive) -> None:
        api.user_says(MALLORY, MALLORY, "/candidates")
        assert (await api.next_sent(MALLORY)).plain == "Only curators can see the candidates."

        api.user_says(ADA, ADA, "/candidates")
        listing = await api.next_sent(ADA)
        assert listing.plain.startswith("Candidates · 2 newest")
        first, second = listing.plain.split("\n\n")[1:3]
        assert VLM.title in first and "▲ 42" in first and "#vision-language" in first
        assert CODE.title in second and "▲ 3" in second and "#vision-language" not in second
        assert [b["text"] for b in keyboard(listing)] == ["☐ 1", "☐ 2", "📝 Draft the chosen"]

        api.press(ADA, ADA, listing.message_id, "cand:draft")  # nothing chosen yet
        said = await api.next_sent(ADA)
        assert said.plain.startswith("Choose one or more papers first")
        api.press(ADA, ADA, listing.message_id, keyboard(listing)[0]["callback_data"])
        edit = await api.wait_for(lambda: api.edits[-1:] or None)
        assert [b["text"] for row in edit[0].reply_markup["inline_keyboard"] for b in row][:2] == [
            "☑ 1",
            "☐ 2",
        ]
        api.press(ADA, ADA, listing.message_id, "cand:draft")
        (sent,) = await api.wait_for(lambda: api.documents_sent or None, timeout=10)
        assert sent.chat_id == ADA and sent.name == f"draft-{NOW.date()}.txt"
        text = sent.data.decode()
        assert VLM.title in text and CODE.title not in text and PLACEHOLDERS["commentary"] in text
        assert "\n#vision-language" in text  # the model's tags, for the curator to keep or change

        # Sent back as it is, it is refused at the placeholder; completed, it is previewed.
        api.user_sends_document(ADA, ADA, sent.data, sent.name)
        refused = await api.next_sent(ADA, timeout=10)
        assert "cannot be published" in refused.plain and drafts.count(archive) == 0
        done = text.replace(PLACEHOLDERS["commentary"], "어댑터 하나로 충분하다는 주장입니다.")
        api.user_sends_document(ADA, ADA, done.encode(), sent.name)
        preview = await api.next_sent(ADA, timeout=10)
        while preview.reply_markup is None:
            preview = await api.next_sent(ADA, timeout=10)
        assert preview.plain.startswith(f"📝 Preview · {NOW.date()}") and drafts.count(archive) == 1

    play(archive, settings, scenario)
    assert [c.status for c in candidates.get(archive, [VLM.id, CODE.id])] == ["drafted", "new"]


def post_of(title: str, abstract: str, tags: str) -> str:
    return (
        f"2024년 8월 1일\n{title}\n(Ada Lovelace)\n{abstract}\n시각-언어 모델을 빠르게 학습합니다.\n{tags}\n"
    )


SIMVLG_TITLE = "SimVLG: Simple and Efficient Pretraining of Visual Language Generative Models"


def test_the_preview_offers_the_models_tags_to_accept_or_reject(room: tuple[Archive, Settings]) -> None:
    archive, settings = room
    abstract = queries.find_paper(archive, SIMVLG).abstract
    assert "vision-language" in {s.tag for s in queries.suggested_tags(archive, [SIMVLG])[SIMVLG]}

    async def scenario(api: TelegramStandIn, archive: Archive) -> None:
        api.user_sends_document(ADA, ADA, post_of(SIMVLG_TITLE, abstract, "#llm").encode(), "post.txt")
        summary = await api.next_sent(ADA, timeout=10)
        assert "1. SimVLG" in summary.plain and "☆ suggested: #vision-language" in summary.plain
        buttons = {b["text"]: b["callback_data"] for b in keyboard(summary)}
        accept, reject = buttons["✅ 1 #vision-language"], buttons["✖ 1 #vision-language"]
        assert max(len(data.encode()) for data in buttons.values()) <= 64
        assert accept.split(":")[2] == reject.split(":")[2]  # one draft

        api.press(ADA, ADA, summary.message_id, reject)
        edit = (await api.wait_for(lambda: api.edits[-1:] or None, timeout=10))[0]
        assert edit.message_id == summary.message_id and "#vision-language" not in (edit.plain or "")
        assert "✖ 1 #vision-language" not in [
            b["text"] for row in edit.reply_markup["inline_keyboard"] for b in row
        ]
        assert "never suggested for it again" in (api.callback_answers[-1].text or "")
        stored = queries.suggested_tags(archive, [SIMVLG]).get(SIMVLG, [])
        assert "vision-language" not in {s.tag for s in stored}  # recorded rejected in the archive

    play(archive, settings, scenario)


def test_accepting_an_offered_tag_writes_it_into_the_draft(room: tuple[Archive, Settings]) -> None:
    archive, settings = room
    abstract = queries.find_paper(archive, SIMVLG).abstract
    title = "A Simple Pretraining of Visual Language Models With Merged Tokens"

    async def scenario(api: TelegramStandIn, archive: Archive) -> None:
        api.user_sends_document(ADA, ADA, post_of(title, abstract, "#llm").encode(), "post.txt")
        summary = await api.next_sent(ADA, timeout=10)
        entry = next(line for line in summary.plain.splitlines() if line.startswith("1. "))
        assert entry == f"1. {title} · #llm"
        buttons = {b["text"]: b["callback_data"] for b in keyboard(summary)}
        api.press(ADA, ADA, summary.message_id, buttons["✅ 1 #vision-language"])
        edit = (await api.wait_for(lambda: api.edits[-1:] or None, timeout=10))[0]
        changed = next(line for line in (edit.plain or "").splitlines() if line.startswith("1. "))
        assert changed == f"1. {title} · #llm #vision-language"
        (draft_id,) = {data.split(":")[2] for data in buttons.values() if data.startswith("dtag:")}
        assert "\n#llm #vision-language\n" in drafts.get(archive, draft_id, now=NOW).text
        assert "#vision-language" in (api.callback_answers[-1].text or "")

    play(archive, settings, scenario)
