"""Stand-in channels for publishing tests: they record, fail on cue, and police rate limits."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any

from bot.channels.base import Channel, Pace
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
