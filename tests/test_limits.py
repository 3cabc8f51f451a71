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


def test_a_send_counts_from_when_it_is_over_not_from_when_it_was_let_go() -> None:
    """A request reaches the platform a varying time after its pace lets it go (a burst queues in
    the HTTP client, a send waits its turn at the other limits): while it is under way it holds its
    slot in every window, and it counts in them from when it is over."""

    async def slow_first_message() -> tuple[float, float]:
        pacer = Pacer(TELEGRAM, telegram_is_group)
        first = pacer.pace("12345")
        await first()
        await asyncio.sleep(0.3)  # the first message is a while on its way
        first.done()
        ended = time.monotonic()
        await pacer.pace("12345")()
        return ended, time.monotonic()

    ended, second = asyncio.run(slow_first_message())
    assert second - ended >= 1.0

    async def all_under_way() -> float:
        window = Window(2, 0.1)
        await window.hold()
        await window.hold()
        third = asyncio.create_task(window.hold())
        await asyncio.sleep(0.2)
        assert not third.done()  # both slots are still under way, however long ago they began
        window.release()
        released = time.monotonic()
        await third
        return time.monotonic() - released

    assert asyncio.run(all_under_way()) >= 0.1


def test_two_topics_of_one_forum_share_its_chat_limit() -> None:
    async def one_to_each_topic(second: str) -> float:
        pacer = Pacer(TELEGRAM, telegram_is_group)
        first = pacer.pace("-100123/5")
        await first()
        first.done()
        began = time.monotonic()
        other = pacer.pace(second)
        await other()
        other.done()
        return time.monotonic() - began

    assert asyncio.run(one_to_each_topic("-100123/7")) >= 0.95  # same chat: Telegram's 1/s applies
    assert asyncio.run(one_to_each_topic("-100999/7")) < 0.5  # another chat: no wait
