"""A pace kept across processes: arXiv's terms ask for no more than one request every three
seconds, from a client, whatever runs it (two ``paperboy pull arxiv`` in a row, the service and a
command at once, several workers).

Each request reserves its turn in the database every process shares (``service_state``): in one
short transaction it reads the last turn given, takes the later of now and that turn plus the
interval, and writes it back; then it sleeps until its turn, holding no lock. Two processes
asking at once are served one after the other by the database's lock (an advisory lock on
PostgreSQL, SQLite's write lock), so they get turns an interval apart. Wall-clock time, since
turns are compared across processes; a stored turn far in the future (the clock was set back)
is not waited for.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import select, text

from bot.archive._sql import insert_for
from bot.archive.schema import service_state
from bot.archive.store import Archive

#: arXiv's "no more than 1 request every 3 seconds", and a tenth more so that the network's
#: jitter never brings two requests closer than 3 s where they arrive.
ARXIV_INTERVAL = 3.1
#: Any constant: the PostgreSQL advisory lock under which turns are given.
PACE_LOCK = 7_262_110_907
#: A stored turn further ahead than this is a clock that went back, not a queue.
SKEW = 300.0


class Pacer:
    def __init__(
        self,
        archive: Archive,
        name: str,
        interval: float,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.archive, self.key, self.interval = archive, f"pace:{name}", interval
        self.clock, self.sleep = clock, sleep

    def wait(self) -> None:
        """Until this request's turn."""
        delay = self.reserve() - self.clock()
        if delay > 0:
            self.sleep(delay)

    def reserve(self) -> float:
        """The next turn (a time on ``clock``), taken: the one after it is ``interval`` later."""
        with self.archive.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PACE_LOCK})
            elif conn.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            stored = conn.execute(
                select(service_state.c.value).where(service_state.c.key == self.key)
            ).scalar()
            now = self.clock()
            try:
                last = float(stored) if stored is not None else None
            except ValueError:
                last = None
            turn = now if last is None or last - now > SKEW else max(now, last + self.interval)
            stmt = insert_for(conn, service_state).values(key=self.key, value=repr(turn))
            conn.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"value": repr(turn)}))
        return turn
