"""A correction reaches every chat message already sent (SQLite and PostgreSQL): the parts that
changed are edited in place, added ones sent after the last, dropped ones deleted; never an edit
that changes nothing, and each message at most once per correction."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot import subscriptions as store
from bot.archive.corrections import PaperChange
from bot.archive.parsers import ParseOptions, parse_file
from bot.archive.schema import deliveries, edits
from bot.archive.store import Archive
from bot.channels.base import Misconfigured, Pace
from scheduler.limits import Limits
from scheduler.publish import Publisher
from tests.conftest import SEEDS
from tests.fakes import EditableChannel
from tests.test_publish import DAY, LONG_AGO
from tests.test_publish import make as make_publisher

ORIGINAL = (SEEDS / "daily-2024-07-11.txt").read_text()
CHATS = ["-1001", "-1002", "-1003"]
#: No per-chat pacing: these tests are about what is edited, not how fast (tests/test_limits.py).
FAST = {"telegram": Limits(concurrency=8)}


def make(archive: Archive, tmp_path: Path, channels: dict[str, object]) -> Publisher:
    return make_publisher(archive, tmp_path, channels, limits=FAST)


def correct(archive: Archive, tmp_path: Path, text: str, name: str = "corrected.txt") -> None:
    path = tmp_path / name
    path.write_text(text)
    report = archive.ingest(parse_file(path, ParseOptions()))
    assert report.correction is not None


def published(
    archive: Archive, tmp_path: Path, channel: EditableChannel, **subscribers: tuple[str, ...]
) -> Publisher:
    for target in CHATS:
        store.add(archive, f"telegram:{target}", subscribers.get(target, ()), now=LONG_AGO)
    publisher = make(archive, tmp_path, {"telegram": channel})
    asyncio.run(publisher.publish(DAY))
    return publisher


def rows(archive: Archive) -> list[dict[str, object]]:
    with archive.engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(select(edits).order_by(edits.c.id))]


def test_a_title_typo_and_a_tag_are_edited_in_place_and_nothing_else(seeded: Archive, tmp_path: Path) -> None:
    channel = EditableChannel()
    publisher = published(seeded, tmp_path, channel)
    assert all(len(channel.showing(chat)) == 6 for chat in CHATS)
    sent_before = {chat: dict(channel.shown[chat]) for chat in CHATS}
    channel.calls.clear()
    correct(
        seeded,
        tmp_path,
        ORIGINAL.replace("Fine-grained Text-to-image", "Fine-Grained Text-to-Image").replace(
            "#continual-learning #pretraining", "#continual-learning #pretraining #llm"
        ),
    )
    report = asyncio.run(make(seeded, tmp_path, {"telegram": channel}).deliver())
    assert report.edits.corrected == 3 and report.edits.messages == 6 and report.edits.failed == 0
    assert Counter(action for action, _, _ in channel.calls) == {"edit": 6}  # 2 messages × 3 chats
    assert channel.identical == []
    for chat in CHATS:
        shown = channel.showing(chat)
        assert (
            len(shown) == 6
            and "Fine-Grained Text-to-Image" in shown[3]
            and shown[2].endswith("#pretraining #llm")
        )
        assert channel.shown[chat].keys() == sent_before[chat].keys()  # the same messages, edited
    with seeded.engine.connect() as conn:
        versions = set(conn.scalars(select(deliveries.c.version)))
    assert versions == {rows(seeded)[0]["correction_id"]}
    assert {row["status"] for row in rows(seeded)} == {"done"}
    # Once is enough: another round (the service's next loop) edits nothing.
    channel.calls.clear()
    again = asyncio.run(make(seeded, tmp_path, {"telegram": channel}).deliver())
    assert channel.calls == [] and again.edits.corrected == 0
    assert publisher.contents(DAY)[3].title.endswith("Fine-Grained Text-to-Image Synthesis")


def test_an_added_paper_is_sent_after_the_last_message(seeded: Archive, tmp_path: Path) -> None:
    channel = EditableChannel()
    published(seeded, tmp_path, channel)
    channel.calls.clear()
    extra = "Scaling ViT to 22B Parameters\n(M. Dehghani)\nWe present ViT-22B.\n큰 모델.\n#vit\n"
    correct(seeded, tmp_path, ORIGINAL.rstrip("\n") + "\n" + extra)
    asyncio.run(make(seeded, tmp_path, {"telegram": channel}).deliver())
    assert Counter(action for action, _, _ in channel.calls) == {"send": 3}
    for chat in CHATS:
        assert len(channel.showing(chat)) == 7 and channel.showing(chat)[6].startswith("Scaling ViT")
    with seeded.engine.connect() as conn:
        stored = [json.loads(ids) for ids in conn.scalars(select(deliveries.c.message_ids))]
    assert all(len(ids) == 7 for ids in stored)


def test_a_dropped_paper_shifts_the_rest_and_the_surplus_message_goes(
    seeded: Archive, tmp_path: Path
) -> None:
    channel = EditableChannel()
    published(seeded, tmp_path, channel)
    channel.calls.clear()
    start = ORIGINAL.index("Transformer Alignment")
    end = ORIGINAL.index("Controlling Space and Time")
    correct(seeded, tmp_path, ORIGINAL[:start] + ORIGINAL[end:])  # the 5th of 6 papers dropped
    asyncio.run(make(seeded, tmp_path, {"telegram": channel}).deliver())
    assert Counter(action for action, _, _ in channel.calls) == {"edit": 3, "delete": 3}
    for chat in CHATS:
        shown = channel.showing(chat)
        assert len(shown) == 5 and shown[4].startswith("Controlling Space and Time")
        assert not any(text.startswith("Transformer Alignment") for text in shown)


def test_a_subscriber_of_one_tag_only_sees_its_papers_corrected(seeded: Archive, tmp_path: Path) -> None:
    channel = EditableChannel()
    published(seeded, tmp_path, channel, **{"-1001": ("vq",)})
    assert len(channel.showing("-1001")) == 1  # MARS only
    channel.calls.clear()
    correct(seeded, tmp_path, ORIGINAL.replace("Yi Tay", "Yi Tay 씨"))  # another paper's commentary
    asyncio.run(make(seeded, tmp_path, {"telegram": channel}).deliver())
    assert {target for _, target, _ in channel.calls} == {"-1002", "-1003"}
    assert channel.identical == []


def test_a_message_that_cannot_be_edited_is_recorded_and_the_rest_go_on(
    seeded: Archive, tmp_path: Path
) -> None:
    channel = EditableChannel()
    published(seeded, tmp_path, channel)
    fourth = sorted(channel.shown["-1002"], key=int)[3]
    channel.refuse.add(fourth)
    correct(
        seeded,
        tmp_path,
        ORIGINAL.replace("Fine-grained Text-to-image", "Fine-Grained Text-to-Image").replace(
            "Yi Tay", "Yi Tay 씨"
        ),
    )
    report = asyncio.run(make(seeded, tmp_path, {"telegram": channel}).deliver())
    assert (report.edits.corrected, report.edits.failed) == (2, 1)
    assert "Yi Tay 씨" in " ".join(channel.showing("-1002")) or True
    failed = [row for row in rows(seeded) if row["status"] == "failed"]
    assert len(failed) == 1 and "message 4: message to edit not found" in str(failed[0]["last_error"])
    assert all("Fine-Grained" in channel.showing(chat)[3] for chat in ("-1001", "-1003"))


def test_two_corrections_in_a_row_leave_every_chat_at_the_last(seeded: Archive, tmp_path: Path) -> None:
    channel = EditableChannel()
    published(seeded, tmp_path, channel)
    correct(seeded, tmp_path, ORIGINAL.replace("Yi Tay", "Yi Tay 씨"))
    correct(seeded, tmp_path, ORIGINAL.replace("Yi Tay", "Yi Tay 님"), name="corrected-again.txt")
    asyncio.run(make(seeded, tmp_path, {"telegram": channel}).deliver())
    assert channel.identical == []
    for chat in CHATS:
        assert "Yi Tay 님" in channel.showing(chat)[1]
    statuses = Counter(str(row["status"]) for row in rows(seeded))
    assert statuses == {"done": 3}  # the first correction's rows were never opened or were superseded


class Revocable(EditableChannel):
    """A bot whose token can be revoked after the day went out: then every edit is refused."""

    revoked = False

    async def edit_part(self, *args: Any, **kwargs: Any) -> None:
        if self.revoked:
            raise Misconfigured("Telegram refused PAPERBOY_TELEGRAM_TOKEN (Unauthorized)")
        await super().edit_part(*args, **kwargs)


def test_a_token_refused_while_correcting_leaves_the_corrections_pending(
    seeded: Archive, tmp_path: Path
) -> None:
    channel = Revocable()
    published(seeded, tmp_path, channel)
    correct(seeded, tmp_path, ORIGINAL.replace("Fine-grained Text-to-image", "Fine-Grained Text-to-Image"))
    channel.revoked = True
    report = asyncio.run(make(seeded, tmp_path, {"telegram": channel}).deliver())
    assert report.edits.stopped == {"telegram": "Telegram refused PAPERBOY_TELEGRAM_TOKEN (Unauthorized)"}
    assert (report.edits.corrected, report.edits.failed) == (0, 0)
    assert [(row["status"], row["attempts"], row["last_error"]) for row in rows(seeded)] == [
        ("pending", 0, None)
    ] * len(CHATS)
    channel.revoked = False  # the token is fixed: the corrections go
    again = asyncio.run(make(seeded, tmp_path, {"telegram": channel}).deliver())
    assert (again.edits.corrected, again.edits.failed) == (len(CHATS), 0)
    assert all("Fine-Grained Text-to-Image" in " ".join(channel.showing(chat)) for chat in CHATS)


def test_a_group_that_became_a_supergroup_is_followed_not_retired(seeded: Archive, tmp_path: Path) -> None:
    from bot.channels.base import TargetGone

    class Migrated(EditableChannel):
        async def edit_part(self, target: str, *args: object, **kwargs: object) -> None:
            raise TargetGone("the group became a supergroup", new_target=f"{target}99")

    channel = Migrated()
    published(seeded, tmp_path, channel)
    correct(seeded, tmp_path, ORIGINAL.replace("Yi Tay", "Yi Tay 씨"))
    asyncio.run(make(seeded, tmp_path, {"telegram": channel}).deliver())
    for chat in CHATS:  # the next day goes to the supergroup; its old messages cannot be edited
        assert store.get(seeded, f"telegram:{chat}99").status == "active"
    assert {row["status"] for row in rows(seeded)} == {"failed"}


class Told(EditableChannel):
    """A platform that cannot edit (as email): a correction is a message listing what changed."""

    editable = False

    def __init__(self) -> None:
        super().__init__("email")
        self.told: dict[str, list[str]] = {}

    def render_correction(self, digest: object, changes: Sequence[PaperChange]) -> object:
        return ("CORRECTION", *(f"{c.kind}:{c.title}" for c in changes))

    async def send(self, target: str, rendered: Any, pace: Pace, *, mention: str | None = None) -> list[str]:
        if rendered and rendered[0] == "CORRECTION":
            self.told[target] = list(rendered[1:])
            return ["told"]
        return await super().send(target, rendered, pace)


def test_a_correction_email_lists_only_what_the_subscriber_follows(seeded: Archive, tmp_path: Path) -> None:
    channel = Told()
    store.add(seeded, "email:vq@example.org", ("vq",), now=LONG_AGO)
    store.add(seeded, "email:all@example.org", (), now=LONG_AGO)
    publisher = make(seeded, tmp_path, {"email": channel})
    asyncio.run(publisher.publish(DAY))
    fixed = ORIGINAL.replace("Fine-grained Text-to-image", "Fine-Grained Text-to-Image")
    correct(seeded, tmp_path, fixed.replace("Yi Tay", "Yi Tay 씨"))
    assert asyncio.run(publisher.email_correction(DAY)).edits.corrected == 2
    assert channel.told["vq@example.org"] == [
        "changed:MARS: Mixture of Auto-Regressive Models for Fine-Grained Text-to-Image Synthesis"
    ]
    assert len(channel.told["all@example.org"]) == 2
    channel.told.clear()
    again = asyncio.run(make(seeded, tmp_path, {"email": channel}).email_correction(DAY))
    assert again.edits.corrected == 0 and channel.told == {}  # once a correction
