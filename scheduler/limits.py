"""Every platform's rate limits, in one place (sources: ../shared/PLATFORM.md).

Limiters hold one token and refill evenly, so no second-long window ever sees more than the
limit (a bucket that allows a burst of N lets nearly 2N through in its first second).
Telegram: 30 messages/s per bot, 1/s per chat, 20/min per group or channel. Discord: discord.py
follows each route's bucket from the response headers itself; we cap concurrency. SMTP: a
concurrency setting (one message at a time per connection).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from aiolimiter import AsyncLimiter

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


def _even(rate_per_second: float) -> AsyncLimiter:
    return AsyncLimiter(1, 1 / rate_per_second)


@dataclass
class Pacer:
    """The limiters of one platform; ``pace(target)`` waits for every limit that applies."""

    limits: Limits
    is_group: Callable[[str], bool] = lambda target: False
    _global: AsyncLimiter | None = field(init=False, default=None)
    _targets: dict[str, AsyncLimiter] = field(init=False, default_factory=dict)
    _groups: dict[str, AsyncLimiter] = field(init=False, default_factory=dict)
    slots: asyncio.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        if self.limits.per_second:
            self._global = _even(self.limits.per_second)
        self.slots = asyncio.Semaphore(self.limits.concurrency)

    def pace(self, target: str) -> Pace:
        async def wait() -> None:
            if self.limits.per_group_per_minute and self.is_group(target):
                await self._acquire(self._groups, target, self.limits.per_group_per_minute / 60)
            if self.limits.per_target_per_second:
                await self._acquire(self._targets, target, self.limits.per_target_per_second)
            if self._global is not None:
                await self._global.acquire()

        return wait

    async def _acquire(self, limiters: dict[str, AsyncLimiter], target: str, rate: float) -> None:
        limiter = limiters.get(target)
        if limiter is None:
            limiter = limiters[target] = _even(rate)
        await limiter.acquire()


def telegram_is_group(target: str) -> bool:
    """Groups, supergroups and channels have negative ids or @names; private chats don't."""
    chat = target.split("/", 1)[0]
    return chat.startswith(("-", "@"))
