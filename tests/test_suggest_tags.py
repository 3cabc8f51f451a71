"""Suggested tags as the curator and a reader meet them, through ``paperboy`` on SQLite and
PostgreSQL: ``paperboy tag TAG --json`` lists the curator's papers, then the model's suggestions
(marked); a tag with too few examples suggests nothing; ``tag-suggestions accept|reject`` make a
suggestion the curator's tag, or never make it again, through re-ingests and rebuilds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SEED_FILES, CliRunner

VQ_DAY = Path(__file__).with_name("fixtures") / "daily-vq-2024-07-20.txt"
DAILY_0711 = next(path for path in SEED_FILES if path.name == "daily-2024-07-11.txt")

CURATED_VL = {
    "paligemma-a-versatile-3b-vlm-for-c0d6dc7e",
    "unveiling-encoder-free-vision-language-103feef8",
    "mint-1t-scaling-open-source-multimodal-91f6f4db",
    "mm1-methods-analysis-insights-from-5357e86b",
}
SIMVLG = "simvlg-simple-and-efficient-pretraining-1f39b1fe"
ARCANA = "improving-multi-modal-large-language-e0c59e14"  # "... through Boosting Vision Capabilities"
VLAP = "bridging-vision-and-language-spaces-with-d3bf5737"
#: The seeds' papers about fine-tuning large language models, or about code: never #vq.
LLM_OR_CODE = {
    "mixlora-enhancing-large-language-models-4f7c7ad0",
    "deepseek-coder-v2-breaking-the-barrier-eef5aba6",
    "llm2llm-boosting-llms-with-novel-4cdd4048",
    "simple-and-scalable-strategies-to-0a19cc63",
    "reuse-don-t-retrain-a-recipe-for-0ba282ed",
    "nemotron-4-340b-technical-report-0c4e18fe",
    "yi-open-foundation-models-by-01-ai-aa283d2b",
    "a-survey-of-large-language-models-f818c718",
}


@pytest.fixture(autouse=True)
def data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PAPERBOY_DATA_DIR", str(tmp_path))  # the features folder of a PG archive


def ingest(run_cli: CliRunner, db_url: str, *files: Path) -> None:
    result = run_cli("ingest", *map(str, files or SEED_FILES), db=db_url)
    assert result.code == 0, result.err


def listing(run_cli: CliRunner, db_url: str, tag: str) -> dict[str, Any]:
    """Every page of ``paperboy tag TAG --json``, its papers in one list."""
    result = run_cli("tag", tag, "--json", db=db_url)
    assert result.code == 0, result.err
    found: dict[str, Any] = result.json()
    for page in range(2, found["pages"] + 1):
        found["papers"] += run_cli("tag", tag, "--json", "--page", str(page), db=db_url).json()["papers"]
    assert len(found["papers"]) == found["total"]
    return found


def suggested(page: dict[str, Any]) -> list[str]:
    return [paper["id"] for paper in page["papers"] if paper["suggested"]]


def test_tag_lists_the_curators_papers_then_the_models_marked(run_cli: CliRunner, db_url: str) -> None:
    ingest(run_cli, db_url)
    page = listing(run_cli, db_url, "vision-language")
    papers = page["papers"]
    flags = [paper["suggested"] for paper in papers]
    assert flags[:4] == [False] * 4 and {p["id"] for p in papers[:4]} == CURATED_VL
    assert all(flags[4:]) and len(flags) > 4  # the curator's first, every suggestion after
    offered = suggested(page)
    assert {SIMVLG, ARCANA, VLAP} <= set(offered)
    assert not set(offered) & LLM_OR_CODE
    scores = [paper["score"] for paper in papers[4:]]
    assert scores == sorted(scores, reverse=True) and all(score > 0 for score in scores)
    assert (page["curated_total"], page["suggested_total"]) == (4, len(offered))
    assert page["total"] == 4 + len(offered)
    for paper in papers[4:]:
        assert "vision-language" not in paper["tags"]  # a suggestion is not the curator's tag
    # `paperboy show` marks them as the model's, apart from the curator's tags.
    shown = run_cli("show", SIMVLG, "--json", db=db_url).json()
    assert shown["tags"] == [] and [s["tag"] for s in shown["suggested_tags"]] == ["vision-language"]
    text = run_cli("show", SIMVLG, db=db_url).out
    assert "suggested (by the model): #vision-language" in text


def test_a_tag_with_too_few_examples_suggests_nothing(run_cli: CliRunner, db_url: str) -> None:
    ingest(run_cli, db_url)
    page = listing(run_cli, db_url, "vq")
    assert (page["curated_total"], page["suggested_total"], suggested(page)) == (2, 0, [])
    report = run_cli("tag-suggestions", "refresh", "--rebuild", "--json", db=db_url).json()
    assert report["tags"]["vq"]["reason"].startswith("too few examples: 2 of the curator's papers")
    assert "vq" not in report["suggesting"] and "vision-language" in report["suggesting"]


def test_with_four_examples_vq_may_suggest_but_never_an_llm_or_code_paper(
    run_cli: CliRunner, db_url: str, tmp_path: Path
) -> None:
    """Two more #vq papers (FSQ, VQ-VAE) make #vq a tag the model may suggest (its AUC passes);
    every paper about fine-tuning LLMs or code scores under its threshold."""
    ingest(run_cli, db_url, *SEED_FILES, VQ_DAY)
    report = run_cli("tag-suggestions", "refresh", "--rebuild", "--json", db=db_url).json()
    assert "vq" in report["suggesting"], report["tags"]["vq"]
    assert not set(suggested(listing(run_cli, db_url, "vq"))) & LLM_OR_CODE
    from bot.archive.store import open_archive
    from bot.suggest.model import Models
    from bot.suggest.store import FeatureStore, folder_for

    with open_archive(db_url):
        folder = folder_for(db_url, tmp_path)
    store = FeatureStore(folder)
    state = store.state()
    assert state is not None and state.models
    models = Models.load(folder / state.models)
    scores = models.scores(store.matrix(state).csr, ("vq",))["vq"]
    row_of = state.live()
    threshold = models.threshold("vq")
    assert all(scores[row_of[paper]] < threshold for paper in LLM_OR_CODE)
    # The curator's own VQ papers read like #vq to it: the model is not silent by accident.
    assert scores[row_of["scaling-the-codebook-size-of-vqgan-to-e718ffe0"]] > max(
        scores[row_of[paper]] for paper in LLM_OR_CODE
    )


def test_an_accepted_suggestion_is_the_curators_tag_through_reingests_and_rebuilds(
    run_cli: CliRunner, db_url: str
) -> None:
    ingest(run_cli, db_url)
    done = run_cli("tag-suggestions", "accept", SIMVLG, "vision-language", "--json", db=db_url)
    assert done.code == 0, done.err
    assert done.json() == {"paper": SIMVLG, "tag": "vision-language", "status": "accepted", "changed": True}
    again = run_cli("tag-suggestions", "accept", "simvlg", "#Vision-Language", db=db_url)
    assert again.code == 0 and "(it already was)" in again.out

    def check() -> None:
        page = listing(run_cli, db_url, "vision-language")
        curated = [paper["id"] for paper in page["papers"] if not paper["suggested"]]
        assert set(curated) == CURATED_VL | {SIMVLG} and page["curated_total"] == 5
        assert SIMVLG not in suggested(page)
        shown = run_cli("show", SIMVLG, "--json", db=db_url).json()
        assert shown["tags"] == ["vision-language"] and shown["suggested_tags"] == []
        counts = {t["tag"]: t["count"] for t in run_cli("tags", "--json", db=db_url).json()["tags"]}
        assert counts["vision-language"] == 5

    check()
    hf = next(path for path in SEED_FILES if path.name.startswith("hf-daily"))
    ingest(run_cli, db_url, hf)  # the same listing again: it says nothing of the curator's tag
    check()
    assert run_cli("tag-suggestions", "refresh", "--rebuild", db=db_url).code == 0
    check()


def test_a_rejected_suggestion_never_comes_back(run_cli: CliRunner, db_url: str) -> None:
    ingest(run_cli, db_url)
    done = run_cli("tag-suggestions", "reject", ARCANA, "vision-language", db=db_url)
    assert done.code == 0, done.err
    assert done.out.startswith("#vision-language will not be suggested again for Improving Multi-modal")
    assert ARCANA not in suggested(listing(run_cli, db_url, "vision-language"))
    for step in (("tag-suggestions", "refresh", "--rebuild"), ("ingest", *map(str, SEED_FILES))):
        assert run_cli(*step, db=db_url).code == 0
        page = listing(run_cli, db_url, "vision-language")
        assert ARCANA not in suggested(page) and ARCANA not in {p["id"] for p in page["papers"]}
        assert {SIMVLG, VLAP} <= set(suggested(page))  # the others still come
        assert run_cli("show", ARCANA, "--json", db=db_url).json()["suggested_tags"] == []
    # Changing one's mind is allowed: accepted after all, it is the curator's.
    assert run_cli("tag-suggestions", "accept", ARCANA, "vision-language", db=db_url).code == 0
    assert run_cli("show", ARCANA, "--json", db=db_url).json()["tags"] == ["vision-language"]


MISTAKES = [
    (("accept", "no-such-paper", "vq"), 1, "no paper has the id 'no-such-paper'"),
    (("reject", SIMVLG, "vq"), 1, f"#vq is not suggested for {SIMVLG}"),
    (("accept", SIMVLG, "not a tag!"), 2, "'not a tag!' is not a tag"),
    (("accept", "paligemma", "vision-language"), 2, "is already the curator's tag of"),
]


def test_a_decision_on_nothing_says_what_is_wrong(run_cli: CliRunner, db_url: str) -> None:
    ingest(run_cli, db_url, DAILY_0711, *(p for p in SEED_FILES if p.name.startswith("hf-daily")))
    before = run_cli("tag", "vision-language", "--json", db=db_url).out
    for args, code, message in MISTAKES:
        result = run_cli("tag-suggestions", *args, db=db_url)
        assert (result.code, result.out) == (code, ""), args
        assert message in result.err and "Traceback" not in result.err
        assert result.err.startswith("paperboy: ")
    assert run_cli("tag", "vision-language", "--json", db=db_url).out == before  # nothing changed
