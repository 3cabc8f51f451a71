"""The console as an operator uses it, in headless Chromium at a phone's width, with no
JavaScript of its own: log in, preview today, retry a failed delivery, deactivate a subscriber,
log out. Every page passes the Nu HTML Checker, and axe-core finds no serious or critical
accessibility problem on any of them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import subscriptions as store
from bot.archive.store import Archive
from scheduler.ledger import Ledger
from tests.axe import serious_violations
from tests.checkers import html_errors
from tests.console_site import DAY, PASSWORD, Console, serve_console
from tests.test_web_browser import PHONE, browser  # noqa: F401  (the browser fixture)

pytestmark = pytest.mark.browser
PAGES = ["", "day", "day?channel=discord", "day?channel=email", "deliveries", "subscribers", "templates"]


@pytest.fixture
def console(seeded: Archive, tmp_path: Path) -> Iterator[Console]:
    """On SQLite and on PostgreSQL (``seeded`` is parametrized by engine)."""
    yield from serve_console(seeded, tmp_path)


def _log_in(page: Any, console: Console) -> None:
    page.goto(f"{console.url}/admin")
    page.wait_for_url(f"{console.url}/admin/login")
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("text=Next publish")


def test_an_operator_walks_the_console(browser: Any, console: Console, tmp_path: Path) -> None:  # noqa: F811
    page = browser.new_page(viewport=PHONE)
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    saved: list[Path] = []

    def keep(name: str) -> None:
        path = tmp_path / f"{name}.html"
        path.write_text(page.content())
        saved.append(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name

    try:
        _log_in(page, console)
        keep("overview")
        assert "email" in page.inner_text("main") and "PAPERBOY_TELEGRAM_TOKEN is not set" in page.inner_text(
            "main"
        )

        page.get_by_role("link", name="Days", exact=True).click()
        today = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=9))).date()
        assert str(today) in page.inner_text("h1")  # today in the operator's zone (Asia/Seoul)
        assert (
            page.locator("h2", has_text="Message 1").count() == 1
        )  # the queue's papers, as Telegram gets them
        keep("day")

        page.get_by_role("link", name="Deliveries", exact=True).click()
        page.get_by_role("button", name="Retry delivery").click()
        page.wait_for_selector("text=1 failed delivery queued again; sent 1, failed 0")
        keep("retried")
        (row,) = Ledger(console.archive, "test").listing(day=DAY)
        assert row.status == "sent" and row.subscription.target == "reader@example.org"
        assert len(list((console.maildir / "new").iterdir())) == 1  # the digest really went

        page.get_by_role("link", name="Subscribers", exact=True).click()
        page.fill("input[name=q]", "reader")
        page.get_by_role("button", name="Show").click()
        page.get_by_role("button", name="Deactivate reader@example.org").click()
        page.wait_for_selector("text=email:reader@example.org: active → paused.")
        assert store.get(console.archive, "email:reader@example.org").status == "paused"
        assert store.get(console.archive, "email:other@example.org").status == "active"

        page.get_by_role("button", name="Log out").click()
        page.wait_for_url(f"{console.url}/admin/login")
        page.goto(f"{console.url}/admin/subscribers")
        page.wait_for_url(f"{console.url}/admin/login")  # the session is gone
    finally:
        page.close()
    assert problems == [], problems  # no CSP violation, no failed resource
    assert html_errors(saved) == []


def test_every_console_page_is_valid_and_accessible(browser: Any, console: Console, tmp_path: Path) -> None:  # noqa: F811
    context = browser.new_context(viewport=PHONE, bypass_csp=True)  # so axe's script may run
    page = context.new_page()
    saved = []
    found: dict[str, list[str]] = {}
    try:
        page.goto(f"{console.url}/admin/login")
        found["login"] = serious_violations(page)
        _log_in(page, console)
        for name in PAGES:
            page.goto(f"{console.url}/admin/{name}")
            path = tmp_path / f"{name.replace('?', '-').replace('=', '-') or 'overview'}.html"
            path.write_text(page.content())
            saved.append(path)
            found[name or "overview"] = serious_violations(page)
    finally:
        context.close()
    assert {name: v for name, v in found.items() if v} == {}
    assert html_errors(saved) == []
