"""Every platform's rate limits, in one place (sources: ../shared/PLATFORM.md).

A platform's rule is "at most N in any window of T seconds", so that is what each limiter
enforces: a sliding window of the last N send times. A token bucket either lets a burst through
on top of its rate (nearly 2N in its first window) or, holding one token, loses every slot the
event loop is too busy to take when it frees up (measured: 3x slower than the limit allows).
Telegram: 30 messages/s per bot, 1/s per chat, 20/min per group or channel. Discord: discord.py
follows each route's bucket from the response headers itself; we cap concurrency. SMTP: a
concurrency setting (one message at a time per connection).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.channels.base import Pace


@dataclass(frozen=True)
class Limits:
    #: Messages per second for the whole bot (None: no global limit of ours).
    per_second: float | None = None
    #: Messages per second to one target.
    per_target_per_second: float | None = None
    #: Messages per minute to one group (Telegram's groups and channels: negative ids, @names).
    per_group_per_minute: float | None = None
    #: Deliveries sent at once.
    concurrency: int = 8


TELEGRAM = Limits(per_second=30, per_target_per_second=1, per_group_per_minute=20, concurrency=30)
DISCORD = Limits(concurrency=8)
EMAIL = Limits(concurrency=4)
DEFAULTS = {"telegram": TELEGRAM, "discord": DISCORD, "email": EMAIL}


class Window:
    """At most ``count`` acquisitions in any ``period`` seconds; waiters go first come, first served."""

    def __init__(self, count: float, period: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.count = max(1, int(count))
        self.period = period
        self.clock = clock
        self.times: deque[float] = deque()
        self.turn = asyncio.Lock()

    async def acquire(self) -> None:
        async with self.turn:
            now = self.clock()
            while True:
                while self.times and now - self.times[0] >= self.period:
                    self.times.popleft()
                if len(self.times) < self.count:
                    break
                await asyncio.sleep(self.times[0] + self.period - now)
                now = self.clock()
            self.times.append(now)


#: A send leaves a little after its limiter lets it go, and not always by the same delay, so a
#: platform can see the times a little closer together; windows are this much longer than the
#: platform's (measured: one breach in 10,000 sends at 500/s without it, none with it).
SAFETY = 1.02


def _per(limit: float, period: float) -> Window:
    """``limit`` per ``period``; a fractional limit (0.5/s) becomes 1 per 1/limit seconds."""
    return Window(limit, period * SAFETY) if limit >= 1 else Window(1, period * SAFETY / limit)


@dataclass
class Pacer:
    """The limiters of one platform; ``pace(target)`` waits for every limit that applies."""

    limits: Limits
    is_group: Callable[[str], bool] = lambda target: False
    _global: Window | None = field(init=False, default=None)
    _targets: dict[str, Window] = field(init=False, default_factory=dict)
    _groups: dict[str, Window] = field(init=False, default_factory=dict)
    slots: asyncio.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        if self.limits.per_second:
            self._global = _per(self.limits.per_second, 1.0)
        self.slots = asyncio.Semaphore(self.limits.concurrency)

    def pace(self, target: str) -> Pace:
        async def wait() -> None:
            if self.limits.per_group_per_minute and self.is_group(target):
                await self._acquire(self._groups, target, self.limits.per_group_per_minute, 60.0)
            if self.limits.per_target_per_second:
                await self._acquire(self._targets, target, self.limits.per_target_per_second, 1.0)
            if self._global is not None:
                await self._global.acquire()

        return wait

    async def _acquire(self, windows: dict[str, Window], target: str, limit: float, period: float) -> None:
        window = windows.get(target)
        if window is None:
            window = windows[target] = _per(limit, period)
        await window.acquire()


def telegram_is_group(target: str) -> bool:
    """Groups, supergroups and channels have negative ids or @names; private chats don't."""
    chat = target.split("/", 1)[0]
    return chat.startswith(("-", "@"))
