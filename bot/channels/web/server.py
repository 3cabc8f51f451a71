"""Serving the web app with uvicorn: alone (``paperboy serve``) or inside ``paperboy run``'s loop.

The listening socket is bound here, before uvicorn starts, so a port already taken is a clear
``InputError`` rather than uvicorn's ``sys.exit`` from inside a task, and a test can ask for port
0 and read back the one it got. Inside ``paperboy run`` the service owns SIGINT/SIGTERM, so the
embedded server leaves the process's signal handlers alone and stops when told to.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Awaitable, Callable, Generator

import uvicorn
from starlette.types import ASGIApp

from bot.errors import InputError

log = logging.getLogger("paperboy.web")
#: How long a stop waits for requests in flight before cutting them off.
GRACE_SECONDS = 5


def _config(app: ASGIApp) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        lifespan="off",  # the app has no startup work; the service owns the archive
        access_log=False,
        log_config=None,  # the process's logging setup (bot/cli/_logging.py) stays in charge
        server_header=False,
        timeout_graceful_shutdown=GRACE_SECONDS,
        # Behind a proxy on this machine, its X-Forwarded-Proto decides http or https.
        forwarded_allow_ips="127.0.0.1",
        limit_concurrency=1000,  # past this many connections a client gets 503, not a stalled server
    )


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port; ``InputError`` saying which setting to change if it can't."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise InputError(f"PAPERBOY_HOST is {host!r}: not an address this machine has ({exc})") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(512)
    except OSError as exc:
        sock.close()
        raise InputError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}): another server may have the port;"
            " set PAPERBOY_PORT (or PAPERBOY_HOST) to another one"
        ) from None
    sock.setblocking(False)
    return sock


class _Embedded(uvicorn.Server):
    """A uvicorn server that lets the process that embeds it handle signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class WebServer:
    """The app on host:port inside a running asyncio loop: ``await start()`` … ``await stop()``."""

    def __init__(self, app: ASGIApp, host: str, port: int) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._server = _Embedded(_config(app))
        self._task: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        """Listen, and return once requests are being answered."""
        self._socket = bind(self.host, self.port)
        self.port = int(self._socket.getsockname()[1])
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]), name="web")
        while not self._server.started:
            if self._task.done():
                self._socket.close()
                self._task.result()  # raises what stopped it
                raise InputError(f"the web server on {self.url} stopped as it started")
            await asyncio.sleep(0.01)
        log.info("web server on %s", self.url)

    async def stop(self) -> None:
        """Stop listening, let requests in flight finish (up to GRACE_SECONDS), then return."""
        if self._task is None:
            return
        self._server.should_exit = True
        try:
            await self._task
        finally:
            self._task = None
            if self._socket is not None:
                self._socket.close()


async def start(app: ASGIApp, host: str, port: int) -> WebServer:
    """A ``WebServer`` already answering (port 0: any free port, read back from ``.port``)."""
    server = WebServer(app, host, port)
    await server.start()
    return server


def serve_forever(
    app: ASGIApp, host: str, port: int, *, cleanup: Callable[[], Awaitable[None]] | None = None
) -> None:
    """``paperboy serve``: the app until Ctrl-C or SIGTERM, then a clean stop (requests in flight
    finish, ``cleanup`` runs) and a return, so the process exits 0."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        server = await start(app, host, port)
        try:
            await stop.wait()
        finally:
            await server.stop()
            if cleanup is not None:
                await cleanup()

    # uvloop when it is installed (uvicorn's own choice of loop), else asyncio's.
    with asyncio.Runner(loop_factory=_config(app).get_loop_factory()) as runner:
        runner.run(main())
