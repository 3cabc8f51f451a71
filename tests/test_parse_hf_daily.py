"""The Hugging Face "Daily Papers" listing: chrome skipped, years inferred, upvotes read."""

from __future__ import annotations

import datetime as dt

from bot.archive.parsers import Document, ParseOptions, parse_document, parse_file
from tests.conftest import SEEDS, TODAY

SEED = SEEDS / "hf-daily-papers-dec-11.txt"

# (title, author_count, published, upvotes) for every entry, in order.
EXPECTED = [
    ("SimVLG: Simple and Efficient Pretraining of Visual Language Generative Models", 5, "2023-10-04", None),
    ("Frozen Transformers in Language Models Are Effective Visual Encoder Layers", 4, "2023-10-19", None),
    ("Re-Thinking Inverse Graphics With Large Language Models", 5, "2024-04-23", None),
    (
        "MixLoRA: Enhancing Large Language Models Fine-Tuning with LoRA based Mixture of Experts",
        8,
        "2024-04-21",
        2,
    ),
    ("Clinical Prompt Learning with Frozen Language Models", 5, "2022-05-11", None),
    ("Investigating the Impact of Model Complexity in Large Language Models", 3, "2024-10-01", None),
    ("Generating Images with Multimodal Language Models", 3, "2023-05-26", 2),
    (
        "FLAME: Frozen Large Language Models Enable Data-Efficient Language-Image Pre-training",
        3,
        "2024-11-18",
        None,
    ),
    (
        "Improving Multi-modal Large Language Model through Boosting Vision Capabilities",
        8,
        "2024-10-17",
        None,
    ),
    (
        "TriP-LLM: A Tri-Branch Patch-wise Large Language Model Framework for Time-Series Anomaly Detection",
        3,
        "2025-07-31",
        None,
    ),
    (
        "Federated Learning for ICD Classification with Lightweight Models and Pretrained Embeddings",
        2,
        "2025-07-03",
        None,
    ),
    ("Bridging Vision and Language Spaces with Assignment Prediction", 3, "2024-04-15", None),
    ("Yi: Open Foundation Models by 01.AI", 31, "2024-03-07", 3),
    (
        "ULLME: A Unified Framework for Large Language Model Embeddings with Generation-Augmented Learning",
        4,
        "2024-08-06",
        None,
    ),
    ("Grounding Descriptions in Images informs Zero-Shot Visual Recognition", 7, "2024-12-05", None),
    ("In-Context Pretraining: Language Modeling Beyond Document Boundaries", 10, "2023-10-16", 3),
    (
        "The Journey Matters: Average Parameter Count over Pre-training Unifies "
        "Sparse and Dense Scaling Laws",
        7,
        "2025-01-21",
        None,
    ),
    (
        "Dynamic Loss-Based Sample Reweighting for Improved Large Language Model Pretraining",
        6,
        "2025-02-10",
        None,
    ),
    ("Scaling TransNormer to 175 Billion Parameters", 12, "2023-07-27", 4),
    (
        "IAA: Inner-Adaptor Architecture Empowers Frozen Large Language Model with Multimodal Capabilities",
        4,
        "2024-08-23",
        None,
    ),
    ("Pretraining Language Models for Diachronic Linguistic Change Discovery", 5, "2025-04-07", 2),
    ("Simple and Scalable Strategies to Continually Pre-train Large Language Models", 8, "2024-03-13", 1),
    (
        "Using DeepSpeed and Megatron to Train Megatron-Turing NLG 530B, A Large-Scale Generative Language "
        "Model",
        20,
        "2022-01-28",
        None,
    ),
    (
        "DefSent+: Improving sentence embeddings of language models by projecting definition "
        "sentences into a quasi-isotropic or isotropic vector space of unlimited dictionary entries",
        1,
        "2024-05-25",
        None,
    ),
    ("LLM2LLM: Boosting LLMs with Novel Iterative Data Enhancement", 9, "2024-03-22", 2),
    ("LongHeads: Multi-Head Attention is Secretly a Long Context Processor", 8, "2024-02-16", 2),
    ("A Survey of Large Language Models", 22, "2023-03-31", None),
]


def test_every_entry_of_the_listing() -> None:
    digest = parse_file(SEED, ParseOptions(today=TODAY))
    assert digest.format == "hf-daily"
    # The latest year written on the page is 2024, so the page (and "Jul 31") is in 2025.
    assert digest.date == dt.date(2025, 12, 11)
    got = [
        (p.title, p.author_count, p.published and p.published.isoformat(), p.upvotes) for p in digest.entries
    ]
    assert got == EXPECTED
    for paper in digest.entries:
        assert paper.date == dt.date(2025, 12, 11)
        assert paper.authors == () and paper.tags == () and paper.commentary == ""
        assert len(paper.abstract) > 200


def test_page_chrome_is_skipped() -> None:
    digest = parse_file(SEED, ParseOptions(today=TODAY))
    titles = {p.title for p in digest.entries}
    assert not titles & {"new", "Subscribe", "Daily Papers", "byAK and the research community"}
    assert digest.entries[0].line == 13


def test_year_override_moves_the_page_and_the_yearless_dates_only() -> None:
    digest = parse_file(SEED, ParseOptions(year=2026, today=TODAY))
    assert digest.date == dt.date(2026, 12, 11)
    by_title = {p.title: p.published for p in digest.entries}
    assert by_title[
        "TriP-LLM: A Tri-Branch Patch-wise Large Language Model Framework for Time-Series Anomaly Detection"
    ] == dt.date(2026, 7, 31)
    assert by_title["A Survey of Large Language Models"] == dt.date(2023, 3, 31)


def test_a_page_that_writes_no_year_falls_back_to_the_current_year() -> None:
    text = "Daily Papers\n\nMar 3\n\nA Title\n\nAn abstract.\n\n  • 2 authors\n·\nMar 1 7\n"
    digest = parse_document(Document("hf.txt", text), ParseOptions(today=dt.date(2030, 6, 1)))
    assert digest.date == dt.date(2030, 3, 3)
    paper = digest.entries[0]
    assert (paper.published, paper.upvotes, paper.author_count) == (dt.date(2030, 3, 1), 7, 2)


def test_latex_quotes_and_dashes_render() -> None:
    digest = parse_file(SEED, ParseOptions(today=TODAY))
    assert digest.entries[0].abstract.startswith("In this paper, we propose “SimVLG”, a streamlined")
    assert "Inverse graphics – the task" in digest.entries[2].abstract
    assert "``" not in digest.entries[0].abstract
