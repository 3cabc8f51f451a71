"""Keeping the features and suggestions current, as the curator and the service run it: a new
day analyses only its papers and suggests what a rebuild would; a damaged or deleted features
folder is rebuilt; two processes refreshing at once leave it whole. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.archive.schema import tag_suggestions
from bot.archive.store import open_archive
from bot.suggest.store import STATE, folder_for
from bot.suggest.text import STOP_WORDS, english_tokens
from tests.conftest import SEED_FILES, CliRunner

VQ_DAY = Path(__file__).with_name("fixtures") / "daily-vq-2024-07-20.txt"
SIMVLG = "simvlg-simple-and-efficient-pretraining-1f39b1fe"
NEW = ("finite-scalar-quantization-vq-vae-made-43b1bf0f", "neural-discrete-representation-learning-3c6914cd")


@pytest.fixture(autouse=True)
def data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PAPERBOY_DATA_DIR", str(tmp_path))


def suggestions(db_url: str) -> dict[tuple[str, str], float]:
    with open_archive(db_url) as archive, archive.engine.connect() as conn:
        stmt = select(tag_suggestions.c.paper_id, tag_suggestions.c.tag, tag_suggestions.c.score)
        rows = conn.execute(stmt.where(tag_suggestions.c.status == "suggested")).all()
    return {(paper, tag): float(score) for paper, tag, score in rows}


def refresh(run_cli: CliRunner, db_url: str, *flags: str) -> dict[str, object]:
    result = run_cli("tag-suggestions", "refresh", "--json", *flags, db=db_url)
    assert result.code == 0, result.err
    report: dict[str, object] = result.json()
    return report


def test_a_new_day_analyses_its_papers_only_and_agrees_with_a_rebuild(
    run_cli: CliRunner, db_url: str
) -> None:
    """The seeds (50 papers), then a day of 2 #vq papers: under a tenth of the archive, so their
    rows are weighed with the idf of the first build (frozen) and appended, #vq is retrained (its
    papers went from 2 to 4) and no other tag is (none changed by a tenth). Then a rebuild refits
    the idf on 52 papers and retrains every tag. Compared, precisely:

    - the update leaves the other papers' suggestions exactly as they were;
    - the new papers' neighbours (``similar``) are the same papers after the rebuild, the nearest
      first, each score within 20 %: the idf moved, and words only the new papers have (``fsq``)
      weigh nothing until it is refitted, so the order of close ones may change;
    - every suggestion of the update is one of the rebuild's; the rebuild may add one the update
      did not make (retrained on 2 more negatives, #vision-language's threshold moves), scoring
      under every suggestion the two share."""
    first = run_cli("ingest", *map(str, SEED_FILES), db=db_url)
    assert "tag suggestions built anew: 50 papers analysed" in first.out
    before = suggestions(db_url)
    assert refresh(run_cli, db_url)["unchanged"] is True  # nothing changed since the ingest's
    day = run_cli("ingest", str(VQ_DAY), db=db_url)
    assert day.code == 0 and "tag suggestions updated: 2 papers analysed, 1 tags trained" in day.out
    updated = suggestions(db_url)
    assert updated == before
    near = {paper: run_cli("similar", paper, "--json", db=db_url).json()["similar"] for paper in NEW}
    assert all(near.values())
    report = refresh(run_cli, db_url, "--rebuild")
    assert (report["rebuilt"], report["analysed"], report["papers"]) == (True, 52, 52)
    for paper, related in near.items():
        now = run_cli("similar", paper, "--json", db=db_url).json()["similar"]
        assert now[0]["id"] == related[0]["id"]
        assert {r["id"]: r["score"] for r in now} == pytest.approx(
            {r["id"]: r["score"] for r in related}, rel=0.2
        )
    rebuilt = suggestions(db_url)
    assert updated.keys() <= rebuilt.keys() and len(updated) >= 5
    added = rebuilt.keys() - updated.keys()
    assert len(added) <= 1 and all(rebuilt[pair] < min(rebuilt[p] for p in updated) for pair in added)
    # The day corrected (one commentary changed): a document is rewritten whole, so its two
    # papers are analysed again, not the archive's 52.
    corrected = VQ_DAY.read_text().replace("VQ-VAE 원 논문.", "VQ-VAE 원 논문, 다시 읽어 보니 좋네요.")
    changed = Path(os.environ["PAPERBOY_DATA_DIR"]) / VQ_DAY.name
    changed.write_text(corrected)
    again = run_cli("ingest", str(changed), db=db_url)
    assert again.code == 0 and "tag suggestions updated: 2 papers analysed" in again.out


def folder_of(db_url: str) -> Path:
    return folder_for(db_url, Path(os.environ["PAPERBOY_DATA_DIR"]))


def test_a_damaged_or_deleted_features_folder_is_rebuilt(run_cli: CliRunner, db_url: str) -> None:
    assert run_cli("ingest", *map(str, SEED_FILES), db=db_url).code == 0
    before = run_cli("similar", SIMVLG, "--json", db=db_url).json()
    wanted = suggestions(db_url)
    assert before["similar"] and wanted
    folder = folder_of(db_url)
    (generation,) = folder.glob("g*")

    def damage_then_check(damage: str) -> None:
        result = run_cli("similar", SIMVLG, "--json", db=db_url)  # rebuilds on the way
        assert result.code == 0, f"{damage}: {result.err}"
        assert result.json() == before, damage
        assert refresh(run_cli, db_url)["unchanged"] is True, damage
        assert suggestions(db_url).keys() == wanted.keys(), damage

    with open(generation / "csr-data.f32", "r+b") as handle:
        handle.truncate(100)
    damage_then_check("a truncated row file")
    (generation,) = folder.glob("g*")
    shutil.rmtree(generation)
    damage_then_check("the generation folder deleted")
    (folder / STATE).write_text("{not json")
    report = refresh(run_cli, db_url)
    assert (report["rebuilt"], report["reason"]) == (True, "the features on disk cannot be read")
    shutil.rmtree(folder)
    damage_then_check("the whole folder deleted")
    for model in folder.glob("models-*.npz"):
        model.unlink()
    report = refresh(run_cli, db_url)
    assert (report["rebuilt"], report["reason"]) == (True, "the classifiers on disk are missing")
    assert suggestions(db_url).keys() == wanted.keys()


def test_two_processes_refreshing_at_once_leave_the_folder_whole(
    run_cli: CliRunner, db_url: str, tmp_path: Path
) -> None:
    assert run_cli("ingest", *map(str, SEED_FILES), db=db_url).code == 0
    before = run_cli("similar", SIMVLG, "--json", db=db_url).json()
    wanted = suggestions(db_url)
    env = {**os.environ, "PAPERBOY_DATABASE_URL": db_url, "PAPERBOY_DATA_DIR": str(tmp_path)}
    command = [sys.executable, "-m", "bot", "tag-suggestions", "refresh", "--rebuild", "--json"]
    running = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(3)
    ]
    for process in running:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err.decode()
        assert json.loads(out)["rebuilt"] is True
    folder = folder_of(db_url)
    assert len(list(folder.glob("g*"))) == 1 and len(list(folder.glob("models-*"))) == 1
    assert not list(folder.glob("*.tmp"))
    assert refresh(run_cli, db_url)["unchanged"] is True
    assert run_cli("similar", SIMVLG, "--json", db=db_url).json() == before
    assert suggestions(db_url) == pytest.approx(wanted, rel=1e-4)


def test_the_stop_words_are_scikit_learns() -> None:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    assert frozenset(ENGLISH_STOP_WORDS) == STOP_WORDS
    assert english_tokens("The codebook of a VQ-VAE, see https://arxiv.org/abs/1711.00937") == [
        "codebook",
        "vq-vae",
        "codebook vq-vae",
    ]
