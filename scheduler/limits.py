"""Every platform's rate limits, in one place (sources: ../shared/PLATFORM.md).

A platform's rule is "at most N in any window of T seconds", so that is what each limiter
enforces: a sliding window of the last N send times. A token bucket either lets a burst through
on top of its rate (nearly 2N in its first window) or, holding one token, loses every slot the
event loop is too busy to take when it frees up (measured: 3x slower than the limit allows).
Telegram: 30 messages/s per bot, 1/s per chat, 20/min per group or channel. Discord: 50 requests/s
per bot and 5 messages per 5 s a channel; a webhook 5 per 2 s, and 30 a minute (a channel's limit
for webhooks: a webhook posts to one channel). discord.py also follows each route's bucket from the
response headers, but only after a first answer, and it knows nothing of the global limit until a
429 says so; pacing here keeps a fan-out from provoking either. SMTP: a concurrency setting (one
message at a time per connection) and the operator's PAPERBOY_SMTP_RATE, messages a second
(``scheduler.publish.email_limits``); a provider's hourly or daily cap, PAPERBOY_SMTP_WINDOW,
must outlive the process, so it is counted in the ledger instead (``scheduler.quota``).

A send counts in a window from when it is over, not from when it was let go: the platform sees
a request some time after we let it go, and that time varies (a burst of requests is serialised
by the HTTP client and by the platform; a request waits for its turn at the other limits). If
windows counted from the moment of letting go, sends let go a second apart could arrive closer
together than a second, and a platform that counts strictly answers 429 (measured through the
Telegram stand-in, ``benchmarks/bench_telegram.py``: 157 of 6,000 sends, up to 240 ms from
letting go to arrival). A send holds its slot in every window while it is under way, so no
window ever sees more than its count, whatever the delay (since: none in 6,000).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


def chat_of(target: str) -> str:
    """A chat's topics (``-100123/5``, ``-100123/7``) share the chat's limits."""
    return target.split("/", 1)[0]


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
    #: Further limits per target, as (messages, seconds): Discord's 5 per 5 s a channel.
    per_target_windows: tuple[tuple[int, float], ...] = ()
    #: What a target's limits belong to: the chat of a Telegram forum topic, a Discord webhook's id.
    key: Callable[[str], str] = chat_of


def webhook_of(target: str) -> str:
    """``https://discord.com/api/webhooks/ID/TOKEN`` → ID: a webhook's limits are its own."""
    return target.rstrip("/").rsplit("/", 2)[-2]


TELEGRAM = Limits(per_second=30, per_target_per_second=1, per_group_per_minute=20, concurrency=30)
DISCORD = Limits(per_second=50, per_target_windows=((5, 5.0),), concurrency=16)
DISCORD_WEBHOOK = Limits(
    per_second=50, per_target_windows=((5, 2.0), (30, 60.0)), key=webhook_of, concurrency=16
)
#: Email has no platform limits of ours; the SMTP pool (PAPERBOY_SMTP_CONCURRENCY connections)
#: bounds what is sent at once. Claiming more deliveries than there are connections keeps the
#: connections busy while the ledger is written: with 4 each claim was one delivery and its own
#: transaction (123 messages/s to aiosmtpd on loopback), with 32, 226 (benchmarks/bench_email.py).
#: It is also the most a crash can leave claimed and unmarked. ``scheduler.publish`` raises it
#: to the pool's size when PAPERBOY_SMTP_CONCURRENCY is larger.
EMAIL = Limits(concurrency=32)
DEFAULTS = {"telegram": TELEGRAM, "discord": DISCORD, "discord-webhook": DISCORD_WEBHOOK, "email": EMAIL}


class Window:
    """At most ``count`` uses in any ``period`` seconds; waiters go first come, first served.

    A use is ``hold()`` … ``release()``: it counts from the moment it is held and for ``period``
    after it is released (``times``), so one under way (``busy``) always counts. ``acquire()`` is a
    use that is over as soon as it is held.
    """

    def __init__(self, count: float, period: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.count = max(1, int(count))
        self.period = period
        self.clock = clock
        self.times: deque[float] = deque()  # when each finished use ended, oldest first
        self.busy = 0  # uses held and not released
        self.turn = asyncio.Lock()
        self._released: asyncio.Event | None = None

    async def hold(self) -> None:
        async with self.turn:
            while True:
                now = self.clock()
                while self.times and now - self.times[0] >= self.period:
                    self.times.popleft()
                if len(self.times) + self.busy < self.count:
                    break
                if self.times:  # room comes when the oldest finished use leaves the window
                    await asyncio.sleep(self.times[0] + self.period - now)
                else:  # every use is under way: wait for one to end, then for its window
                    self._released = asyncio.Event()
                    await self._released.wait()
            self.busy += 1

    def release(self) -> None:
        self.busy -= 1
        self.times.append(self.clock())
        if self._released is not None:
            self._released.set()

    async def acquire(self) -> None:
        await self.hold()
        self.release()


#: Windows are this much longer than the platform's: a margin for the platform's clock and for
#: its counting (measured: one breach in 10,000 sends at 500/s without it, none with it).
SAFETY = 1.02


def _per(limit: float, period: float) -> Window:
    """``limit`` per ``period``; a fractional limit (0.5/s) becomes 1 per 1/limit seconds."""
    return Window(limit, period * SAFETY) if limit >= 1 else Window(1, period * SAFETY / limit)


class Paced:
    """``pace`` for one delivery: each call waits for every limit that applies to the target and
    holds a slot in each until the platform call it precedes is over, which is the next call or
    ``done()`` (the fan-out calls it when the channel's ``send`` returns or raises)."""

    def __init__(self, windows: list[Window]) -> None:
        self.windows = windows  # the group's, the target's, the platform's: in that order
        self.held: list[Window] = []

    async def __call__(self) -> None:
        self.done()
        for window in self.windows:
            await window.hold()
            self.held.append(window)

    def done(self) -> None:
        """The platform call is over: from now, it counts in every window for the window's period."""
        for window in self.held:
            window.release()
        self.held = []


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

    def pace(self, target: str) -> Paced:
        chat = self.limits.key(target)  # the topics of one forum (-100123/5, -100123/7) share its windows
        windows = []
        if self.limits.per_group_per_minute and self.is_group(target):
            windows.append(self._window(self._groups, chat, self.limits.per_group_per_minute, 60.0))
        for count, seconds in self.limits.per_target_windows:
            windows.append(self._window(self._targets, f"{chat} {count}/{seconds:g}", count, seconds))
        if self.limits.per_target_per_second:
            windows.append(self._window(self._targets, chat, self.limits.per_target_per_second, 1.0))
        if self._global is not None:
            windows.append(self._global)  # last: the slot everyone waits for is held the least
        return Paced(windows)

    @staticmethod
    def _window(windows: dict[str, Window], key: str, limit: float, period: float) -> Window:
        window = windows.get(key)
        if window is None:
            window = windows[key] = _per(limit, period)
        return window


def telegram_is_group(target: str) -> bool:
    """Groups, supergroups and channels have negative ids or @names; private chats don't."""
    chat = target.split("/", 1)[0]
    return chat.startswith(("-", "@"))
