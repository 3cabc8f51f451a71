"""Stand-in channels for publishing tests: they record, fail on cue, and police rate limits."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any

from bot.channels.base import Channel, Pace, Permanent
from bot.render.context import DigestView


class RecordingChannel(Channel):
    """Sends succeed; every send is recorded as (target, paper titles)."""

    kind = "telegram"

    def __init__(self, kind: str = "telegram") -> None:
        self.kind = kind  # type: ignore[misc]
        self.sent: list[tuple[str, tuple[str, ...]]] = []

    def render(self, digest: DigestView) -> tuple[str, ...]:
        return tuple(paper.title for paper in digest.papers)

    async def send(self, target: str, rendered: Any, pace: Pace, *, mention: str | None = None) -> list[str]:
        await pace()
        self.sent.append((target, rendered))
        return [f"{target}#{len(self.sent)}"]


class ScriptedChannel(RecordingChannel):
    """Per target, a script of exceptions to raise before a send succeeds (or forever)."""

    def __init__(
        self, scripts: dict[str, list[BaseException]], kind: str = "telegram", always: bool = False
    ) -> None:
        super().__init__(kind)
        self.scripts = {target: deque(script) for target, script in scripts.items()}
        self.always = always
        self.calls: defaultdict[str, int] = defaultdict(int)

    async def send(self, target: str, rendered: Any, pace: Pace, *, mention: str | None = None) -> list[str]:
        self.calls[target] += 1
        script = self.scripts.get(target)
        if script:
            failure = script[0] if self.always else script.popleft()
            raise failure
        return await super().send(target, rendered, pace)


class PacedChannel(RecordingChannel):
    """Enforces a platform's rule: at most ``rate`` messages in any one second; counts breaches."""

    def __init__(
        self, rate: float, messages_per_digest: int = 1, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__("telegram")
        self.rate = rate
        self.messages_per_digest = messages_per_digest
        self.clock = clock
        self.window: deque[float] = deque()
        self.violations = 0
        self.messages = 0

    async def send(self, target: str, rendered: Any, pace: Pace, *, mention: str | None = None) -> list[str]:
        ids = []
        for _ in range(self.messages_per_digest):
            await pace()
            now = self.clock()
            while self.window and now - self.window[0] >= 1.0:
                self.window.popleft()
            if len(self.window) >= self.rate:
                self.violations += 1
            self.window.append(now)
            self.messages += 1
            ids.append(str(self.messages))
            await asyncio.sleep(0)
        self.sent.append((target, rendered))
        return ids


class EditableChannel(Channel):
    """A chat platform that keeps what each target shows: a day is one message per paper, and a
    correction edits, appends or deletes them. Like Telegram it refuses an edit that changes
    nothing (recorded in ``identical``: the scheduler should never ask for one)."""

    editable = True

    def __init__(self, kind: str = "telegram", refuse: set[str] | None = None) -> None:
        self.kind = kind  # type: ignore[misc]
        self.shown: dict[str, dict[str, str]] = defaultdict(dict)  # target → message id → text
        self.calls: list[tuple[str, str, str]] = []  # (action, target, message id)
        self.identical: list[tuple[str, str]] = []
        self.refuse = refuse or set()  # message ids whose edit is refused (deleted by a person)
        self._next = 0

    def render(self, digest: DigestView) -> tuple[str, ...]:
        return tuple(
            f"{p.title} | {p.commentary} | {' '.join(f'#{t}' for t in p.tags)}" for p in digest.papers
        )

    def parts(self, rendered: Any) -> tuple[str, ...]:
        return tuple(rendered)

    def _new(self, target: str, text: str) -> str:
        self._next += 1
        message_id = str(self._next)
        self.shown[target][message_id] = text
        return message_id

    async def send(self, target: str, rendered: Any, pace: Pace, *, mention: str | None = None) -> list[str]:
        ids = []
        for text in rendered:
            await pace()
            ids.append(self._new(target, text))
            self.calls.append(("send", target, ids[-1]))
        return ids

    async def edit_part(
        self, target: str, ids: Any, index: int, part: Any, pace: Pace, *, mention: str | None = None
    ) -> None:
        await pace()
        message_id = ids[index]
        self.calls.append(("edit", target, message_id))
        if message_id in self.refuse:
            raise Permanent("message to edit not found")
        if self.shown[target].get(message_id) == part:
            self.identical.append((target, message_id))
            return
        self.shown[target][message_id] = part

    async def send_part(
        self, target: str, ids: Any, part: Any, pace: Pace, *, mention: str | None = None
    ) -> str:
        await pace()
        message_id = self._new(target, part)
        self.calls.append(("send", target, message_id))
        return message_id

    async def delete_part(self, target: str, ids: Any, index: int, pace: Pace) -> None:
        await pace()
        self.calls.append(("delete", target, ids[index]))
        self.shown[target].pop(ids[index], None)

    def showing(self, target: str) -> list[str]:
        """What the target's chat shows, oldest message first."""
        return [text for _, text in sorted(self.shown[target].items(), key=lambda item: int(item[0]))]
