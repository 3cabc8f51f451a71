"""The curator's three daily posts, read with exact expectations (checked against the files by hand)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.archive.parsers import Document, parse_document, parse_file
from bot.models import Digest
from tests.conftest import SEEDS

# (title, author_count, tags) for every entry, in order.
EXPECTED = {
    "daily-2024-03-15.txt": (
        dt.date(2024, 3, 15),
        [
            ("MM1: Methods, Analysis & Insights from Multimodal LLM Pre-training", 30, ["vision-language"]),
            (
                "Quiet-STaR: Language Models Can Teach Themselves to Think Before Speaking",
                6,
                ["reasoning", "synthetic-data"],
            ),
            (
                "Transformers Get Stable: An End-to-End Signal Propagation Theory for Language Models",
                6,
                ["transformer"],
            ),
        ],
    ),
    "daily-2024-06-18.txt": (
        dt.date(2024, 6, 18),
        [
            (
                "Autoregressive Image Generation without Vector Quantization",
                5,
                ["autoregressive-model", "diffusion"],
            ),
            (
                "DataComp-LM: In search of the next generation of training sets for language models",
                59,
                ["dataset", "corpus"],
            ),
            ("Scaling the Codebook Size of VQGAN to 100,000 with a Utilization Rate of 99%", 4, ["vq"]),
            (
                "MINT-1T: Scaling Open-Source Multimodal Data by 10x: "
                "A Multimodal Dataset with One Trillion Tokens",
                14,
                ["dataset", "corpus", "vision-language"],
            ),
            ("Unveiling Encoder-Free Vision-Language Models", 6, ["vision-language"]),
            (
                "STAR: Scale-wise Text-to-image generation via Auto-Regressive representations",
                7,
                ["text-to-image", "autoregressive-model"],
            ),
            ("Nemotron-4 340B Technical Report", 81, ["llm", "alignment"]),
            (
                "DeepSeek-Coder-V2: Breaking the Barrier of Closed-Source Models in Code Intelligence",
                34,
                ["llm"],
            ),
            (
                "How Do Large Language Models Acquire Factual Knowledge During Pretraining?",
                7,
                ["pretraining"],
            ),
        ],
    ),
    "daily-2024-07-11.txt": (
        dt.date(2024, 7, 11),
        [
            ("PaliGemma: A versatile 3B VLM for transfer", 35, ["vision-language"]),
            ("Training on the Test Task Confounds Evaluation and Emergence", 3, ["scaling-law", "benchmark"]),
            (
                "Reuse, Don't Retrain: A Recipe for Continued Pretraining of Language Models",
                5,
                ["continual-learning", "pretraining"],
            ),
            (
                "MARS: Mixture of Auto-Regressive Models for Fine-grained Text-to-image Synthesis",
                13,
                ["autoregressive-model", "text2img", "vq"],
            ),
            ("Transformer Alignment in Large Language Models", 4, ["transformer"]),
            ("Controlling Space and Time with Diffusion Models", 5, ["neural-rendering", "diffusion"]),
        ],
    ),
}


def read(name: str) -> Digest:
    return parse_file(SEEDS / name)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_entry_of_each_post(name: str) -> None:
    day, expected = EXPECTED[name]
    digest = read(name)
    assert digest.format == "daily-post"
    assert digest.date == day
    assert [(p.title, p.author_count, list(p.tags)) for p in digest.entries] == expected
    for paper in digest.entries:
        assert paper.published == day and paper.date == day
        assert paper.author_count == len(paper.authors)
        assert paper.abstract and paper.commentary
        assert paper.upvotes is None
        assert paper.source == name


def test_entry_fields_and_source_lines() -> None:
    digest = read("daily-2024-07-11.txt")
    assert [p.line for p in digest.entries] == [2, 8, 16, 21, 26, 31]
    mars = digest.entries[3]
    assert mars.authors[:2] == ("Wanggui He", "Siming Fu")
    assert mars.authors[-1] == "Hao Jiang"
    assert mars.abstract.startswith("Auto-regressive models have made significant progress")
    assert mars.commentary.startswith("Autoregressive Text to Image 모델.")
    assert mars.links == ()


def test_commentary_spans_lines_and_a_url_broken_over_lines_is_joined() -> None:
    paper = read("daily-2024-07-11.txt").entries[1]
    assert paper.commentary.count("\n") == 1  # two paragraphs
    assert "Yi Tay가 팟캐스트에서 (https://latent.space/p/yitay) Scaling Law를" in paper.commentary
    assert "(\n" not in paper.commentary
    # The link inside the commentary is about another paper: it is not the entry's own.
    assert "arxiv.org/abs/2401.02954" in paper.commentary
    assert paper.links == ()
    assert not paper.id.startswith("arxiv-")


def test_bare_url_lines_after_the_abstract_are_the_papers_links() -> None:
    paper = read("daily-2024-07-11.txt").entries[5]
    assert paper.links == ("https://4d-diffusion.github.io", "https://4d-diffusion.github.io/")
    assert paper.abstract.endswith("For an overview see")
    assert "https://" not in paper.abstract
    assert paper.commentary.startswith("Few-shot Novel View Synthesis + Time. 사실")


def test_arxiv_links_in_commentary_are_not_the_entrys_own_id() -> None:
    for paper in read("daily-2024-06-18.txt").entries:
        assert not paper.id.startswith("arxiv-"), paper.title
    nemotron = read("daily-2024-06-18.txt").entries[6]
    assert "https://arxiv.org/abs/2402.16819" in nemotron.commentary
    assert nemotron.commentary.count("\n") == 3  # four paragraphs


def test_an_entry_that_states_its_own_arxiv_link_takes_its_id_from_it() -> None:
    text = (
        "2024년 7월 1일\nSome Paper\n(Ada Lovelace)\nAn abstract.\nhttps://arxiv.org/abs/2406.01234v2\n"
        "코멘트 (https://arxiv.org/abs/2301.00001)\n#x\n"
    )
    paper = parse_document(Document("post.txt", text)).entries[0]
    assert paper.id == "arxiv-2406.01234"
    assert paper.links == ("https://arxiv.org/abs/2406.01234v2",)


def test_tags_are_normalised_and_deduplicated() -> None:
    text = "2024년 7월 1일\nA Paper\n(A B)\nAbstract.\n코멘트\n#VQ #vq #Vision-Language\n"
    assert parse_document(Document("p.txt", text)).entries[0].tags == ("vq", "vision-language")


def test_an_english_only_entry_keeps_its_first_paragraph_as_abstract() -> None:
    text = "2024년 7월 1일\nA Paper\n(A B)\nThe abstract.\nhttps://example.org\nA comment in English.\n#x\n"
    paper = parse_document(Document("p.txt", text)).entries[0]
    assert (paper.abstract, paper.links, paper.commentary) == (
        "The abstract.",
        ("https://example.org",),
        "A comment in English.",
    )


def test_commentary_paragraphs_separated_by_blank_lines_keep_the_break() -> None:
    text = "2024년 7월 1일\n\nA Paper\n(A B)\nThe abstract.\n첫 문단.\n\n둘째 문단.\n#x\n\n"
    paper = parse_document(Document("p.txt", text)).entries[0]
    assert paper.commentary == "첫 문단.\n\n둘째 문단."


def test_latex_in_a_title_is_rendered() -> None:
    text = "2024년 7월 1일\nScaling $\\mu$P to 41\\% more\n(A B)\nThe abstract.\n코멘트\n#x\n"
    assert parse_document(Document("p.txt", text)).entries[0].title == "Scaling μP to 41% more"
