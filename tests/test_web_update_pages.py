"""What an update of the site touches and what a reader sees meanwhile: a correction rewrites its
day, its paper and that paper's feeds and nothing else; pages that left the archive go; at every
moment of an update, every page a reader can reach by links is there; a folder the update cannot
trust is exported whole; the search index follows PAPERBOY_SEARCH_INDEX; ``paperboy ingest`` of
a correction updates the site itself."""

from __future__ import annotations

import asyncio
import json
import os
from collections import deque
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bot.archive.parsers import Document, parse_document
from bot.archive.store import Archive
from bot.channels.web import files, state
from bot.channels.web.update import update_site
from bot.config import DEFAULT_TEMPLATES, Settings
from bot.errors import InputError
from bot.render.environment import Templates
from scheduler.publish import Publisher
from tests.conftest import SEEDS, CliRunner
from tests.test_publish import DAY
from tests.test_web_update import SITE_URL, assert_same_as_an_export, export

ORIGINAL = (SEEDS / "daily-2024-07-11.txt").read_text()
TEST_TASK = "Training on the Test Task Confounds Evaluation and Emergence"


def publisher(archive: Archive, site: Path, **changes: str) -> Publisher:
    settings = replace(
        Settings.from_env({}),
        site_dir=site,
        base_url=SITE_URL,
        database_url="unused",
        data_dir=site.parent,  # the tag model's features with the test's files, as the export has them
        **changes,
    )
    return Publisher(archive, settings, {}, worker="site-test")


def correct(archive: Archive, text: str, name: str = "corrected.txt") -> None:
    report = archive.ingest(parse_document(Document(name, text)))
    assert report.correction is not None


def without_test_task() -> str:
    """2024-07-11 without the paper that alone has #scaling-law and #benchmark."""
    start = ORIGINAL.index(TEST_TASK)
    return ORIGINAL[:start] + ORIGINAL[ORIGINAL.index("Reuse, Don't Retrain") :]


def snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    return {
        p.relative_to(folder).as_posix(): (p.stat().st_ino, p.read_bytes())
        for p in folder.rglob("*")
        if p.is_file()
    }


def published(archive: Archive, site: Path, **changes: str) -> Publisher:
    export(archive, site)
    made = publisher(archive, site, **changes)
    assert asyncio.run(made.publish(DAY)).site_error is None
    return made


def test_a_correction_rewrites_its_day_its_paper_and_its_feeds_only(seeded: Archive, tmp_path: Path) -> None:
    site = tmp_path / "site"
    made = published(seeded, site)
    before = snapshot(site)
    correct(seeded, ORIGINAL.replace("Scaling Law를 속일 수는 없다고", "Scaling Law는 속일 수 없다고"))
    assert made.refresh_site(DAY) is None
    after = snapshot(site)
    rewritten = {name for name in after if name not in before or after[name][0] != before[name][0]}
    paper = next(name for name in rewritten if name.startswith("papers/"))
    assert paper.startswith("papers/training-on-the-test-task")
    pages = {name for name in rewritten if not name.startswith(".paperboy-site/")}
    assert pages == {
        "days/2024-07-11.html",
        paper,
        "feed.xml",
        "atom.xml",
        *(f"tags/{tag}.{kind}" for tag in ("scaling-law", "benchmark") for kind in ("xml", "atom")),
    }
    # The record: what the site was built from now (the correction's post replaced the day's).
    assert {".paperboy-site/site.json"} < rewritten - pages
    assert_same_as_an_export(seeded, site, tmp_path / "fresh")


def test_pages_that_leave_the_archive_leave_the_site(seeded: Archive, tmp_path: Path) -> None:
    site = tmp_path / "site"
    made = published(seeded, site)
    paper = next(p.relative_to(site).as_posix() for p in (site / "papers").glob("training-on-the-test-task*"))
    gone = [
        paper,
        *(f"tags/{tag}.{kind}" for tag in ("scaling-law", "benchmark") for kind in ("html", "xml", "atom")),
    ]
    assert all((site / name).exists() for name in gone)
    correct(seeded, without_test_task())
    assert made.refresh_site(DAY) is None
    assert [name for name in gone if (site / name).exists()] == []
    assert not (site / ".paperboy-site" / "tags" / "benchmark.json").exists()
    assert "#benchmark" not in (site / "tags" / "index.html").read_text()
    assert_same_as_an_export(seeded, site, tmp_path / "fresh")


def test_a_paper_added_at_the_top_of_a_day_moves_the_others_down_its_tags_listings(
    seeded: Archive, tmp_path: Path
) -> None:
    """The other papers of the day did not change, but their place in it did: a tag's listing
    runs newest day first, then in the day's order."""
    site = tmp_path / "site"
    made = published(seeded, site)
    first = "PaliGemma: A versatile 3B VLM for transfer"
    added = "\n".join(
        [
            "Florence-2: A Unified Vision Foundation Model",
            "(Bin Xiao, Haiping Wu)",
            "A model.",
            "좋네요.",
            "#vision-language\n",
        ]
    )
    correct(seeded, ORIGINAL.replace(first, added + first, 1))
    assert made.refresh_site(DAY) is None
    listing = (site / "tags" / "vision-language.html").read_text()
    assert listing.index("Florence-2") < listing.index("PaliGemma")
    assert_same_as_an_export(seeded, site, tmp_path / "fresh")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag in ("a", "link") and href and not href.startswith(("http", "data:", "mailto:")):
            self.hrefs.append(href.split("#")[0].split("?")[0])


#: Pages the web server answers itself, not files of the site.
SERVER_PAGES = {"subscribe", "feeds.opml"}


class Reader:
    """Follows every link from the index, as a reader (or a crawler) would, at any moment."""

    def __init__(self, site: Path) -> None:
        self.site = site.resolve()
        self.parsed: dict[tuple[Path, int], list[str]] = {}
        self.visits = 0

    def broken_links(self) -> list[str]:
        self.visits += 1
        broken, seen, queue = [], {self.site / "index.html"}, deque([self.site / "index.html"])
        while queue:
            page = queue.popleft()
            for href in self._links(page):
                target = (page.parent / href).resolve()
                if target.parent == self.site and target.name in SERVER_PAGES:
                    continue
                if not target.is_file():
                    broken.append(f"{page.relative_to(self.site)} -> {href}")
                elif target.suffix == ".html" and target not in seen:
                    seen.add(target)
                    queue.append(target)
        return broken

    def _links(self, page: Path) -> list[str]:
        key = (page, page.stat().st_ino)  # every write is a new file (a rename): a new inode
        if key not in self.parsed:
            parser = _Links()
            parser.feed(page.read_text(encoding="utf-8"))
            self.parsed[key] = parser.hrefs
        return self.parsed[key]


def test_a_reader_meets_no_broken_link_at_any_moment_of_an_update(
    seeded: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    made = published(seeded, site)
    reader = Reader(site)
    assert reader.broken_links() == []
    moments: list[str] = []
    write, remove = files.write_atomic, files._remove

    def write_and_look(path: Path, data: bytes) -> None:
        write(path, data)
        moments.extend(reader.broken_links())

    def remove_and_look(path: Path) -> bool:
        done = remove(path)
        moments.extend(reader.broken_links())
        return done

    monkeypatch.setattr(files, "write_atomic", write_and_look)
    monkeypatch.setattr(files, "_remove", remove_and_look)
    correct(seeded, without_test_task())  # a paper and two tags go
    assert made.refresh_site(DAY) is None
    newer = ORIGINAL.replace("2024년 7월 11일", "2024년 7월 12일")  # the newest day, its papers again
    seeded.ingest(parse_document(Document("daily-2024-07-12.txt", newer)))
    assert asyncio.run(made.publish(DAY.replace(day=12))).site_error is None
    assert moments == [] and reader.visits > 20


def test_an_update_changes_files_in_the_folder_and_leaves_no_other(seeded: Archive, tmp_path: Path) -> None:
    """The folder itself stays (a server's handle on it, a bind mount), and no temporary file or
    folder is left beside the pages."""
    site = tmp_path / "site"
    made = published(seeded, site)
    inode, beside = site.stat().st_ino, sorted(p.name for p in tmp_path.iterdir())
    correct(seeded, without_test_task())
    assert made.refresh_site(DAY) is None
    assert site.stat().st_ino == inode and sorted(p.name for p in tmp_path.iterdir()) == beside
    assert [p.name for p in site.rglob(".*") if p.name != state.MARKER] == []


def _old_marker(site: Path) -> None:
    state_folder = site / state.MARKER
    for path in sorted(state_folder.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    state_folder.rmdir()
    state_folder.write_text("written by paperboy export-site; this folder is replaced on each export\n")


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        (lambda site: None, ""),
        (lambda site: _old_marker(site), "older Paperboy"),
        (lambda site: (site / state.UPDATING).write_bytes(b""), "did not finish"),
        (lambda site: (site / state.SITE).write_text("{"), "damaged"),
        (lambda site: (site / state.tag_file("vq")).unlink(), "record is damaged"),
        (lambda site: os.rename(site, site.with_name("elsewhere")), "no site yet"),
    ],
    ids=[
        "an earlier export",
        "an older paperboy's",
        "an interrupted update",
        "a damaged record",
        "a record missing a tag",
        "none",
    ],
)
def test_a_folder_the_update_cannot_trust_is_exported_whole(
    seeded: Archive, tmp_path: Path, spoil: object, reason: str
) -> None:
    site = tmp_path / "site"
    export(seeded, site)
    spoil(site)  # type: ignore[operator]
    correct_before = seeded.ingest(parse_document(Document("new.txt", ORIGINAL.replace("11일", "12일"))))
    assert correct_before.correction is None
    report = update_site(seeded, Templates(DEFAULT_TEMPLATES), site, base_url=SITE_URL, site_url=SITE_URL)
    assert report.exported == bool(reason) and reason in report.reason
    assert_same_as_an_export(seeded, site, tmp_path / "fresh")


def test_a_change_touching_much_of_a_large_archive_is_exported_whole(
    seeded: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rewriting a quarter of a large archive's days one by one costs more than an export with
    its worker processes (here the seeds' four days count as large)."""
    from bot.channels.web import update

    monkeypatch.setattr(update, "LARGE", 4)
    site = tmp_path / "site"
    made = published(seeded, site)
    correct(seeded, without_test_task())  # that day, and its neighbour: not a quarter of 5
    report = update_site(seeded, Templates(DEFAULT_TEMPLATES), site, base_url=SITE_URL, site_url=SITE_URL)
    assert not report.exported
    for day in ("2024-07-12", "2024-07-13"):
        text = ORIGINAL.replace("2024년 7월 11일", f"2024년 7월 {day[-2:]}일")
        seeded.ingest(parse_document(Document(f"daily-{day}.txt", text)))
    assert made.refresh_site(DAY) is None
    assert made.site_report is not None and made.site_report.exported
    assert "days changed" in made.site_report.reason
    assert_same_as_an_export(seeded, site, tmp_path / "fresh")


def test_other_templates_or_another_paperboy_mean_an_export(
    seeded: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    export(seeded, site)
    override = tmp_path / "templates" / "web"
    override.mkdir(parents=True)
    (override / "style.css").write_text("body { color: navy; }\n")
    mine = Templates(DEFAULT_TEMPLATES, tmp_path / "templates")
    report = update_site(seeded, mine, site, base_url=SITE_URL, site_url=SITE_URL)
    assert report.exported and "templates" in report.reason
    assert "color: navy" in (site / "style.css").read_text()
    monkeypatch.setattr(state, "__version__", "99.0")
    again = update_site(seeded, mine, site, base_url=SITE_URL, site_url=SITE_URL)
    assert again.exported and "another Paperboy" in again.reason


def test_a_folder_that_is_no_export_is_left_alone(seeded: Archive, tmp_path: Path) -> None:
    site = tmp_path / "home"
    site.mkdir()
    (site / "thesis.tex").write_text("years of work")
    with pytest.raises(InputError, match="holds no earlier export"):
        update_site(seeded, Templates(DEFAULT_TEMPLATES), site, base_url=SITE_URL, site_url=SITE_URL)
    assert [p.name for p in site.iterdir()] == ["thesis.tex"]


def _indexed(site: Path) -> int:
    entry = json.loads((site / "pagefind" / "pagefind-entry.json").read_text())
    return sum(language["page_count"] for language in entry["languages"].values())


def test_the_search_index_follows_the_setting_after_the_pages(seeded: Archive, tmp_path: Path) -> None:
    from bot.channels.web.export import export_site

    site = tmp_path / "site"
    export_site(seeded, Templates(DEFAULT_TEMPLATES), site, base_url=SITE_URL, site_url=SITE_URL)
    papers = len(list((site / "papers").glob("*.html")))
    assert _indexed(site) == papers
    asyncio.run(publisher(seeded, site).publish(DAY))
    correct(seeded, without_test_task())  # export (the default): the index stays as export-site built it
    asyncio.run(publisher(seeded, site).publish(DAY))
    assert _indexed(site) == papers and len(list((site / "papers").glob("*.html"))) == papers - 1
    newer = ORIGINAL.replace("2024년 7월 11일", "2024년 8월 1일").replace("PaliGemma:", "PaliGemma 2:")
    seeded.ingest(parse_document(Document("daily-2024-08-01.txt", newer)))
    report = asyncio.run(publisher(seeded, site, search_index="always").publish(DAY.replace(month=8, day=1)))
    assert report.index_error is None
    now = len(list((site / "papers").glob("*.html")))  # PaliGemma 2, and the test-task paper back
    assert now == papers + 1 and _indexed(site) == now
    assert not list(site.glob(".pagefind-*"))
    asyncio.run(publisher(seeded, site, search_index="off").publish(DAY.replace(month=8, day=1)))
    assert not (site / "pagefind").exists() and (site / "search.html").exists()


def test_ingesting_a_correction_updates_the_site(
    run_cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERBOY_SITE_DIR", str(tmp_path / "site"))
    assert run_cli("ingest", str(SEEDS)).code == 0
    assert run_cli("publish", "2024-07-11").code == 0
    fixed = tmp_path / "corrected.txt"
    fixed.write_text(ORIGINAL.replace("PaliGemma: A versatile 3B VLM", "PaliGemma: A Versatile 3B VLM"))
    result = run_cli("ingest", str(fixed))
    assert result.code == 0, result.err
    assert "corrects 2024-07-11" in result.out and "web archive updated" in result.out
    day = (tmp_path / "site" / "days" / "2024-07-11.html").read_text()
    assert "PaliGemma: A Versatile 3B VLM" in day and "A versatile 3B" not in day
