"""Bare ``Abstract:`` runs: undated, titled by the name they introduce."""

from __future__ import annotations

import pytest

from bot.archive.parsers import Document, parse_document, parse_file
from bot.archive.parsers.abstracts import readable_title
from tests.conftest import SEEDS


def test_the_five_undated_abstracts() -> None:
    digest = parse_file(SEEDS / "abstracts-queue.txt")
    assert (digest.format, digest.date) == ("abstracts", None)
    assert [(p.title, p.line) for p in digest.entries] == [
        ("u-μP", 1),
        ("Divergent Token metrics (DTMs)", 2),
        ("MultiFusion", 3),
        ("M-VADER", 4),
        ("MAGMA", 5),
    ]
    for paper in digest.entries:
        assert paper.date is None and paper.published is None
        assert paper.authors == () and paper.author_count is None and paper.tags == ()
        assert not paper.abstract.startswith("Abstract:")


def test_latex_in_abstracts_reads_as_text() -> None:
    first = parse_file(SEEDS / "abstracts-queue.txt").entries[0]
    assert first.abstract.startswith("The Maximal Update Parametrization (μP) aims")
    assert "u-μP, which improves upon μP" in first.abstract
    assert "$" not in first.abstract and "\\mu" not in first.abstract
    # A bare percent sign is not LaTeX's comment character: the text after it survives.
    second = parse_file(SEEDS / "abstracts-queue.txt").entries[1]
    assert "pruned beyond 90% on the Llama-2 model family, still keeping SOTA performance" in second.abstract


def test_several_abstracts_on_one_line_are_separate_papers() -> None:
    text = (
        "Abstract: We present FooNet, a model. Abstract: This paper proposes nothing named.\n"
        "Abstract:We introduce BarGAN."
    )
    digest = parse_document(Document("q.txt", text))
    assert [(p.title, p.line) for p in digest.entries] == [
        ("FooNet", 1),
        ("This paper proposes nothing named", 1),
        ("BarGAN", 2),
    ]
    assert digest.entries[0].abstract == "We present FooNet, a model."


@pytest.mark.parametrize(
    ("abstract", "title"),
    [
        ("We present MAGMA - a simple method.", "MAGMA"),
        ("In this work we propose ViT-22B, a large model.", "ViT-22B"),
        (
            "This study introduces the Divergent Token metrics (DTMs), a novel approach.",
            "Divergent Token metrics (DTMs)",
        ),
        (
            "Large-scale pretraining is fast becoming the norm in Vision-Language modeling today.",
            "Large-scale pretraining is fast becoming the norm in…",
        ),
    ],
)
def test_readable_title(abstract: str, title: str) -> None:
    assert readable_title(abstract) == title


def test_two_abstracts_introducing_the_same_name_stay_two_papers() -> None:
    text = "Abstract: We present MAGMA, one thing.\nAbstract: We present MAGMA, another thing."
    first, second = parse_document(Document("q.txt", text)).entries
    assert first.title == second.title == "MAGMA"
    assert first.id != second.id
