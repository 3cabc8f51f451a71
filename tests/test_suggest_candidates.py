"""A candidate pulled from Hugging Face gets the model's tags: ``paperboy candidates --json``
lists #vision-language for a paper about vision-language models, and not for one about code."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SEED_FILES, CliRunner
from tests.hf_standin import HfStandIn, paper

DAY = "2025-12-12"
VISION = paper(
    "2512.00001",
    "Pretraining Vision-Language Models with Frozen Language Models and Visual Token Merging",
    51,
    summary=(
        "We present a simple recipe for pretraining vision-language models: a frozen large language"
        " model is connected to a vision encoder through a light adaptor, and visual tokens are merged"
        " during training so that image-text pretraining costs a fraction of the usual compute. The"
        " resulting multimodal model matches larger vision-language models on visual question"
        " answering and image captioning benchmarks with a tenth of the image-text data."
    ),
)
CODE = paper(
    "2512.00002",
    "Fine-Tuning Code Language Models with Execution Feedback",
    12,
    summary=(
        "We fine-tune large language models for code generation with feedback from executing their"
        " programs against unit tests. Instruction tuning on the resulting data improves pass@1 on"
        " HumanEval and MBPP, and the fine-tuned model repairs its own failing programs."
    ),
)


@pytest.fixture(autouse=True)
def data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PAPERBOY_DATA_DIR", str(tmp_path))


@pytest.fixture
def hf(monkeypatch: pytest.MonkeyPatch) -> Iterator[HfStandIn]:
    with HfStandIn({DAY: [VISION, CODE]}) as stand_in:
        monkeypatch.setenv("PAPERBOY_HF_API_URL", stand_in.base_url)
        yield stand_in


def test_a_pulled_candidate_gets_the_models_tags(run_cli: CliRunner, db_url: str, hf: HfStandIn) -> None:
    assert run_cli("ingest", *map(str, SEED_FILES), db=db_url).code == 0
    pulled = run_cli("pull", "hf", DAY, "--json", db=db_url)
    assert pulled.code == 0, pulled.err
    listed = run_cli("candidates", "--json", db=db_url).json()["candidates"]
    tags = {c["id"]: c["suggested_tags"] for c in listed}
    assert tags == {"arxiv-2512.00001": ["vision-language"], "arxiv-2512.00002": []}
    # Nothing of a candidate is the archive's: no paper gained a tag or a suggestion.
    assert run_cli("stats", "--json", db=db_url).json()["papers"] == 50
    assert run_cli("tag", "vision-language", "--json", db=db_url).json()["total"] == 9
