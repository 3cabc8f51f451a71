"""A post for a day that has gone out is stored as a correction of it (SQLite and PostgreSQL):
papers keep their ids, the day's earlier post gives way, and what changed is recorded once."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy import select

from bot.archive import queries
from bot.archive.parsers import ParseOptions, parse_file
from bot.archive.schema import corrections, publications, sources
from bot.archive.store import Archive
from tests.conftest import SEEDS

DAY = dt.date(2024, 7, 11)
ORIGINAL = (SEEDS / "daily-2024-07-11.txt").read_text()
MARS_TYPO = "Fine-grained Text-to-image Synthesis"


def publish(archive: Archive, day: dt.date = DAY) -> list[str]:
    ids = [p.id for p in queries.day_papers(archive, day)]
    row = {"day": day, "papers": json.dumps(ids), "created": dt.datetime.now(dt.UTC)}
    with archive.engine.begin() as conn:
        conn.execute(publications.insert().values(row))
    return ids


def post(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def ingest(archive: Archive, path: Path) -> object:
    return archive.ingest(parse_file(path, ParseOptions()))


def corrected_text() -> str:
    return (
        ORIGINAL.replace(MARS_TYPO, "Fine-Grained Text-to-Image Synthesis")
        .replace("#scaling-law #benchmark", "#scaling-law #benchmark #evaluation")
        .replace("Yi Tay", "Yi Tay님")
    )


def test_a_corrected_post_keeps_ids_supersedes_the_original_and_records_what_changed(
    seeded: Archive, tmp_path: Path
) -> None:
    published = publish(seeded)
    report = ingest(seeded, post(tmp_path, "corrected.txt", corrected_text()))
    correction = report.correction  # type: ignore[attr-defined]
    assert correction is not None and correction.day == DAY and correction.source == "corrected.txt"
    assert [(c.kind, [f.field for f in c.fields]) for c in correction.changes] == [
        ("changed", ["commentary", "tags"]),
        ("changed", ["title"]),
    ]
    assert correction.summary() == "2 changed"
    papers = queries.day_papers(seeded, DAY)
    assert [p.id for p in papers] == published  # the fixed title kept MARS's id and page
    assert papers[3].title.endswith("Fine-Grained Text-to-Image Synthesis")
    assert "evaluation" in papers[1].tags and queries.papers_by_tag(seeded, "evaluation").total == 1
    with seeded.engine.connect() as conn:
        row = conn.execute(select(corrections)).one()
        before = json.loads(row.before)
        superseded = conn.execute(
            select(sources.c.superseded_by).where(sources.c.name == "daily-2024-07-11.txt")
        ).scalar()
        recorded = conn.execute(select(publications.c.papers).where(publications.c.day == DAY)).scalar()
    assert before[3]["title"].endswith(MARS_TYPO) and before[3]["id"] == published[3]
    assert superseded == "corrected.txt"
    assert json.loads(recorded or "[]") == published
    assert [a.source for a in queries.appearances(seeded, published[3])] == ["corrected.txt"]


def test_reading_either_file_again_changes_nothing(seeded: Archive, tmp_path: Path) -> None:
    publish(seeded)
    corrected = post(tmp_path, "corrected.txt", corrected_text())
    ingest(seeded, corrected)
    again = ingest(seeded, SEEDS / "daily-2024-07-11.txt")  # a restart reads the inbox again
    assert again.unchanged and again.correction is None  # type: ignore[attr-defined]
    same = ingest(seeded, corrected)
    assert same.unchanged and same.correction is None  # type: ignore[attr-defined]
    assert queries.day_papers(seeded, DAY)[3].title.endswith("Fine-Grained Text-to-Image Synthesis")
    with seeded.engine.connect() as conn:
        assert len(conn.execute(select(corrections)).all()) == 1


def test_the_original_file_edited_corrects_the_day_again(seeded: Archive, tmp_path: Path) -> None:
    publish(seeded)
    ingest(seeded, post(tmp_path, "corrected.txt", corrected_text()))
    edited = post(tmp_path, "daily-2024-07-11.txt", ORIGINAL.replace("Yi Tay", "Yi Tay 씨"))
    report = ingest(seeded, edited)
    assert report.correction is not None  # type: ignore[attr-defined]
    papers = queries.day_papers(seeded, DAY)
    assert papers[3].title.endswith(MARS_TYPO) and "Yi Tay 씨" in papers[1].commentary
    with seeded.engine.connect() as conn:
        names = dict(conn.execute(select(sources.c.name, sources.c.superseded_by)).tuples().all())
    assert names["corrected.txt"] == "daily-2024-07-11.txt" and names["daily-2024-07-11.txt"] is None


def test_a_paper_added_by_a_correction(seeded: Archive, tmp_path: Path) -> None:
    published = publish(seeded)
    extra = (
        "Scaling Vision Transformers to 22 Billion Parameters\n"
        "(Mostafa Dehghani)\n"
        "We present ViT-22B.\n"
        "큰 모델입니다.\n"
        "#vit\n"
    )
    report = ingest(seeded, post(tmp_path, "corrected.txt", ORIGINAL.rstrip("\n") + "\n" + extra))
    correction = report.correction  # type: ignore[attr-defined]
    assert [c.kind for c in correction.changes] == ["added"]
    papers = queries.day_papers(seeded, DAY)
    assert [p.id for p in papers[:6]] == published and papers[6].title.startswith("Scaling Vision")
    assert papers[6].date == DAY


def test_a_post_for_a_day_not_yet_out_is_no_correction(seeded: Archive, tmp_path: Path) -> None:
    report = ingest(seeded, post(tmp_path, "corrected.txt", corrected_text()))
    assert report.correction is None  # type: ignore[attr-defined]
    with seeded.engine.connect() as conn:
        assert conn.execute(select(corrections)).all() == []


def test_the_same_post_under_another_name_records_no_correction(seeded: Archive, tmp_path: Path) -> None:
    publish(seeded)
    report = ingest(seeded, post(tmp_path, "copy.txt", ORIGINAL))
    assert report.correction is None  # type: ignore[attr-defined]
    assert len(queries.day_papers(seeded, DAY)) == 6


def test_a_corrected_paper_keeps_its_feed_guid_and_gets_a_new_updated(
    seeded: Archive, tmp_path: Path
) -> None:
    import feedparser

    from bot.channels.feeds import build_feeds
    from bot.config import DEFAULT_TEMPLATES
    from bot.render.environment import Templates

    templates = Templates(DEFAULT_TEMPLATES)
    publish(seeded)

    def entries() -> dict[str, object]:
        papers = queries.latest_papers(seeded, 50)
        atom = build_feeds(templates, papers, site_url="https://papers.example")["atom"]
        return {entry.id: entry for entry in feedparser.parse(atom).entries}

    before = entries()
    ingest(
        seeded,
        post(tmp_path, "corrected.txt", ORIGINAL.replace(MARS_TYPO, "Fine-Grained Text-to-Image Synthesis")),
    )
    after = entries()
    assert before.keys() == after.keys()  # the same guids: nobody sees the paper twice
    mars = next(key for key in after if "mars-mixture" in key)
    assert after[mars].title.endswith("Fine-Grained Text-to-Image Synthesis")  # type: ignore[attr-defined]
    assert after[mars].updated > before[mars].updated  # type: ignore[attr-defined]
    unchanged = [key for key in after if key != mars]
    assert all(after[key].updated == before[key].updated for key in unchanged)  # type: ignore[attr-defined]
