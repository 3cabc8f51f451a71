"""The templates page's render check runs in the background (at console start, when a visit
finds a template file changed, on "Check again"), never on the visit: the page answers with the
last result, when it was taken, and errors at FILE:LINE."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.archive.schema import admin_audit
from bot.archive.store import Archive
from tests.console_site import Console, serve_console

BROKEN = "<b>{{ paper.title }}</b>\n{% if paper.tags %}\n{{ paper.tags | join(' ') }\n"
FIXED = "<b>{{ paper.title }}</b>\n"


@pytest.fixture
def overrides(tmp_path: Path) -> Path:
    folder = tmp_path / "overrides"
    (folder / "telegram").mkdir(parents=True)
    (folder / "telegram" / "paper.html").write_text(FIXED)  # the publisher refuses broken ones
    return folder


@pytest.fixture
def console(seeded_sqlite: Archive, tmp_path: Path, overrides: Path) -> Iterator[Console]:
    yield from serve_console(seeded_sqlite, tmp_path, PAPERBOY_TEMPLATES=str(overrides))


def settled(console: Console) -> str:
    """The page once no check is running."""
    for _ in range(300):
        page = console.http.get("/admin/templates").text
        if "A check is running now" not in page:
            return page
        time.sleep(0.1)
    raise AssertionError("the check never ended")


def test_the_page_shows_the_last_check_with_errors_at_file_line(console: Console, overrides: Path) -> None:
    console.login()
    page = settled(console)  # the check the console started with
    assert "Checked at" in page
    assert re.search(r"telegram: \d{4}-\d\d-\d\d: <span class=\"ok\">renders", page), page
    assert "<code>telegram/paper.html</code>: replaces the shipped one" in page

    (overrides / "telegram" / "paper.html").write_text(BROKEN)
    first = console.http.get("/admin/templates").text
    # The visit that finds the file changed starts a check and answers at once, with the old result.
    assert "A check is running now: below is the one before it" in first
    assert "paper.html:3" not in first
    page = settled(console)
    assert re.search(r"overrides/telegram/paper\.html:3: unexpected &#39;}&#39;", page), page

    (overrides / "telegram" / "paper.html").write_text(FIXED)
    page = settled(console)
    assert "paper.html:3" not in page and "renders" in page


def test_check_again_needs_the_csrf_token(console: Console) -> None:
    console.login()
    settled(console)
    refused = console.http.post("/admin/templates/check", data={"csrf": "wrong"})
    assert refused.status_code == 403
    assert "A check is running now" not in console.http.get("/admin/templates").text
    with console.archive.engine.connect() as conn:
        assert "check templates" not in set(conn.scalars(select(admin_audit.c.action)))

    done = console.http.post("/admin/templates/check", data={"csrf": console.csrf()})
    assert done.status_code == 303 and done.headers["location"].endswith("/admin/templates")
    with console.archive.engine.connect() as conn:
        assert "check templates" in set(conn.scalars(select(admin_audit.c.action)))
    assert "Checked at" in settled(console)
