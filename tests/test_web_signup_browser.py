"""The whole sign-up as a person does it, in headless Chromium against the real server: the
form from the archive's footer, the link from the email in the Maildir, then the unsubscribe
button. The pages' Content-Security-Policy must not get in the way (no console errors)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import subscriptions as store
from bot.archive.store import Archive
from bot.errors import NotFound
from tests.test_web_app import Site, serve_site
from tests.test_web_browser import PHONE, blank, browser  # noqa: F401  (the browser fixture)
from tests.test_web_signup import inbox, link_in

pytestmark = pytest.mark.browser


@pytest.fixture
def site(seeded_sqlite: Archive, tmp_path: Path) -> Iterator[Site]:
    yield from serve_site(seeded_sqlite, tmp_path)


def test_sign_up_confirm_and_unsubscribe_in_a_browser(browser: Any, site: Site, tmp_path: Path) -> None:  # noqa: F811
    page = browser.new_page(viewport=PHONE)
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    try:
        page.goto(f"{site.url}/tags/vq.html")
        page.get_by_role("link", name="by email", exact=True).click()
        page.wait_for_url(f"{site.url}/subscribe?tags=vq")
        assert page.input_value("#tags") == "vq"  # the tag page's link fills the filter in
        page.fill("#email", "reader@example.org")
        page.get_by_role("button", name="Subscribe").click()
        page.wait_for_selector("text=Check your inbox")
        assert store.get(site.archive, "email:reader@example.org").status == "pending"

        (message,) = inbox(site.maildir)
        page.goto(link_in(message, "confirm"))
        assert "You are subscribed" in page.inner_text("h1")
        assert "#vq" in page.inner_text("main")
        assert store.get(site.archive, "email:reader@example.org").status == "active"
        page.screenshot(path=str(tmp_path / "confirmed.png"))
        assert not blank(page.screenshot())

        page.get_by_role("link", name="Unsubscribe", exact=True).click()
        page.wait_for_selector("text=Stop sending the digest to reader@example.org?")
        assert store.get(site.archive, "email:reader@example.org").status == "active"  # only looked
        page.get_by_role("button", name="Unsubscribe").click()
        page.wait_for_selector("text=is unsubscribed")
        with pytest.raises(NotFound):
            store.get(site.archive, "email:reader@example.org")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        page.close()
    assert problems == [], problems  # no CSP violation, no failed resource


def test_the_search_box_in_the_header_searches(browser: Any, site: Site) -> None:  # noqa: F811
    page = browser.new_page(viewport=PHONE)
    try:
        page.goto(f"{site.url}/")
        page.fill("header form.search input[name=q]", "코드북")
        page.press("header form.search input[name=q]", "Enter")
        page.wait_for_selector("text=Scaling the Codebook Size of VQGAN")
        # The same address as on a static host; here the server answers it, with no script.
        assert page.url.startswith(f"{site.url}/search.html?q=")
        assert page.locator("script").count() == 0
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        page.close()
