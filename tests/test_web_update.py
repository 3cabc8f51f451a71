"""The site follows the archive: after each publish or correction, the update leaves the folder
byte for byte as a fresh export of the same archive would (every file, the site's record too),
whatever the order of events; pages that left the archive leave the folder (SQLite and
PostgreSQL).

The curator here writes random sequences of posts, the property-based way (seeded, so a
failure replays): new days before, between and after the others, corrections of a title, of
tags (a tag's first paper, its last), of commentary, a paper added or dropped, a listing that
moves a day's papers down, a paper featured again on a later day, and days published from the
undated queue; the tag model refreshed (suggestions and related lists change) and its
suggestions accepted or rejected; with tag pages of two papers,
so a tag's listing grows and shrinks by pages.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.archive.decisions import accept, reject
from bot.archive.parsers import Document, parse_document
from bot.archive.schema import papers
from bot.archive.store import Archive
from bot.archive.suggestions import suggested_for
from bot.channels.web import site as site_pages
from bot.channels.web.export import export_site
from bot.config import DEFAULT_TEMPLATES, Settings
from bot.render.environment import Templates
from bot.suggest.refresh import refresh
from bot.suggest.store import folder_for
from scheduler.publish import Publisher

SITE_URL = "https://paperboy.example"
TAGS = ["vq", "diffusion", "llm", "agents", "speech", "robotics"]
#: Words each tag's papers use, so the tag model learns the tags and suggests them.
TOPICS = {
    "vq": "codebook quantization tokenizer",
    "diffusion": "denoising score sampler",
    "llm": "instruction tuning prompts",
    "agents": "tool use planning environment",
    "speech": "speech recognition audio",
    "robotics": "robot manipulation grasping",
}
WORDS = ["sparse", "dense", "latent", "neural", "scaling", "robust", "efficient", "multimodal", "causal"]
START = dt.date(2025, 3, 1)


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def features_of(archive: Archive, folder: Path) -> Path:
    """The tag model's folder, as the publisher below finds it (PAPERBOY_DATA_DIR: ``folder``)."""
    return folder_for(archive.engine.url.render_as_string(hide_password=False), folder)


def export(archive: Archive, folder: Path) -> None:
    """As the publisher's settings below have it (PAPERBOY_BASE_URL set)."""
    export_site(
        archive,
        Templates(DEFAULT_TEMPLATES),
        folder,
        base_url=SITE_URL,
        site_url=SITE_URL,
        search_index=False,
        features=features_of(archive, folder.parent),
    )


def assert_same_as_an_export(archive: Archive, site: Path, fresh: Path) -> None:
    export(archive, fresh)
    updated, exported = tree(site), tree(fresh)
    assert sorted(updated.keys() - exported.keys()) == [], "files an export would not have"
    assert sorted(exported.keys() - updated.keys()) == [], "files an export would have"
    differ = sorted(name for name in exported if exported[name] != updated[name])
    assert differ == [], f"{len(differ)} files differ from an export"


@dataclass
class Entry:
    title: str
    authors: str
    abstract: str
    commentary: str
    tags: list[str]

    def text(self) -> str:
        hashtags = " ".join(f"#{tag}" for tag in self.tags)
        return "\n".join([self.title, f"({self.authors})", self.abstract, self.commentary, hashtags])


@dataclass
class Curator:
    """Posts days and corrections as files, and publishes them with the real publisher."""

    archive: Archive
    folder: Path
    rng: random.Random
    days: dict[dt.date, list[Entry]] = field(default_factory=dict)
    serial: int = 0

    def __post_init__(self) -> None:
        url = self.archive.engine.url.render_as_string(hide_password=False)
        settings = replace(
            Settings.from_env({}),
            site_dir=self.folder / "site",
            base_url=SITE_URL,
            database_url=url,
            data_dir=self.folder,
        )
        self.publisher = Publisher(self.archive, settings, {}, worker="site-test")

    def entry(self) -> Entry:
        self.serial += 1
        words = self.rng.sample(WORDS, 3)
        tags = self.rng.sample(TAGS, self.rng.randint(1, 2))  # a post's entry has one at least
        if self.rng.random() < 0.3:
            tags.append(f"topic{self.serial}")  # a tag's first paper
        return Entry(
            title=f"{words[0].title()} {words[1]} models for {words[2]} learning, study {self.serial}",
            authors=f"Ada Lovelace, Author {self.serial}",
            abstract=f"We study {words[0]} {words[1]} models. Study {self.serial} finds {words[2]} gains. "
            + " ".join(TOPICS.get(tag, "") for tag in tags),
            commentary=f"{self.serial}번째 논문의 {words[2]} 실험이 흥미롭네요.",
            tags=tags,
        )

    def post(self, day: dt.date) -> None:
        """The day's post as the curator sends it (a later one for the same day corrects it)."""
        self.serial += 1
        text = (
            f"{day.year}년 {day.month}월 {day.day}일\n" + "\n".join(e.text() for e in self.days[day]) + "\n"
        )
        self.archive.ingest(parse_document(Document(f"post-{day}-{self.serial}.txt", text)))

    def publish(self, day: dt.date) -> None:
        report = asyncio.run(self.publisher.publish(day))
        assert report.site_error is None

    def free_day(self) -> dt.date:
        while True:
            day = START + dt.timedelta(days=self.rng.randint(0, 60))
            if day not in self.days and not self.publisher.published(day):
                return day

    # The events, each ending in a publish (of a new day, or of a corrected one).

    def new_day(self) -> None:
        day = self.free_day()
        self.days[day] = [self.entry() for _ in range(self.rng.randint(1, 3))]
        self.post(day)
        self.publish(day)

    def feature_again(self) -> None:
        """A new day with a paper of an earlier one: the paper now shows both days."""
        earlier = self.rng.choice(sorted(self.days))
        day = self.free_day()
        self.days[day] = [self.rng.choice(self.days[earlier]), self.entry()]
        self.post(day)
        self.publish(day)

    def correct(self, change: str) -> None:
        day = self.rng.choice(sorted(self.days))
        entries = self.days[day]
        chosen = self.rng.randrange(len(entries))
        entry = entries[chosen]
        if change == "title":
            entries[chosen] = replace(entry, title=entry.title.replace("models", "model", 1) + " (v2)")
        elif change == "commentary":
            entries[chosen] = replace(entry, commentary=entry.commentary + " 다시 읽어 보니 더 좋네요.")
        elif change == "tags":
            kept = entry.tags[1:] if self.rng.random() < 0.6 else entry.tags  # maybe a tag's last paper
            entries[chosen] = replace(entry, tags=[*kept, self.rng.choice([*TAGS, f"topic{self.serial}"])])
        elif change == "add":
            entries.insert(self.rng.randint(0, len(entries)), self.entry())
        elif change == "drop" and len(entries) > 1:
            entries.pop(chosen)  # a tag only this paper had goes with it
        self.post(day)
        self.publish(day)

    def listing(self) -> None:
        """A Hugging Face listing for a day that has a post: named to sort first, so the post's
        papers move down the day (and their tags' listings) with no entry of theirs changed."""
        day = self.rng.choice(sorted(self.days))
        self.serial += 1
        lines = ["Daily Papers", "", f"{day:%b} {day.day}, {day.year}", ""]
        for n in range(self.rng.randint(1, 2)):
            about = TOPICS[self.rng.choice(TAGS)]
            lines += [
                f"Listed study {self.serial}.{n}",
                "",
                f"An abstract: {about}.",
                "",
                "  • 3 authors",
                "·",
            ]
            lines += [f"{day:%b} {day.day}, {day.year} {n + 3}", ""]
        self.archive.ingest(parse_document(Document(f"a-listing-{self.serial}.txt", "\n".join(lines))))
        self.publish(day)

    def queue_day(self) -> None:
        """A day with no post goes out with papers from the undated queue."""
        self.serial += 1
        lines = [
            f"Abstract:Queued study {self.serial}.{n} of {self.rng.choice(WORDS)} methods,"
            f" {TOPICS[self.rng.choice(TAGS)]}."
            for n in range(2)
        ]
        self.archive.ingest(parse_document(Document(f"queue-{self.serial}.txt", "\n".join(lines) + "\n")))
        self.publish(self.free_day())

    # The tag model: the service's refresh, then its update of the site; the curator's decisions.

    def suggest(self) -> None:
        refresh(self.archive, features_of(self.archive, self.folder))
        self.publisher.rebuild_site()

    def decide(self) -> None:
        """Accept or reject one of the model's suggestions; the site follows (no refresh first:
        an accepted tag is the curator's at once, on the paper's card, listings and feeds)."""
        with self.archive.engine.connect() as conn:
            offered = suggested_for(conn, sorted(self.archive_ids()))
        if offered:
            paper = self.rng.choice(sorted(offered))
            tag = self.rng.choice(offered[paper]).tag
            (accept if self.rng.random() < 0.6 else reject)(self.archive, paper, tag)
        self.publisher.rebuild_site()

    def archive_ids(self) -> set[str]:
        with self.archive.engine.connect() as conn:
            return set(conn.scalars(select(papers.c.id)))


EVENTS = [
    "new_day",
    "new_day",
    "feature_again",
    "title",
    "commentary",
    "tags",
    "add",
    "drop",
    "listing",
    "queue_day",
    "suggest",
    "suggest",
    "decide",
]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_an_updated_site_is_the_export_of_its_archive_after_any_events(
    seeded: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    monkeypatch.setattr(site_pages, "TAG_PAGE_SIZE", 2)  # listings that grow and shrink by pages
    rng = random.Random(seed)
    curator = Curator(seeded, tmp_path, rng)
    site = tmp_path / "site"
    export(seeded, site)
    curator.new_day()  # something to correct
    for step in range(10):
        event = rng.choice(EVENTS)
        getattr(curator, event)() if hasattr(curator, event) else curator.correct(event)
        assert_same_as_an_export(seeded, site, tmp_path / f"fresh-{step}")
