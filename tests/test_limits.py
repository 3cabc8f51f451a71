"""The rate limiters keep every window under the platform's limit, and the stand-in that polices
them does catch a sender that ignores its pace."""

from __future__ import annotations

import asyncio
import time

from scheduler.limits import DEFAULTS, DISCORD, SAFETY, TELEGRAM, Pacer, Window, telegram_is_group, webhook_of
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


def test_discord_paces_five_messages_per_channel_and_webhooks_by_their_id() -> None:
    channel, other = "1200000000000000001", "1200000000000000002"

    async def sixth_message_waits() -> None:
        pacer = Pacer(DISCORD)
        pace = pacer.pace(channel)
        for _ in range(5):  # Discord's 5 messages in 5 s to one channel: no wait for these
            await asyncio.wait_for(pace(), 1.0)
        pace.done()
        sixth = asyncio.create_task(pacer.pace(channel)())
        elsewhere = pacer.pace(other)
        await asyncio.wait_for(elsewhere(), 1.0)  # another channel has its own window
        elsewhere.done()
        await asyncio.sleep(0.2)
        assert not sixth.done()
        sixth.cancel()

    asyncio.run(sixth_message_waits())

    webhook = "https://discord.com/api/webhooks/1234567890123456789/"
    assert webhook_of(webhook + "a" * 68) == "1234567890123456789"
    hooks = Pacer(DEFAULTS["discord-webhook"])
    first, same, another = (
        hooks.pace(webhook + "a" * 68),
        hooks.pace(webhook + "b" * 68),  # a new token for the same webhook: the same limits
        hooks.pace("https://discord.com/api/webhooks/1234567890123456780/" + "a" * 68),
    )
    assert [(w.count, w.period) for w in first.windows] == [
        (5, 2.0 * SAFETY),
        (30, 60.0 * SAFETY),
        (50, SAFETY),
    ]
    assert first.windows == same.windows
    assert [w is v for w, v in zip(first.windows, another.windows, strict=True)] == [False, False, True]
