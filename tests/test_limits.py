"""The rate limiters keep every window under the platform's limit, and the stand-in that polices
them does catch a sender that ignores its pace."""

from __future__ import annotations

import asyncio
import time

from scheduler.limits import TELEGRAM, Pacer, Window, telegram_is_group
from tests.fakes import PacedChannel


def test_a_window_never_lets_more_than_its_count_through() -> None:
    async def burst() -> list[float]:
        window = Window(5, 0.2)
        times = []
        for _ in range(20):
            await window.acquire()
            times.append(time.monotonic())
        return times

    times = asyncio.run(burst())
    assert all(times[i + 5] - times[i] >= 0.2 for i in range(len(times) - 5))
    assert times[-1] - times[0] >= 0.6  # (20 - 5) / 5 windows of 0.2 s


def test_the_stand_in_catches_a_sender_that_ignores_the_limit() -> None:
    async def unpaced() -> int:
        channel = PacedChannel(rate=5)

        async def no_wait() -> None:
            return None

        for n in range(10):
            await channel.send(f"-{n}", (), no_wait)
        return channel.violations

    assert asyncio.run(unpaced()) == 5


def test_telegram_paces_one_chat_to_a_message_a_second() -> None:
    async def two_messages() -> float:
        pacer = Pacer(TELEGRAM, telegram_is_group)
        pace = pacer.pace("12345")
        await pace()
        began = time.monotonic()
        await pace()
        return time.monotonic() - began

    assert asyncio.run(two_messages()) >= 1.0
    assert telegram_is_group("-100123/45") and telegram_is_group("@channel")
    assert not telegram_is_group("12345")
