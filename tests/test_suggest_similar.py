"""``paperboy similar ID [--limit N] [--json]`` on the seeds, on SQLite and PostgreSQL: the nearest
papers by their text, best first, never the paper itself, nothing under the floor."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.suggest.similar import FLOOR
from tests.conftest import SEED_FILES, CliRunner

SIMVLG = "simvlg-simple-and-efficient-pretraining-1f39b1fe"
MARS = "mars-mixture-of-auto-regressive-models-dbf751e1"
STAR = "star-scale-wise-text-to-image-generation-5806c6c2"


@pytest.fixture(autouse=True)
def data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PAPERBOY_DATA_DIR", str(tmp_path))


def test_similar_answers_the_nearest_papers_best_first(run_cli: CliRunner, db_url: str) -> None:
    assert run_cli("ingest", *map(str, SEED_FILES), db=db_url).code == 0
    papers = [p["id"] for p in run_cli("search", "model", "--json", db=db_url).json()["papers"]]
    answered = 0
    for paper in [SIMVLG, MARS, *papers]:
        result = run_cli("similar", paper, "--json", db=db_url)
        found = result.json()
        assert set(found) == {"paper", "similar"} and found["paper"] == paper
        related = found["similar"]
        assert result.code == (0 if related else 1)
        ids = [r["id"] for r in related]
        scores = [r["score"] for r in related]
        assert paper not in ids and len(set(ids)) == len(ids) <= 10
        assert scores == sorted(scores, reverse=True) and all(FLOOR <= s <= 1 for s in scores)
        for r in related:
            assert set(r) == {"id", "title", "score"} and isinstance(r["score"], float)
            assert r["title"] == run_cli("show", r["id"], "--json", db=db_url).json()["title"]
        answered += bool(related)
    assert answered >= 3  # most papers have neighbours above the floor; a few have none
    # On one topic: the two autoregressive text-to-image papers find each other first.
    assert run_cli("similar", MARS, "--json", db=db_url).json()["similar"][0]["id"] == STAR
    assert run_cli("similar", STAR, "--json", db=db_url).json()["similar"][0]["id"] == MARS
    # SimVLG's neighbours include a curator's vision-language paper.
    near = {r["id"] for r in run_cli("similar", SIMVLG, "--json", db=db_url).json()["similar"]}
    assert "unveiling-encoder-free-vision-language-103feef8" in near


def test_limit_and_text_output(run_cli: CliRunner, db_url: str) -> None:
    assert run_cli("ingest", *map(str, SEED_FILES), db=db_url).code == 0
    full = run_cli("similar", SIMVLG, "--json", "--limit", "100", db=db_url).json()["similar"]
    assert len(full) >= 3
    for limit in (1, 2):
        limited = run_cli("similar", "simvlg", "--limit", str(limit), "--json", db=db_url).json()
        assert limited["paper"] == SIMVLG and limited["similar"] == full[:limit]
    text = run_cli("similar", SIMVLG, "--limit", "2", db=db_url).out.splitlines()
    assert text[0].startswith("Papers like SimVLG") and len(text) == 3
    assert text[1] == f"{full[0]['score']:.2f}  {full[0]['title']}  [{full[0]['id']}]"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("no-such-paper",), 1, "paperboy: no paper has the id 'no-such-paper'"),
        (("simvlg", "--limit", "0"), 2, "Invalid value for '--limit'"),
        (("simvlg", "--limit", "101"), 2, "Invalid value for '--limit'"),
    ],
)
def test_a_bad_question_says_what_is_wrong(
    run_cli: CliRunner, cli_db: str, args: tuple[str, ...], code: int, message: str
) -> None:
    assert run_cli("ingest", *map(str, SEED_FILES[:2])).code == 0
    result = run_cli("similar", *args, "--json")
    assert (result.code, result.out) == (code, "")
    assert message in result.err and "Traceback" not in result.err
