"""Which published paper each entry of a corrected post is, and what the correction changed."""

from __future__ import annotations

from dataclasses import replace

from bot.archive.corrections import PaperChange, diff, keep_ids, match
from bot.archive.parsers import ParseOptions, parse_file
from bot.models import Paper
from tests.conftest import SEEDS

DAY = list(parse_file(SEEDS / "daily-2024-07-11.txt", ParseOptions()).entries)
PALIGEMMA, TEST_TASK, REUSE, MARS, ALIGNMENT, SPACE_TIME = DAY


def titles_and_ids(papers: list[Paper]) -> list[tuple[str, str]]:
    return [(p.title, p.id) for p in papers]


def test_an_unchanged_day_matches_itself_and_changes_nothing() -> None:
    assert match(DAY, DAY) == {n: n for n in range(6)}
    assert diff(DAY, keep_ids(DAY, DAY)) == []


def test_a_title_typo_keeps_the_papers_id() -> None:
    fixed = replace(MARS, id="a-new-slug-0000", title=MARS.title.replace("Fine-grained", "Fine-Grained"))
    corrected = keep_ids(DAY, [PALIGEMMA, TEST_TASK, REUSE, fixed, ALIGNMENT, SPACE_TIME])
    assert corrected[3].id == MARS.id and corrected[3].title == fixed.title
    (change,) = diff(DAY, corrected)
    assert (change.kind, change.id, [f.field for f in change.fields]) == ("changed", MARS.id, ["title"])
    assert (change.fields[0].before, change.fields[0].after) == (MARS.title, fixed.title)


def test_a_title_rewritten_whole_is_matched_by_its_abstract_or_its_place() -> None:
    renamed = replace(REUSE, id="continued-pretraining-0000", title="Continued Pretraining, Reused")
    corrected = keep_ids(DAY, [PALIGEMMA, TEST_TASK, renamed, MARS, ALIGNMENT, SPACE_TIME])
    assert corrected[2].id == REUSE.id
    moved = keep_ids(DAY, [renamed, PALIGEMMA, TEST_TASK, MARS, ALIGNMENT, SPACE_TIME])
    assert moved[0].id == REUSE.id  # elsewhere in the post: the abstract still says it is the same


def test_a_shared_link_is_the_same_paper_whatever_the_title() -> None:
    renamed = replace(SPACE_TIME, id="four-d-0000", title="4DiM", abstract="Rewritten from scratch.")
    corrected = keep_ids(DAY, [renamed, *DAY[:5]])
    assert corrected[0].id == SPACE_TIME.id


def test_added_removed_and_reordered_papers() -> None:
    newcomer = Paper(id="a-brand-new-paper-1234", title="A Brand New Paper", abstract="Nothing alike.")
    corrected = keep_ids(DAY, [TEST_TASK, PALIGEMMA, newcomer, MARS, ALIGNMENT])  # Reuse and 4DiM gone
    assert titles_and_ids(corrected) == titles_and_ids([TEST_TASK, PALIGEMMA, newcomer, MARS, ALIGNMENT])
    assert diff(DAY, corrected) == [
        PaperChange("added", newcomer.id, newcomer.title),
        PaperChange("removed", REUSE.id, REUSE.title),
        PaperChange("removed", SPACE_TIME.id, SPACE_TIME.title),
    ]


def test_a_different_paper_in_the_same_place_is_not_a_correction() -> None:
    other = Paper(id="scaling-vision-transformers-1234", title="Scaling Vision Transformers", abstract="x")
    corrected = keep_ids(DAY, [PALIGEMMA, TEST_TASK, REUSE, other, ALIGNMENT, SPACE_TIME])
    assert corrected[3].id == other.id
    assert [c.kind for c in diff(DAY, corrected)] == ["added", "removed"]


def test_commentary_and_tags_changes_are_named() -> None:
    edited = replace(
        TEST_TASK,
        commentary=TEST_TASK.commentary.replace("Yi Tay", "Yi Tay 씨"),
        tags=(*TEST_TASK.tags, "evaluation"),
    )
    (change,) = diff(DAY, keep_ids(DAY, [PALIGEMMA, edited, REUSE, MARS, ALIGNMENT, SPACE_TIME]))
    assert [f.field for f in change.fields] == ["commentary", "tags"]
    assert change.fields[1].after == "#scaling-law #benchmark #evaluation"
