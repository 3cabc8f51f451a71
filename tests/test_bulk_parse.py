"""Parsing in a worker process gives exactly what parsing in process gives, errors included."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.archive.parsers import ParseOptions, bulk
from bot.errors import ParseError
from tests.conftest import SEED_FILES, TODAY


def test_the_worker_returns_digests_and_errors_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("2024년 2월 30일\nT\n(A)\nabs\n코멘트\n#x\n")
    paths = [*SEED_FILES[:2], bad, *SEED_FILES[2:]]
    options = ParseOptions(today=TODAY)
    in_process = list(bulk.parse_many(paths, options))
    monkeypatch.setattr(bulk, "WORKER_THRESHOLD", 0)
    monkeypatch.setattr(bulk, "IN_FLIGHT", 2)
    calls = []
    real_submit = bulk.ProcessPoolExecutor.submit

    def spy(self: bulk.ProcessPoolExecutor, *args: object, **kwargs: object) -> object:
        calls.append(args)
        return real_submit(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(bulk.ProcessPoolExecutor, "submit", spy)
    in_worker = list(bulk.parse_many(paths, options))
    assert len(calls) == len(paths), "the worker path was not taken"
    assert [p for p, _ in in_worker] == paths
    for (_, here), (_, there) in zip(in_process, in_worker, strict=True):
        if isinstance(here, ParseError):
            assert isinstance(there, ParseError)
            assert (there.source, there.line, there.message) == (here.source, here.line, here.message)
        else:
            assert there == here
    assert sum(isinstance(result, ParseError) for _, result in in_worker) == 1
