"""What the sources' stand-ins share: an aiohttp server on 127.0.0.1 run in a thread of its own,
so that synchronous callers (the CLI in process, a ``paperboy`` subprocess) can talk to it; a
record of every request; and faults to inject, answered in turn before the normal answers.

    with HfStandIn() as hf:                       # or ArxivStandIn
        hf.fail(503, retry_after=1)                # the next request gets a 503, then normal ones
        hf.stall(5.0)                              # the next one waits 5 s before answering
        hf.answer(b"<html>...", "text/html")       # the next one gets this body
        ... PAPERBOY_HF_API_URL=hf.base_url ...
        assert [r.path for r in hf.requests] == [...]
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass(frozen=True)
class Seen:
    """A request as it arrived: when (``time.time()``, comparable across processes), what, by whom."""

    at: float
    method: str
    path: str
    query: dict[str, str]
    user_agent: str


@dataclass
class Fault:
    status: int = 500
    body: bytes = b""
    content_type: str = "text/plain"
    headers: dict[str, str] = field(default_factory=dict)
    #: Seconds to wait before answering (a client's timeout fires first).
    delay: float = 0.0


class ThreadedStandIn:
    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.faults: deque[Fault] = deque()
        self.base_url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._lock = threading.Lock()

    # -- what a test injects ---------------------------------------------------------------------

    def fail(
        self, status: int, *, times: int = 1, retry_after: str | float | None = None, body: bytes = b""
    ) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        for _ in range(times):
            self.faults.append(Fault(status, body or f"HTTP {status}".encode(), headers=headers))

    def stall(self, seconds: float, *, times: int = 1) -> None:
        for _ in range(times):
            self.faults.append(Fault(0, delay=seconds))

    def answer(self, body: bytes, content_type: str, *, status: int = 200, times: int = 1) -> None:
        for _ in range(times):
            self.faults.append(Fault(status, body, content_type))

    # -- what a subclass answers -----------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    # -- the server ------------------------------------------------------------------------------

    def __enter__(self) -> Any:
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            try:
                loop.run_until_complete(self._start())
            except BaseException as exc:  # reported to the test's thread
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._stop())
            pending = asyncio.all_tasks(loop)  # stalled answers nobody waits for any more
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

        self._thread = threading.Thread(target=serve, name=type(self).__name__, daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    async def _start(self) -> None:
        app = web.Application(middlewares=[self._middleware])
        self.routes(app)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        agent = request.headers.get("User-Agent", "")
        seen = Seen(time.time(), request.method, request.path, dict(request.query), agent)
        with self._lock:
            self.requests.append(seen)
            fault = self.faults.popleft() if self.faults else None
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status:
                headers = {"Content-Type": fault.content_type, **fault.headers}
                return web.Response(status=fault.status, body=fault.body, headers=headers)
        response: web.StreamResponse = await handler(request)
        return response
