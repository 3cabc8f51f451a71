"""Working the edits ledger (``scheduler/edits.py``): each claimed row's plan, step by step,
through the fan-out's channels, pacers and retry policy, so a correction keeps the same platform
limits as a day's sends and shares their windows."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from bot import subscriptions
from bot.archive.corrections import PaperChange, changes_from_json, diff
from bot.archive.rows import paper_from_json
from bot.archive.schema import corrections
from bot.archive.store import Archive
from bot.channels.base import Channel, Misconfigured, Permanent, RetryAfter, TargetGone, Transient
from bot.errors import PaperboyError
from bot.models import Paper
from scheduler.edits import EDITABLE, EditJob, EditLedger
from scheduler.fanout import Fanout
from scheduler.limits import Paced

log = logging.getLogger("paperboy.edits")


@dataclass(frozen=True)
class Step:
    action: str  # edit, send or delete
    index: int


def plan(sent: int, before: Sequence[Any], after: Sequence[Any]) -> list[Step]:
    """The platform calls that make ``sent`` messages showing ``before`` show ``after``: edits
    of the parts that differ, then sends of the parts added, or deletes of the parts dropped.
    A part whose old rendering is unknown (``before`` shorter than what was sent: the templates
    changed) is edited."""
    steps = [
        Step("edit", i) for i in range(min(sent, len(after))) if i >= len(before) or before[i] != after[i]
    ]
    steps += [Step("send", i) for i in range(sent, len(after))]
    steps += [Step("delete", i) for i in range(len(after), sent)]
    return steps


def final_ids(sent: int, after: int, working: Sequence[str]) -> list[str]:
    """The day's message ids once the plan is done: the kept ones, then the ones sent after."""
    return [*working[: min(sent, after)], *working[sent:]]


class Versions:
    """A day's papers as each version showed them: version 0 is the day as first published, a
    correction's id the day right after it. Read once per day and kept while a loop runs."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self._days: dict[dt.date, list[tuple[int, list[Paper], tuple[PaperChange, ...]]]] = {}

    def _load(self, day: dt.date) -> list[tuple[int, list[Paper], tuple[PaperChange, ...]]]:
        if day not in self._days:
            stmt = (
                select(corrections.c.id, corrections.c.before, corrections.c.changes)
                .where(corrections.c.day == day)
                .order_by(corrections.c.id)
            )
            with self.archive.engine.connect() as conn:
                self._days[day] = [
                    (
                        cid,
                        [paper_from_json(p) for p in json.loads(before)],
                        changes_from_json(json.loads(changes)),
                    )
                    for cid, before, changes in conn.execute(stmt)
                ]
        return self._days[day]

    def papers_at(self, day: dt.date, version: int, current: Sequence[Paper]) -> list[Paper]:
        """The day as a delivery at ``version`` shows it: the papers as they read just before the
        first correction after ``version`` (``current`` if there is none)."""
        later = next((before for cid, before, _ in self._load(day) if cid > version), None)
        return list(current) if later is None else later

    def changes_since(
        self,
        day: dt.date,
        version: int,
        current: Sequence[Paper],
        wants: Callable[[tuple[str, ...]], bool] = lambda _tags: True,
    ) -> list[PaperChange]:
        """What changed of the day between ``version`` and now, of the papers a subscriber
        ``wants`` (before or after: a paper that lost the subscriber's tag changed for it too)."""
        before = [p for p in self.papers_at(day, version, current) if wants(p.tags)]
        mine = {p.id for p in before} | {p.id for p in current if wants(p.tags)}
        return diff(before, [p for p in current if p.id in mine])

    def forget(self) -> None:
        self._days.clear()


@dataclass
class EditReport:
    #: Deliveries whose messages now show the corrected day (or got a correction email).
    corrected: int = 0
    #: Platform calls that changed a message: edits, extra messages sent, surplus deleted.
    messages: int = 0
    failed: int = 0
    deferred: int = 0
    errors: list[str] = field(default_factory=list)
    #: Channels a wrong setting stopped (as in ``FanoutReport``): their rows wait, untouched.
    stopped: dict[str, str] = field(default_factory=dict)


class Editor:
    def __init__(
        self,
        fanout: Fanout,
        ledger: EditLedger,
        current: Callable[[dt.date], Sequence[Paper]],
        version: Callable[[dt.date], int],
    ) -> None:
        self.fanout = fanout
        self.ledger = ledger
        self.current = current
        self.version = version
        self.versions = Versions(ledger.archive)

    async def run(self) -> EditReport:
        """Open rows for what the day's latest corrections left behind, then work every row this
        process has a channel for; return when nothing claimable is left."""
        self.fanout.pace_this_loop()
        self.ledger.recover_dead()
        self.ledger.open(EDITABLE)  # for channels off here too: their rows wait, as deliveries do
        self.versions.forget()
        kinds = [
            kind for kind, channel in self.fanout.channels.items() if channel.editable or kind == "email"
        ]
        report = EditReport()
        running: set[asyncio.Task[None]] = set()
        renew_at = time.monotonic() + self.fanout.renew_every
        while True:
            free = self.fanout.capacity - len(running)
            if free > 0:
                kinds = [kind for kind in kinds if kind not in report.stopped]
                for job in self.ledger.claim(kinds, free):
                    running.add(asyncio.create_task(self._work(job, report)))
            if not running:
                return report
            done, running = await asyncio.wait(
                running, timeout=self.fanout.renew_every, return_when=asyncio.FIRST_COMPLETED
            )
            if time.monotonic() >= renew_at:  # rows that wait long (a 429) keep their claims
                self.ledger.renew()
                renew_at = time.monotonic() + self.fanout.renew_every
            for task in done:
                task.result()  # _work never raises; a bug here should surface

    async def _work(self, job: EditJob, report: EditReport) -> None:
        sub = job.subscription
        channel = self.fanout.channels[sub.kind]
        if sub.kind in report.stopped:  # claimed before its channel stopped: it waits untouched
            self.ledger.release(job.id)
            return
        try:
            if channel.editable:
                await self._edit(channel, job, report)
            else:
                await self._tell(channel, job, report)
        except RetryAfter as exc:  # longer than is worth holding a slot for: the ledger waits
            self.ledger.retry_at(job.id, self.ledger.clock() + dt.timedelta(seconds=exc.seconds), str(exc))
            report.deferred += 1
        except (Misconfigured, PaperboyError) as exc:  # the operator's to fix, not this row's failure
            self.ledger.release(job.id)
            report.stopped.setdefault(sub.kind, str(exc))
        except TargetGone as exc:
            if exc.new_target:  # a group became a supergroup: the digest follows it, the old messages stay
                subscriptions.move(self.ledger.archive, sub.id, exc.new_target)
                log.info("%s moved to %s:%s", sub.label, sub.kind, exc.new_target)
            else:
                subscriptions.set_status(self.ledger.archive, sub.id, "gone", str(exc))
            self._fail(job, f"TargetGone: {exc}", report)
        except (Transient, Permanent) as exc:
            self._fail(job, f"{type(exc).__name__}: {exc}", report)
        except Exception as exc:  # a channel's bug: this row fails, the others go on
            log.exception("correcting delivery %s to %s failed unexpectedly", job.delivery_id, sub.label)
            self._fail(job, f"{type(exc).__name__}: {exc}", report)

    async def _edit(self, channel: Channel, job: EditJob, report: EditReport) -> None:
        sub, day = job.subscription, job.day
        current = self.current(day)
        before = self.fanout.render_for(
            channel, day, job.version, sub, self.versions.papers_at(day, job.version, current)
        )
        after = channel.parts(self.fanout.render_for(channel, day, self.version(day), sub, current))
        steps = plan(len(job.sent_ids), channel.parts(before), after)
        working = list(job.working_ids or job.sent_ids)
        edited = job.edited
        # Refusals of earlier steps (not the reason the row was last put off) stay on the record.
        errors = [e for e in (job.last_error or "").split("; ") if e.startswith("message ")]
        pacer = self.fanout.pacers[sub.kind]
        for number in range(job.progress, len(steps)):
            step = steps[number]
            async with pacer.slots:
                pace = pacer.pace(sub.target)
                try:
                    await self.fanout.retrying(
                        functools.partial(self._call, channel, job, step, after[step.index :], working, pace),
                        pace,
                    )
                    edited += 1
                    report.messages += 1
                except Permanent as exc:  # this message will not change: say so, do the rest
                    errors.append(f"message {step.index + 1}: {exc}")
            self.ledger.step(job, number + 1, working, edited, "; ".join(errors) or None)
        self.ledger.finish(job, final_ids(len(job.sent_ids), len(after), working), "; ".join(errors) or None)
        if errors:
            report.failed += 1
            report.errors.append(f"{sub.label}: {'; '.join(errors)}")
        else:
            report.corrected += 1

    @staticmethod
    async def _call(
        channel: Channel, job: EditJob, step: Step, parts: Sequence[Any], working: list[str], pace: Paced
    ) -> None:
        """One step's platform call (``parts[0]`` is the step's part, when it has one)."""
        target, mention = job.subscription.target, job.subscription.mention
        if step.action == "edit":
            await channel.edit_part(target, working, step.index, parts[0], pace, mention=mention)
        elif step.action == "send":
            working.append(await channel.send_part(target, working, parts[0], pace, mention=mention))
        else:
            await channel.delete_part(target, working, step.index, pace)

    async def _tell(self, channel: Channel, job: EditJob, report: EditReport) -> None:
        """A channel that cannot edit (email): one message listing what changed since its copy."""
        sub, day = job.subscription, job.day
        current = self.current(day)
        chosen = [paper for paper in current if sub.wants(paper.tags)]
        changes = self.versions.changes_since(day, job.version, current, sub.wants)
        rendered: Any = channel.render_correction(self.fanout.digest_for(day, chosen, sub), changes)
        pacer = self.fanout.pacers[sub.kind]
        async with pacer.slots:
            pace = pacer.pace(sub.target)
            await self.fanout.retrying(lambda: channel.send(sub.target, rendered, pace), pace)
        self.ledger.finish(job, job.sent_ids, None, edited=1)
        report.corrected += 1
        report.messages += 1

    def _fail(self, job: EditJob, error: str, report: EditReport) -> None:
        self.ledger.failed(job.id, error)
        report.failed += 1
        report.errors.append(f"{job.subscription.label}: {error}")
