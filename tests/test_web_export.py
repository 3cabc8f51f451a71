"""The static web archive, as files: complete, linked, escaped, and safely replaced."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bot.archive.parsers import Document, parse_document
from bot.archive.store import Archive
from bot.channels.web.export import MARKER, export_site
from bot.config import DEFAULT_TEMPLATES
from bot.errors import InputError
from bot.models import Digest
from bot.render.environment import Templates
from tests.conftest import SEED_FILES
from tests.hostile import DAY, hostile_papers

SITE = "https://paperboy.example"
#: Pages the web server answers itself (bot/channels/web/app.py), not files of the export.
SERVER_PAGES = {"subscribe", "feeds.opml"}


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.alternates: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("a", "link") and values.get("href"):
            self.hrefs.append(values["href"] or "")
        if tag == "link" and values.get("rel") == "alternate":
            self.alternates.append((values.get("type") or "", values.get("href") or ""))


def links_of(page: Path) -> _Links:
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def export(archive: Archive, target: Path) -> Path:
    export_site(archive, Templates(DEFAULT_TEMPLATES), target, base_url=None, site_url=SITE)
    return target


def test_every_page_and_feed_is_there(seeded: Archive, tmp_path: Path) -> None:
    site = export(seeded, tmp_path / "site")
    assert len(list((site / "days").glob("*.html"))) == 4
    assert len(list((site / "papers").glob("*.html"))) == 45
    assert {p.name for p in (site / "tags").iterdir()} >= {"index.html", "vq.html", "vq.xml", "vq.atom"}
    assert (site / "feed.xml").exists() and (site / "atom.xml").exists() and (site / MARKER).exists()
    vq = (site / "tags" / "vq.html").read_text()
    assert "#vq <small>2 papers</small>" in vq
    cloud = (site / "tags" / "index.html").read_text()
    assert re.search(
        r'href="../tags/vision-language.html"[^>]*>#vision-language <span class="count">4</span>', cloud
    )


def test_every_relative_link_resolves_and_every_page_offers_its_feeds(
    seeded: Archive, tmp_path: Path
) -> None:
    site = export(seeded, tmp_path / "site")
    pages = list(site.rglob("*.html"))
    assert len(pages) > 60
    for page in pages:
        found = links_of(page)
        for href in found.hrefs:
            if href.startswith(("http://", "https://", "mailto:", "data:")):
                continue
            target = (page.parent / href.split("#")[0].split("?")[0]).resolve()
            if target.parent == site.resolve() and target.name in SERVER_PAGES:
                continue
            assert target.exists(), f"{page.relative_to(site)} links to missing {href}"
        types = {kind for kind, _ in found.alternates}
        assert {"application/rss+xml", "application/atom+xml"} <= types, page
    tag_feeds = [href for _, href in links_of(site / "tags" / "vq.html").alternates]
    assert "../tags/vq.xml" in tag_feeds and "../tags/vq.atom" in tag_feeds


def test_hostile_text_is_escaped_on_every_page(archive: Archive, tmp_path: Path) -> None:
    archive.ingest(Digest(DAY, "hostile.txt", "daily-post", tuple(hostile_papers())))
    site = export(archive, tmp_path / "site")
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "<script>" not in text, page
        assert "\x00" not in text and "\x07" not in text
    day = (site / "days" / "2024-09-01.html").read_text()
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in day


def test_a_folder_that_is_not_an_export_is_left_alone(seeded: Archive, tmp_path: Path) -> None:
    precious = tmp_path / "out" / "home"
    precious.mkdir(parents=True)
    (precious / "thesis.tex").write_text("years of work")
    with pytest.raises(InputError, match="not empty and holds no earlier export"):
        export(seeded, precious)
    assert (precious / "thesis.tex").read_text() == "years of work"
    assert [p.name for p in precious.parent.iterdir()] == ["home"]  # no half-written folder left


def test_a_new_export_replaces_the_old_one(seeded: Archive, tmp_path: Path) -> None:
    site = export(seeded, tmp_path / "out" / "site")
    gone = site / "papers" / "transformer-alignment-in-large-language-266f44d5.html"
    assert gone.exists()
    original = SEED_FILES[3].read_text()
    start, end = original.index("Transformer Alignment"), original.index("Controlling Space")
    seeded.ingest(parse_document(Document(SEED_FILES[3].name, original[:start] + original[end:])))
    export(seeded, site)
    assert not gone.exists()
    assert [p.name for p in site.parent.iterdir()] == ["site"]


def test_worker_processes_write_exactly_what_one_process_writes(
    seeded: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.channels.web import export as export_module

    alone = export(seeded, tmp_path / "alone")
    monkeypatch.setattr(export_module, "PARALLEL_FROM", 1)
    monkeypatch.setattr(export_module, "DAYS_PER_JOB", 1)  # four day jobs, several tag jobs
    monkeypatch.setattr(export_module, "TAGS_PER_JOB", 3)
    together = export(seeded, tmp_path / "together")
    files = sorted(p.relative_to(alone) for p in alone.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(together) for p in together.rglob("*") if p.is_file())
    for name in files:
        assert (alone / name).read_bytes() == (together / name).read_bytes(), name


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.actions: list[str] = []
        self.bodies = 0
        self.scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self.actions.append(values.get("action") or "")
        if "data-pagefind-body" in values:
            self.bodies += 1
        if tag == "script":
            self.scripts.append(values.get("src") or "inline")


def forms_of(page: Path) -> _Forms:
    parser = _Forms()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def test_every_search_form_sends_to_search_html(seeded: Archive, tmp_path: Path) -> None:
    site = export(seeded, tmp_path / "site")
    for page in site.rglob("*.html"):
        if page.parent.name == "pagefind":
            continue
        actions = forms_of(page).actions
        assert actions, page
        for action in actions:
            assert (page.parent / action).resolve() == (site / "search.html").resolve(), (page, action)


def test_the_search_index_holds_each_paper_page_once_and_nothing_else(
    seeded: Archive, tmp_path: Path
) -> None:
    site = export(seeded, tmp_path / "site")
    papers = list((site / "papers").glob("*.html"))
    assert len(papers) == 45
    for page in site.rglob("*.html"):
        # Day and tag pages repeat the papers: only a paper's own page is a search result.
        assert forms_of(page).bodies == (1 if page.parent.name == "papers" else 0), page
    entry = json.loads((site / "pagefind" / "pagefind-entry.json").read_text())
    # One index, in the pages' language (<html lang="en">), of the paper pages alone.
    assert {lang: info["page_count"] for lang, info in entry["languages"].items()} == {"en": 45}
    assert (site / "pagefind" / "pagefind.js").is_file()
    # The pages say which text is Korean (the commentary), inside English pages.
    vqgan = (site / "papers" / "scaling-the-codebook-size-of-vqgan-to-e718ffe0.html").read_text()
    assert '<html lang="en">' in vqgan and '<div class="commentary" lang="ko">' in vqgan


def test_the_static_search_page_loads_only_its_own_script(seeded: Archive, tmp_path: Path) -> None:
    site = export(seeded, tmp_path / "site")
    assert forms_of(site / "search.html").scripts == ["search.js"]  # nothing inline
    assert "needs JavaScript" in (site / "search.html").read_text()  # what a reader without it is told
    for other in site.rglob("*.html"):
        if other.name != "search.html":
            assert forms_of(other).scripts == [], other  # every other page stays script-free
    # search.js uses Pagefind's API; Pagefind's ready-made widgets are not shipped.
    shipped = {p.name for p in (site / "pagefind").iterdir() if p.is_file()}
    assert "pagefind.js" in shipped and not any("ui" in name or "highlight" in name for name in shipped)


def test_the_search_index_can_be_left_out(seeded: Archive, tmp_path: Path) -> None:
    site = tmp_path / "site"
    export_site(seeded, Templates(DEFAULT_TEMPLATES), site, base_url=None, site_url=SITE, search_index=False)
    assert not (site / "pagefind").exists()
    assert (site / "search.html").exists() and (site / "search.js").exists()


def test_an_empty_archive_exports_without_an_index(archive: Archive, tmp_path: Path) -> None:
    site = export(archive, tmp_path / "site")  # Pagefind refuses to index no page at all
    assert (site / "index.html").exists() and (site / "search.html").exists()
    assert not (site / "pagefind").exists()
