"""The web archive in a real headless Chromium (Debian's package), at a phone's width."""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageStat

from bot.archive.store import Archive, open_archive
from bot.channels.web.export import export_site
from bot.config import DEFAULT_TEMPLATES
from bot.models import Digest
from bot.render.environment import Templates
from tests.conftest import ingest_seeds, unavailable
from tests.hostile import DAY, hostile_papers

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def find_chromium() -> str | None:
    candidates = [
        os.environ.get("PAPERBOY_CHROMIUM"),
        "/usr/lib/chromium/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ]
    return next((c for c in candidates if c and Path(c).exists()), None)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = find_chromium()
    if executable is None:
        unavailable(
            "PAPERBOY_REQUIRE_CHROMIUM", "no Chromium (install Debian's chromium, or set PAPERBOY_CHROMIUM)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("web")
    archive: Archive
    with open_archive(f"sqlite:///{folder}/archive.db") as archive:
        ingest_seeds(archive)
        archive.ingest(Digest(DAY, "hostile.txt", "daily-post", tuple(hostile_papers())))
        export_site(
            archive,
            Templates(DEFAULT_TEMPLATES),
            folder / "site",
            base_url=None,
            site_url="https://x.example",
        )
    return folder / "site"


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    opened = browser.new_page(viewport=PHONE)
    yield opened
    opened.close()


def blank(png: bytes) -> bool:
    """Whether a screenshot shows (next to) nothing: one colour, or ink on under 1% of it."""
    image = Image.open(io.BytesIO(png)).convert("L")
    background = max(range(256), key=image.histogram().__getitem__)
    ink = sum(count for level, count in enumerate(image.histogram()) if abs(level - background) > 40)
    return ImageStat.Stat(image).stddev[0] < 1 or ink < 0.01 * image.width * image.height


PAGES = [
    "index.html",
    "days/2024-07-11.html",
    "days/2024-09-01.html",
    "papers/long-everything-0004.html",
    "tags/index.html",
    "tags/vq.html",
    "papers/scaling-the-codebook-size-of-vqgan-to-e718ffe0.html",
]


@pytest.mark.parametrize("path", PAGES)
def test_each_page_renders_and_fits_a_phone(page: Any, site: Path, path: str) -> None:
    page.goto((site / path).as_uri())
    assert not blank(page.screenshot(full_page=False)), f"{path} renders empty"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], f"{path} scrolls sideways"
    feeds = page.eval_on_selector_all('link[rel="alternate"]', "links => links.map(l => l.type)")
    assert {"application/rss+xml", "application/atom+xml"} <= set(feeds)


def test_queued_papers_wait_for_their_day(site: Path) -> None:
    assert not (site / "papers" / "multifusion-d558e5e7.html").exists()  # undated: not published yet
    assert (site / "papers" / "long-everything-0004.html").exists()


def test_the_screenshot_check_sees_an_empty_page(page: Any, tmp_path: Path) -> None:
    empty = tmp_path / "empty.html"
    empty.write_text("<!DOCTYPE html><html><body></body></html>")
    page.goto(empty.as_uri())
    assert blank(page.screenshot())
    page.set_content("<h1>Paperboy</h1>" + "<p>Some text on the page.</p>" * 20)
    assert not blank(page.screenshot())


def test_the_day_page_shows_korean_commentary_and_folds_the_abstract(page: Any, site: Path) -> None:
    page.goto((site / "days" / "2024-06-18.html").as_uri())
    assert "코드북을 만들고" in page.inner_text("main")
    details = page.locator("#scaling-the-codebook-size-of-vqgan-to-e718ffe0 details.abstract")
    assert not details.evaluate("d => d.open")
    assert not page.get_by_text("In the realm of image quantization").is_visible()
    details.locator("summary").click()
    assert page.get_by_text("In the realm of image quantization").is_visible()


def test_hostile_papers_show_as_text(page: Any, site: Path) -> None:
    page.goto((site / "days" / "2024-09-01.html").as_uri())
    assert page.locator("script").count() == 0
    assert '<script>alert("x")</script>' in page.inner_text("main")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # 5,000-char word wraps


def test_the_paper_page_is_a_phone_screenshot_worth_keeping(page: Any, site: Path, tmp_path: Path) -> None:
    page.goto((site / "papers" / "scaling-the-codebook-size-of-vqgan-to-e718ffe0.html").as_uri())
    shot = page.screenshot(full_page=True)
    (tmp_path / "paper.png").write_bytes(shot)
    image = Image.open(io.BytesIO(shot))
    assert image.width == PHONE["width"] and image.height > PHONE["height"]  # a long page, nothing cut off


def test_the_curators_url_is_a_link_that_opens(page: Any, site: Path) -> None:
    """The URL in "Training on the Test Task"'s commentary is a link a reader can follow (the
    site it names answered here by a stand-in: the machine has no network)."""
    url = "https://latent.space/p/yitay"
    page.route(
        url, lambda route: route.fulfill(status=200, content_type="text/html", body="<title>Yi Tay</title>")
    )
    page.goto((site / "days" / "2024-07-11.html").as_uri())
    link = page.locator(".commentary a", has_text=url)
    assert link.count() == 1 and link.get_attribute("href") == url
    link.click()
    page.wait_for_url(url)
    assert page.title() == "Yi Tay"
