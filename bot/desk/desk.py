"""The curator's desk: a post in, its preview out, and what each button of the preview does.

The chat adapters (``bot/channels/telegram/desk.py``, ``bot/channels/discord/desk.py``) only say
who is asking and show what comes back; every decision is made here, once. The desk reaches the
service's publisher through ``on_publish`` (a day goes out now; for a day that has gone out, the
scheduler edits the messages already sent), passed in by the CLI as ``on_subscribe`` is, so
nothing here imports the scheduler.

The work is synchronous database work: adapters run ``receive`` and ``act`` in a thread.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass

from sqlalchemy import select

from bot.archive import queries
from bot.archive.corrections import Correction
from bot.archive.parsers import Document, detect
from bot.archive.published import write_post
from bot.archive.schema import publications
from bot.archive.store import Archive
from bot.config import Settings
from bot.desk import drafts, intake, retag
from bot.desk.drafts import Draft, DraftGone
from bot.desk.preview import Preview, build, failed, read_post, renamed, stored_name
from bot.errors import InputError, ParseError
from bot.models import Digest
from bot.suggest.store import features_of

log = logging.getLogger("paperboy.desk")
#: Publishes a day now through the service; returns how many subscribers it goes to (None: unknown).
OnPublish = Callable[[dt.date], Awaitable[int | None]]
#: What the preview's buttons do: send now, let the schedule send it, throw the draft away.
NOW, LATER, DROP = "now", "later", "drop"
ACTIONS = (NOW, LATER, DROP)
ONLY_CURATORS = "Only curators can post."


@dataclass(frozen=True)
class Received:
    """A post's preview, and its draft (None when the post has errors: nothing is kept)."""

    preview: Preview
    draft: Draft | None


@dataclass(frozen=True)
class Retagged:
    """What an accept or reject button did, in one line, and the preview to show now (None: the
    press changed nothing)."""

    text: str
    ok: bool = True
    received: Received | None = None


@dataclass(frozen=True)
class Outcome:
    """What a button did, in one line for the curator. ``publish``: the day is stored and must now
    go out (``Desk.publish``, which may take a while: adapters run it in the background)."""

    text: str
    ok: bool = True
    day: dt.date | None = None
    publish: bool = False
    correction: bool = False
    #: The draft is still there and its preview's buttons still work (a button that did not fit).
    keep: bool = False


def buttons(preview: Preview) -> list[tuple[str, str]]:
    """The preview's buttons, (label, action), in order; none for a post with errors."""
    if preview.errors:
        return []
    if preview.day is None:
        return [("📥 Add to the queue", LATER), ("🗑 Discard", DROP)]
    if preview.correction:
        return [("✏️ Correct now", NOW), ("🗑 Discard", DROP)]
    found = [("✅ Publish now", NOW)]
    if preview.scheduled is not None:
        found.append((f"🕘 At {preview.scheduled:%m-%d %H:%M}", LATER))
    return [*found, ("🗑 Discard", DROP)]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Desk:
    def __init__(
        self,
        archive: Archive,
        settings: Settings,
        on_publish: OnPublish | None = None,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.archive, self.settings = archive, settings
        self.on_publish = on_publish
        self.clock = clock
        self.curators = settings.curators
        #: The tag model's files: tags offered in previews and for candidates.
        self.features = features_of(archive, settings.data_dir)

    # -- a post comes in -------------------------------------------------------------------------

    def receive_text(self, curator: str, text: str, *, reply_to: str | None = None) -> Received:
        """A post typed or pasted in chat."""
        return self._receive(curator, lambda: intake.from_text(text, "post"), reply_to)

    def receive_file(
        self, curator: str, data: bytes, filename: str, *, reply_to: str | None = None
    ) -> Received:
        """A post sent as a file (already checked by name and size, and downloaded)."""
        return self._receive(curator, lambda: intake.from_bytes(data, filename), reply_to)

    def _receive(self, curator: str, read: Callable[[], Document], reply_to: str | None) -> Received:
        now = self.clock()
        try:
            doc = read()
            digest = read_post(doc, self._today(now))
        except ParseError as exc:
            log.info("a post from %s has an error at line %d: %s", curator, exc.line, exc.message)
            return Received(failed("post", exc), None)
        except InputError as exc:
            log.info("a post from %s was refused: %s", curator, exc)
            return Received(failed("post", str(exc)), None)
        draft_id = drafts.new_id()
        digest = renamed(digest, stored_name(digest, draft_id))
        preview = self._build(doc, digest, now)
        draft = drafts.create(
            self.archive, curator, digest.source, doc.text, draft_id=draft_id, reply_to=reply_to, now=now
        )
        log.info(
            "draft %s from %s: %s, %d papers, %d warnings%s",
            draft.id,
            curator,
            digest.date or "the queue",
            len(digest.entries),
            len(preview.warnings),
            ", a correction" if preview.correction else "",
        )
        return Received(preview, draft)

    def _build(self, doc: Document, digest: Digest, now: dt.datetime) -> Preview:
        return build(
            self.archive,
            doc,
            digest,
            base_url=self.settings.base_url,
            cutoff=self.cutoff(digest.date) if digest.date else None,
            now=now,
            queue_per_day=self.settings.queue_per_day,
            features=self.features,
        )

    def looks_like_post(self, text: str) -> bool:
        """Whether ``text`` is in one of the formats at all (a channel's other posts are not)."""
        try:
            return detect(intake.from_text(text, "post")) is not None
        except InputError:
            return False

    def refuse(self, reason: str) -> Received:
        """The preview of a post refused before it could be read (too big, not a text file)."""
        return Received(failed("post", reason), None)

    # -- a button is pressed ---------------------------------------------------------------------

    def act(self, draft_id: str, action: str, curator: str) -> Outcome:
        """Do what the button ``action`` says with the draft; a gone or expired draft, or a button
        that does not fit it, is an ``Outcome`` saying so (never an exception)."""
        try:
            if action not in ACTIONS:
                return Outcome("That button is not one of the preview's.", ok=False)
            if action == DROP:
                return self._discard(draft_id, curator)
            return self._store(draft_id, action, curator)
        except DraftGone as exc:
            return Outcome(str(exc), ok=False)

    def _discard(self, draft_id: str, curator: str) -> Outcome:
        if not drafts.discard(self.archive, draft_id):
            raise DraftGone(drafts.GONE)
        log.info("draft %s discarded by %s", draft_id, curator)
        return Outcome("Discarded: nothing was stored.")

    def _store(self, draft_id: str, action: str, curator: str) -> Outcome:
        now = self.clock()
        draft = drafts.get(self.archive, draft_id, now=now)
        digest = read_post(Document(draft.name, draft.text), self._today(draft.created))
        day = digest.date
        gone_out = day is not None and self._gone_out(day)
        if action == LATER and day is not None:
            if gone_out:
                text = f"{day} has gone out already: press Publish now to correct it."
                return Outcome(text, ok=False, keep=True)
            if self.cutoff(day) <= now:
                text = f"The publish time of {day} ({self._when(day)}) has passed: press Publish now."
                return Outcome(text, ok=False, keep=True)
        with self.archive.engine.begin() as conn:
            drafts.claim(conn, draft_id, now=now)
            report = write_post(conn, digest)
        self.archive.index_pending()
        log.info("draft %s stored by %s as %s (%s)", draft_id, curator, digest.source, action)
        return self._stored(digest, action, report.correction, gone_out)

    def _stored(self, digest: Digest, action: str, correction: Correction | None, gone_out: bool) -> Outcome:
        day, count = digest.date, len(digest.entries)
        papers = f"{count} paper{'s' if count != 1 else ''}"
        if day is None:
            waiting = queries.stats(self.archive).queued
            return Outcome(f"Added {papers} to the queue ({waiting} wait in all).")
        if gone_out:
            if correction is None:
                return Outcome(f"Nothing changed: {day} already says all this.", day=day)
            text = f"Corrected {day} ({correction.summary()}); the messages already sent are being edited."
            return Outcome(text, day=day, publish=True, correction=True)
        if action == NOW:
            return Outcome(f"Stored {day} ({papers}); it is going out now.", day=day, publish=True)
        return Outcome(f"Stored {day} ({papers}); it goes out at {self._when(day)}.", day=day)

    def retag(self, data: str, curator: str, shown: Collection[str]) -> Retagged:
        """A preview's accept or reject button (``retag``); ``shown``: the data of every button on
        the message pressed. A stale or forged press is a ``Retagged`` saying so, never raised."""
        now = self.clock()
        try:
            press = retag.read(data)
            draft = drafts.get(self.archive, press.draft_id, now=now)
            today = self._today(draft.created)
            doc = Document(draft.name, draft.text)
            papers = read_post(doc, today).entries
            found = retag.find_offer(self.features, papers, press)
        except (DraftGone, InputError) as exc:
            return Retagged(str(exc), ok=False)
        except ParseError:
            return Retagged("That draft no longer reads as a post: send the post again.", ok=False)
        number, tag = found.entry + 1, found.tag
        if press.verb == retag.ACCEPT:
            doc = Document(draft.name, retag.with_tag(draft.text, papers, found.entry, tag))
            try:
                again = read_post(doc, today)
            except ParseError:
                again = None
            if again is None or tag not in again.entries[found.entry].tags:
                text = f"#{tag} does not fit this post's format: write it in and send the post again."
                return Retagged(text, ok=False)
            try:
                drafts.update_text(self.archive, draft.id, doc.text)
            except DraftGone as exc:
                return Retagged(str(exc), ok=False)
            said = f"#{tag} added to paper {number}."
        else:
            kept = retag.reject_stored(self.archive, papers[found.entry], tag)
            said = f"#{tag} rejected for paper {number}{': never suggested for it again' if kept else ''}."
        log.info("draft %s: %s (%s)", draft.id, said, curator)
        digest = renamed(read_post(doc, today), draft.name)
        hidden = found.data(retag.ACCEPT, draft.id)
        preview = self._build(doc, digest, now).showing([d for d in shown if d != hidden], draft.id)
        return Retagged(said, received=Received(preview, draft))

    async def publish(self, outcome: Outcome) -> str:
        """Send the day ``outcome`` stored (through the service); one line saying how it went."""
        day = outcome.day
        if day is None or not outcome.publish:
            return ""
        if self.on_publish is None:
            return f"{day} is stored; `paperboy run` (or `paperboy publish {day}`) sends it."
        audience = await self.on_publish(day)
        if outcome.correction:
            return f"The correction of {day} is out: every message already sent shows it."
        if audience is None:
            return f"{day} went out."
        return f"{day} went out to {audience} subscriber{'s' if audience != 1 else ''}."

    # -- times -----------------------------------------------------------------------------------

    def cutoff(self, day: dt.date) -> dt.datetime:
        """When the schedule publishes ``day`` (``Publisher.cutoff``'s instant)."""
        return dt.datetime.combine(day, self.settings.publish_at, tzinfo=self.settings.timezone)

    def _when(self, day: dt.date) -> str:
        return f"{self.cutoff(day):%Y-%m-%d %H:%M} {self.settings.timezone.key}"

    def next_day(self) -> dt.date:
        """The day a new post is for: today, or tomorrow once today has gone out."""
        today = self._today(self.clock())
        return today + dt.timedelta(days=1) if self._gone_out(today) else today

    def _today(self, now: dt.datetime) -> dt.date:
        return now.astimezone(self.settings.timezone).date()

    def _gone_out(self, day: dt.date) -> bool:
        with self.archive.engine.connect() as conn:
            found = conn.execute(select(publications.c.day).where(publications.c.day == day)).first()
        return found is not None
