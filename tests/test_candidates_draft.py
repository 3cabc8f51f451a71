"""A pick starts a post: ``paperboy candidates draft`` writes the day's post for the chosen
candidates in the daily-post format, with placeholders where the curator writes; a post still
holding one is refused at its line; completed, it goes in with the candidates' ids, and the
paper's Hugging Face upvotes then show where the digest shows them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.archive.candidates import Candidate
from bot.archive.parsers import ParseOptions, parse_document, text_document
from bot.archive.parsers.daily_post import PLACEHOLDERS
from bot.desk.picks import draft_text, start_draft, suggested_tags
from bot.errors import NotFound, ParseError
from tests.conftest import CliRunner
from tests.hf_standin import DAY, HfStandIn

COMMENTARY = PLACEHOLDERS["commentary"]


@pytest.fixture
def hf(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[HfStandIn]:
    monkeypatch.setenv("PAPERBOY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PAPERBOY_TIMEZONE", "UTC")
    with HfStandIn() as stand_in:
        monkeypatch.setenv("PAPERBOY_HF_API_URL", stand_in.base_url)
        yield stand_in


def test_a_draft_is_completed_by_the_curator_then_ingested_with_the_candidates_ids(
    run_cli: CliRunner, db_url: str, hf: HfStandIn, tmp_path: Path
) -> None:
    assert run_cli("pull", "hf", DAY, db=db_url).code == 0
    draft = tmp_path / "draft.txt"
    made = run_cli(
        "candidates",
        "draft",
        "2509.04664",
        "arxiv-2508.02739",
        "--date",
        "2025-12-12",
        "-o",
        str(draft),
        db=db_url,
    )
    assert made.code == 0, made.err
    assert f"{draft}: a post of 2025-12-12 with 2 papers" in made.out
    text = draft.read_text()
    assert text.startswith(
        "2025년 12월 12일\n\nWhy Language Models Hallucinate\n(Adam Tauman Kalai, Ofir Nachum,"
    )
    assert text.count(COMMENTARY) == 2 and text.count("\n#[[tags]]\n") == 2

    # As it is, the post is refused at the placeholder's line, and nothing goes in.
    refused = run_cli("ingest", str(draft), db=db_url)
    line = text.splitlines().index(COMMENTARY) + 1
    assert refused.code == 2
    assert (
        f"{draft}:{line}: the draft's placeholder [[commentary: …]] is still here: write the commentary"
        in (refused.err)
    )
    assert run_cli("stats", "--json", db=db_url).json()["papers"] == 0

    # Commentary for the first, none for the second (its placeholder deleted); tags for both.
    text = text.replace(COMMENTARY, "불확실할 때 추측하도록 보상하는 평가가 문제라는 주장.", 1)
    text = text.replace(COMMENTARY + "\n", "").replace("#[[tags]]", "#llm #evaluation", 1)
    draft.write_text(text.replace("#[[tags]]", "#time-series"))
    stored = run_cli("ingest", "--json", str(draft), db=db_url)
    assert stored.code == 0, stored.err
    first, second = stored.json()["digests"][0]["entries"]
    assert (first["id"], first["tags"], first["commentary"]) == (
        "arxiv-2509.04664",
        ["llm", "evaluation"],
        "불확실할 때 추측하도록 보상하는 평가가 문제라는 주장.",
    )
    assert first["abstract"].startswith("Like students facing hard exam questions")
    assert first["links"] == ["https://arxiv.org/abs/2509.04664", "https://huggingface.co/papers/2509.04664"]
    assert (second["id"], second["commentary"], second["tags"]) == ("arxiv-2508.02739", "", ["time-series"])

    listed = {c["id"]: c for c in run_cli("candidates", "--json", db=db_url).json()["candidates"]}
    assert (listed["arxiv-2509.04664"]["status"], listed["arxiv-2509.04664"]["in_archive"]) == (
        "drafted",
        True,
    )
    assert listed["arxiv-2403.04652"]["status"] == "new"

    # The post's own text has no upvotes; Hugging Face's count of its day's listing shows.
    assert run_cli("show", "arxiv-2509.04664", "--json", db=db_url).json()["upvotes"] is None
    hf.listings[DAY][0]["paper"]["upvotes"] = 61
    again = run_cli("pull", "hf", DAY, "--json", db=db_url).json()
    assert ("arxiv-2509.04664", "arxiv-2509.04664", 61) in [
        (k["id"], k["paper"], k["upvotes"]) for k in again["in_archive"]
    ]
    assert run_cli("show", "arxiv-2509.04664", "--json", db=db_url).json()["upvotes"] == 61
    digest = run_cli("render", "2025-12-12", "--channel", "telegram", "--json", db=db_url)
    assert digest.code == 0, digest.err
    assert "▲ 61 on Hugging Face" in digest.out


def test_a_draft_goes_to_stdout_and_never_overwrites_a_file(
    run_cli: CliRunner, hf: HfStandIn, tmp_path: Path
) -> None:
    assert run_cli("pull", "hf", DAY).code == 0
    shown = run_cli("candidates", "draft", "2508.02739", "--date", "2025-12-12")
    assert shown.code == 0 and shown.out.startswith("2025년 12월 12일\n\nKronos:")
    taken = tmp_path / "taken.txt"
    taken.write_text("the curator's own")
    refused = run_cli("candidates", "draft", "2508.02739", "-o", str(taken))
    assert refused.code == 2 and "exists" in refused.err and taken.read_text() == "the curator's own"
    unknown = run_cli("candidates", "draft", "2401.00001")
    assert unknown.code == 1 and "no candidate arxiv-2401.00001" in unknown.err


def candidate(**fields: object) -> Candidate:
    base: dict[str, object] = {
        "id": "arxiv-2512.04030",
        "source": "arxiv",
        "arxiv_id": "2512.04030",
        "title": "A Title",
        "summary": "An abstract\nover two lines.",
        "authors": ("Ada Lovelace",),
        "links": ("https://arxiv.org/abs/2512.04030",),
    }
    return Candidate(**{**base, **fields})  # type: ignore[arg-type]


def parse(text: str) -> list[object]:
    return list(parse_document(text_document(text, "d.txt"), ParseOptions()).entries)


def test_suggested_tags_fill_the_tags_line_and_odd_titles_stay_titles() -> None:
    odd = candidate(
        id="arxiv-2512.04031",
        title="#1 Paper (Really)",
        authors=("Smith, Jr.", "Lee"),
        links=("https://arxiv.org/abs/2512.04031",),
    )
    text = draft_text([candidate(), odd], dt.date(2025, 12, 12), {"arxiv-2512.04030": ("vq", "llm")})
    text = text.replace(COMMENTARY + "\n", "").replace("#[[tags]]", "#misc")
    first, second = parse(text)
    assert first.tags == ("vq", "llm") and first.abstract == "An abstract over two lines."  # type: ignore[attr-defined]
    assert second.title == "“#1 Paper (Really)”" and second.authors == ("Smith Jr.", "Lee")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("fields", "placeholder", "what"),
    [
        ({"authors": ()}, PLACEHOLDERS["authors"], "write the authors in its place"),
        ({"summary": "  "}, PLACEHOLDERS["abstract"], "write the abstract in its place"),
        ({"summary": "한국어 초록"}, PLACEHOLDERS["abstract"], "write the abstract in its place"),
    ],
)
def test_what_a_source_did_not_give_is_a_placeholder_too(
    fields: dict[str, object], placeholder: str, what: str
) -> None:
    text = draft_text([candidate(**fields)], dt.date(2025, 12, 12), {"arxiv-2512.04030": ("vq",)})
    text = text.replace(COMMENTARY + "\n", "")
    assert placeholder in text.splitlines()
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert caught.value.line == text.splitlines().index(placeholder) + 1 and what in caught.value.message


def test_a_pick_is_the_chats_draft_and_marks_its_candidates(
    run_cli: CliRunner, cli_db: str, hf: HfStandIn
) -> None:
    from bot.archive.candidates import listing
    from bot.archive.store import open_archive

    assert run_cli("pull", "hf", DAY).code == 0
    with open_archive(cli_db) as archive:
        assert suggested_tags(archive, listing(archive)) == {}  # the seam, until the tag model lands
        pick = start_draft(archive, ["arxiv-2508.02739"], dt.date(2025, 12, 12))
        assert pick.name == "draft-2025-12-12.txt" and [c.id for c in pick.chosen] == ["arxiv-2508.02739"]
        assert pick.text.startswith("2025년 12월 12일\n\nKronos")
        assert {c.id: c.status for c in listing(archive)}["arxiv-2508.02739"] == "drafted"
        with pytest.raises(NotFound):
            start_draft(archive, ["arxiv-2508.02739", "arxiv-2401.00001"], dt.date(2025, 12, 12))
        assert {c.id: c.status for c in listing(archive)}["arxiv-2509.04664"] == "new"  # none marked
