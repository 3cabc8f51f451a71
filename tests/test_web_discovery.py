"""What the web archive shows of the tag model, on the seeds (SQLite and PostgreSQL): tag pages
list the model's suggestions after the curator's papers, marked in words; paper pages show their
suggested tags apart and the papers related to them, never themselves, nothing under the floor,
no section when there is none. Checked by vnu and in headless Chromium."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bot.archive.parsers import Document, parse_document
from bot.archive.store import Archive
from bot.channels.web.discovered import RELATED
from bot.channels.web.export import export_site
from bot.channels.web.update import update_site
from bot.config import DEFAULT_TEMPLATES
from bot.render.environment import Templates
from bot.suggest.refresh import refresh
from bot.suggest.similar import FLOOR, SimilarIndex
from tests.checkers import html_errors
from tests.test_web_browser import PHONE, browser  # noqa: F401  (fixture)

SITE = "https://paperboy.example"
SIMVLG = "simvlg-simple-and-efficient-pretraining-1f39b1fe"
PALIGEMMA = "paligemma-a-versatile-3b-vlm-for-c0d6dc7e"
ARCANA = "improving-multi-modal-large-language-e0c59e14"
VLAP = "bridging-vision-and-language-spaces-with-d3bf5737"
LINK = re.compile(r'href="\.\./papers/([^"]+)\.html"')


def section(html: str, heading: str) -> str:
    """The part of a page from the ``<section>`` whose heading is ``heading`` to its end."""
    start = html.find(f">{heading}</h2>")
    return html[start : html.index("</section>", start)] if start >= 0 else ""


def build(archive: Archive, folder: Path) -> tuple[Path, Path]:
    features = folder / "features"
    refresh(archive, features)
    site = folder / "site"
    templates = Templates(DEFAULT_TEMPLATES)
    export_site(archive, templates, site, base_url=None, site_url=SITE, search_index=False, features=features)
    return site, features


@pytest.fixture
def built(seeded: Archive, tmp_path: Path) -> tuple[Path, Path]:
    return build(seeded, tmp_path)


def test_a_paper_page_lists_its_nearest_published_papers_but_never_itself(
    built: tuple[Path, Path],
) -> None:
    site, features = built
    html = (site / "papers" / f"{SIMVLG}.html").read_text()
    related = LINK.findall(section(html, "Related in the archive"))
    assert related, "SimVLG has neighbours above the floor on the seeds"
    assert SIMVLG not in related
    assert all((site / "papers" / f"{paper}.html").is_file() for paper in related)
    # The same papers, in the same order, as `paperboy similar` ranks them (those with a page).
    nearest = SimilarIndex(features).nearest(SIMVLG, 100) or []
    published = {p.stem for p in (site / "papers").glob("*.html")}
    expected = [paper for paper, score in nearest if paper in published and score >= FLOOR][:RELATED]
    assert related == expected


def test_a_paper_with_nothing_above_the_floor_has_no_related_section(built: tuple[Path, Path]) -> None:
    site, features = built
    index = SimilarIndex(features)
    lonely = [p for p in (site / "papers").glob("*.html") if not index.nearest(p.stem, 100)]
    assert lonely, "some seed papers share nothing above the floor"
    for page in lonely:
        assert "Related in the archive" not in page.read_text()
    assert "Related in the archive" in (site / "papers" / f"{SIMVLG}.html").read_text()


def test_suggested_tags_show_apart_from_the_curators_and_marked(built: tuple[Path, Path]) -> None:
    site, _ = built
    html = (site / "papers" / f"{SIMVLG}.html").read_text()
    card = html[html.index("<article") : html.index("</article>")]
    assert "#vision-language" not in card, "the curator's tags are the card's; SimVLG has none"
    marked = re.search(r'<p class="tags suggested-tags"[^>]*>(.*?)</p>', html, re.S)
    assert marked is not None
    assert '<span class="mark">suggested</span>' in marked.group(1)
    assert 'href="../tags/vision-language.html" class="suggested">#vision-language</a>' in marked.group(1)
    paligemma = (site / "papers" / f"{PALIGEMMA}.html").read_text()
    assert "suggested-tags" not in paligemma  # the curator tagged it: nothing to suggest


def test_the_tag_page_lists_the_curators_papers_then_the_suggested_ones_marked(
    built: tuple[Path, Path],
) -> None:
    site, _ = built
    html = (site / "tags" / "vision-language.html").read_text()
    assert "#vision-language <small>4 papers · " in html
    suggested = section(html, "Suggested by the tag model")
    curated = html[: html.index('<section class="suggested"')]
    assert {SIMVLG, ARCANA, VLAP} <= set(LINK.findall(suggested))
    assert PALIGEMMA in LINK.findall(curated) and PALIGEMMA not in LINK.findall(suggested)
    assert SIMVLG not in LINK.findall(curated)
    rows = re.findall(r'<li class="suggested">.*?</li>', suggested)
    assert rows and all('<span class="mark">suggested</span>' in row for row in rows)
    # A tag the model does not suggest has no such section.
    assert "Suggested by the tag model" not in (site / "tags" / "vq.html").read_text()


def test_the_pages_are_valid_html(built: tuple[Path, Path]) -> None:
    site, _ = built
    pages = [site / "papers" / f"{SIMVLG}.html", site / "tags" / "vision-language.html"]
    assert html_errors(pages) == []


@pytest.mark.browser
def test_in_chromium_the_mark_shows_and_related_links_open_their_papers(
    seeded_sqlite: Archive,
    tmp_path: Path,
    browser: Any,  # noqa: F811
) -> None:
    site, _ = build(seeded_sqlite, tmp_path)
    page = browser.new_page(viewport=PHONE)
    try:
        page.goto((site / "tags" / "vision-language.html").as_uri())
        row = page.locator(f'li.suggested:has(a[href$="{SIMVLG}.html"])')
        assert row.locator(".mark").is_visible()
        assert row.locator(".mark").inner_text().strip().lower() == "suggested"
        curated = page.locator(f'ul.listing li:has(a[href$="{PALIGEMMA}.html"])')
        assert curated.locator(".mark").count() == 0
        page.goto((site / "papers" / f"{SIMVLG}.html").as_uri())
        assert page.get_by_role("heading", name="Related in the archive").is_visible()
        first = page.locator(".related a").first
        title = first.inner_text()
        first.click()
        page.wait_for_load_state()
        assert page.url.endswith(".html") and SIMVLG not in page.url
        assert page.locator("h1").inner_text() == title
    finally:
        page.close()


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_refresh_that_brings_a_near_paper_rewrites_exactly_the_pages_it_changes(
    seeded: Archive, tmp_path: Path
) -> None:
    """A new day's paper close to SimVLG: once the model is refreshed, the site's update puts it
    in SimVLG's related list (and the new day's suggestions on their tag pages), feeds carrying
    suggested tags; the folder ends byte for byte as a fresh export, and pages nothing touched
    keep their bytes."""
    templates = Templates(DEFAULT_TEMPLATES)
    features = tmp_path / "features"
    refresh(seeded, features)
    options: dict[str, Any] = {
        "base_url": None,
        "site_url": SITE,
        "features": features,
        "feed_suggested": True,
    }
    site = tmp_path / "site"
    export_site(seeded, templates, site, search_index=False, **options)
    before = tree(site)
    near = (
        "2025년 12월 20일\nSimVLG-2: Simple and Efficient Pretraining of Visual Language Generative Models\n"
        "(Ada Lovelace)\nWe pretrain visual language generative models simply and efficiently, with"
        " frozen large language models and vision encoders.\n좋은 논문입니다.\n#efficiency\n"
    )
    seeded.ingest(parse_document(Document("2025-12-20.txt", near)))
    refresh(seeded, features)
    report = update_site(seeded, templates, site, **options)
    assert not report.exported, report.reason
    after = tree(site)
    fresh = tmp_path / "fresh"
    export_site(seeded, templates, fresh, search_index=False, **options)
    assert after == tree(fresh)
    new = next(p.stem for p in (site / "papers").glob("simvlg-2-*.html"))
    simvlg = (site / "papers" / f"{SIMVLG}.html").read_text()
    assert new in LINK.findall(section(simvlg, "Related in the archive"))
    changed = {name for name in before.keys() & after.keys() if before[name] != after[name]}
    assert f"papers/{SIMVLG}.html" in changed
    assert f"papers/{PALIGEMMA}.html" not in changed  # nothing near it changed
    assert report.unchanged > 0
