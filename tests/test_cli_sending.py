"""Commands that send close their channels in the loop that opened them (HTTP sessions and SMTP
connections belong to it; left open they warn on exit), even when the sending failed."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.cli.publishing import sending


@dataclass
class Recorder:
    loops: list[asyncio.AbstractEventLoop] = field(default_factory=list)
    fails: bool = False

    async def close(self) -> None:
        self.loops.append(asyncio.get_running_loop())
        if self.fails:
            raise RuntimeError("socket already gone")


@dataclass
class FakePublisher:
    channels: dict[str, Any]


def test_channels_are_closed_in_the_loop_that_did_the_work() -> None:
    telegram, email = Recorder(), Recorder()
    seen: list[asyncio.AbstractEventLoop] = []

    async def work() -> str:
        seen.append(asyncio.get_running_loop())
        return "sent"

    assert sending(FakePublisher({"telegram": telegram, "email": email}), work) == "sent"
    assert telegram.loops == seen and email.loops == seen


def test_channels_are_closed_when_the_work_fails_and_a_failing_close_does_not_hide_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    broken, other = Recorder(fails=True), Recorder()

    async def work() -> None:
        raise ValueError("the database went away")

    with pytest.raises(ValueError, match="database went away"):
        sending(FakePublisher({"discord": broken, "email": other}), work)
    assert len(broken.loops) == 1 and len(other.loops) == 1
    assert "closing the discord channel: socket already gone" in capsys.readouterr().err
