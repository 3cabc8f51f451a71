"""Tags, ids and LaTeX: the small rules every other part relies on."""

from __future__ import annotations

import pytest

from bot.archive.latex import to_text
from bot.archive.text import arxiv_id, normalize_tag, paper_id, split_scripts, title_key


@pytest.mark.parametrize(
    ("raw", "tag"),
    [
        ("#VQ", "vq"),
        ("vq", "vq"),
        ("#Vision-Language", "vision-language"),
        ("＃ＶＱ", "vq"),
        ("#vq\u200b", "vq"),
        ("##llm", "llm"),
        ("#한국어", "한국어"),
        ("text2img", "text2img"),
    ],
)
def test_normalize_tag(raw: str, tag: str) -> None:
    assert normalize_tag(raw) == tag


@pytest.mark.parametrize("raw", ["#", "", "#-vq", "#vq-", "<b>vq</b>", "#a b", "x" * 65, "'; DROP TABLE"])
def test_not_a_tag(raw: str) -> None:
    with pytest.raises(ValueError, match="tag"):
        normalize_tag(raw)


def test_paper_id_is_stable_under_case_punctuation_and_spacing() -> None:
    a = paper_id("Scaling the Codebook Size of VQGAN to 100,000")
    assert a == paper_id("scaling  the codebook size of VQGAN to 100 000")
    assert a.startswith("scaling-the-codebook-size-of-vqgan-")
    assert a != paper_id("Scaling the Codebook Size of VQGAN to 200,000")
    assert paper_id("x", arxiv="2406.11837") == "arxiv-2406.11837"
    assert len(paper_id("A" * 300)) <= 60


def test_title_key_folds_compatibility_forms() -> None:
    assert title_key("ＭＭ１: Methods!") == title_key("mm1 methods")


def test_arxiv_id_from_links() -> None:
    assert arxiv_id(["https://github.com/x", "https://arxiv.org/pdf/2406.11837v3"]) == "2406.11837"
    assert arxiv_id(["http://arxiv.org/abs/hep-th/9901001"]) == "hep-th/9901001"
    assert arxiv_id(["https://example.org/2406.11837"]) is None


@pytest.mark.parametrize(
    ("latex", "text"),
    [
        ("$\\mu$P", "μP"),
        ("``quotes''", "“quotes”"),
        ("41\\%", "41%"),
        ("90% of a & b", "90% of a & b"),  # plain text that LaTeX would misread stays as written
        ("costs $5 and $10", "costs $5 and $10"),
        ("a -- b --- c", "a – b — c"),
        ("caf\\'e", "café"),
        ("$\\alpha$-$\\beta$ $\\leq$ 1", "α-β ≤ 1"),
        ("see https://x.org/a--b_$c$", "see https://x.org/a--b_$c$"),
        ("no latex here", "no latex here"),
    ],
)
def test_latex_to_text(latex: str, text: str) -> None:
    assert to_text(latex) == text


@pytest.mark.parametrize(
    ("text", "split"),
    [
        ("Latent를 생성", "Latent 를 생성"),
        ("DARL과 VQ2를", "DARL 과 VQ2 를"),
        ("모델GPT", "모델 GPT"),
        ("no korean here", "no korean here"),
        ("https://x.org/a 모델", "https://x.org/a 모델"),
    ],
)
def test_split_scripts(text: str, split: str) -> None:
    assert split_scripts(text) == split
