"""A served console for the tests: the real app on 127.0.0.1 with a password set in the data
folder, a real publisher (email into a Maildir) behind its buttons, and a clock tests can move."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import insert

from bot import subscriptions as store
from bot.archive.schema import deliveries
from bot.archive.store import Archive
from bot.channels.web.app import make_app
from bot.channels.web.console.passwords import hash_password, save_hash
from bot.cli.admin import ConsoleOperations
from bot.cli.publishing import publisher_for
from bot.config import DEFAULT_TEMPLATES
from bot.render.environment import Templates
from tests.test_service import free_port
from tests.test_web_app import Served, site_settings

PASSWORD = "correct horse battery staple"
DAY = dt.date(2024, 6, 18)


@dataclass
class Clock:
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class Console:
    url: str
    archive: Archive
    http: httpx.Client
    clock: Clock
    maildir: Path

    def login(self, password: str = PASSWORD, client: httpx.Client | None = None) -> httpx.Response:
        client = client or self.http
        page = client.get("/admin/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token, page.text
        return client.post("/admin/login", data={"csrf": token[1], "password": password})

    def csrf(self, path: str = "/admin/") -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', self.http.get(path).text)
        assert found
        return found[1]


def serve_console(
    archive: Archive, tmp_path: Path, *, password: bool = True, **values: str
) -> Iterator[Console]:
    port = free_port()
    settings = site_settings(tmp_path, port, **values)
    if password:
        save_hash(settings.data_dir, hash_password(PASSWORD))
    reader = store.add(archive, "email:reader@example.org")
    store.add(archive, "email:other@example.org", ["vq"])
    with archive.engine.begin() as conn:
        conn.execute(
            insert(deliveries).values(
                day=DAY,
                subscription_id=reader.id,
                status="failed",
                attempts=3,
                last_error="550 mailbox unavailable",
                created=dt.datetime.now(dt.UTC),
            )
        )
    publisher = publisher_for(settings, archive)
    clock = Clock()
    app = make_app(
        settings,
        archive,
        (),
        None,
        templates=Templates(DEFAULT_TEMPLATES),
        clock=clock,
        console=ConsoleOperations(publisher),
    )
    with Served(app, port) as served, httpx.Client(base_url=served.url, timeout=30) as http:
        yield Console(served.url, archive, http, clock, settings.data_dir / "maildir")
