"""What the console asks of the scheduler, given by the composition root (``bot/cli/admin.py``):
the same calls ``paperboy publish`` and ``paperboy deliveries retry`` make, so a button in the
browser has the same guarantees as the command (the ledger sends each delivery once)."""

from __future__ import annotations

import datetime as dt
from typing import Protocol


class Operations(Protocol):
    async def plan(self, day: dt.date) -> str:
        """What publishing ``day`` would send, to how many, by channel (``paperboy publish
        --dry-run``); changes nothing."""

    async def publish(self, day: dt.date) -> str:
        """Publish (or re-publish) ``day`` now; one line saying what went out."""

    async def retry(self, day: dt.date | None, delivery_id: int | None) -> str:
        """Queue failed deliveries again (one, a day's, or all) and send them; one line."""
