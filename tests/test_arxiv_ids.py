"""arXiv identifiers as curators type them: both schemes, versions, pasted forms, clear refusals;
and a candidate's id is the id the archive gives the post written from it."""

from __future__ import annotations

import pytest

from bot.archive.arxiv_ids import ArxivId, candidate_key, parse_arxiv_id
from bot.archive.parsers import ParseOptions, parse_document, text_document


@pytest.mark.parametrize(
    ("raw", "base", "version", "paper_id"),
    [
        ("2406.11837", "2406.11837", None, "arxiv-2406.11837"),
        ("2406.11837v2", "2406.11837", 2, "arxiv-2406.11837"),
        ("0704.0001", "0704.0001", None, "arxiv-0704.0001"),
        ("1412.9999v12", "1412.9999", 12, "arxiv-1412.9999"),
        ("hep-th/9901001", "hep-th/9901001", None, "arxiv-hep-th_9901001"),
        ("math.GT/0309136v1", "math.GT/0309136", 1, "arxiv-math.gt_0309136"),
        ("cond-mat/0703001", "cond-mat/0703001", None, "arxiv-cond-mat_0703001"),
        ("arXiv:2406.11837", "2406.11837", None, "arxiv-2406.11837"),
        ("  https://arxiv.org/abs/2406.11837v3 ", "2406.11837", 3, "arxiv-2406.11837"),
        ("https://arxiv.org/pdf/2406.11837.pdf", "2406.11837", None, "arxiv-2406.11837"),
        ("http://arxiv.org/abs/hep-th/9901001v1", "hep-th/9901001", 1, "arxiv-hep-th_9901001"),
    ],
)
def test_both_schemes_with_versions_and_pasted_forms(
    raw: str, base: str, version: int | None, paper_id: str
) -> None:
    ref = parse_arxiv_id(raw)
    assert (ref.base, ref.version, ref.paper_id) == (base, version, paper_id)
    assert candidate_key(raw) == paper_id


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("abc", "is not an arXiv id: give a new-style id such as 2406.11837"),
        ("2406.1183", "4 digits after the dot before 2015 (1501), 5 from then on"),
        ("1412.12345", "4 digits after the dot before 2015"),
        ("1501.1234", "5 from then on"),
        ("2413.11837", "13 is not a month"),
        ("0612.1234", "new-style ids begin in April 2007"),
        ("hep-th/0704001", "old-style ids run from 1991 to March 2007"),
        ("hep-th/9013001", "13 is not a month"),
        ("2406.11837v0", "is not an arXiv id"),
        ("2406.11837 2406.11838", "is not an arXiv id"),
        ("", "is not an arXiv id"),
    ],
)
def test_what_is_not_an_id_is_refused_saying_what_one_looks_like(raw: str, why: str) -> None:
    with pytest.raises(ValueError, match="is not an arXiv id") as caught:
        parse_arxiv_id(raw)
    assert why in str(caught.value)
    assert "hep-th/9901001" in str(caught.value)  # the message shows an old-style id too


def test_a_posts_paper_linking_the_id_has_the_candidates_id() -> None:
    for ref in (ArxivId("2406.11837"), ArxivId("2406.11837", 2), ArxivId("math.GT/0309136")):
        post = f"2025년 12월 11일\nA Title\n(Ada)\nAn abstract.\n{ref.abs_url}\n논평\n#vq\n"
        (paper,) = parse_document(text_document(post, "p.txt"), ParseOptions()).entries
        assert paper.id == ref.paper_id == candidate_key(str(ref))


def test_a_candidates_own_id_is_taken_as_it_is() -> None:
    assert candidate_key("ARXIV-2406.11837") == "arxiv-2406.11837"
    assert candidate_key("arxiv-hep-th_9901001") == "arxiv-hep-th_9901001"
