"""``paperboy pull hf|arxiv`` and ``paperboy candidates`` as a curator runs them, against the
stand-ins (PAPERBOY_HF_API_URL, PAPERBOY_ARXIV_API_URL), on SQLite and PostgreSQL: what becomes
a candidate, what is already in the archive (its upvotes refreshed beside its entries, never in
them), and a curator's decisions kept when a paper is pulled again."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.archive.schema import candidates, entries
from bot.archive.store import open_archive
from tests.arxiv_standin import PAPERS, ArxivStandIn, Paper
from tests.conftest import SEEDS, CliRunner
from tests.hf_standin import DAY, HfStandIn, fixture

YI = "yi-open-foundation-models-by-01-ai-aa283d2b"
TRANSNORMER = "scaling-transnormer-to-175-billion-1a2b4ecd"
CODEBOOK = "scaling-the-codebook-size-of-vqgan-to-e718ffe0"


@pytest.fixture(autouse=True)
def data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PAPERBOY_DATA_DIR", str(tmp_path))  # the site, if any, is the test's


@pytest.fixture
def hf(monkeypatch: pytest.MonkeyPatch) -> Iterator[HfStandIn]:
    with HfStandIn() as stand_in:
        monkeypatch.setenv("PAPERBOY_HF_API_URL", stand_in.base_url)
        yield stand_in


@pytest.fixture
def arxiv(monkeypatch: pytest.MonkeyPatch) -> Iterator[ArxivStandIn]:
    with ArxivStandIn() as stand_in:
        monkeypatch.setenv("PAPERBOY_ARXIV_API_URL", stand_in.base_url)
        yield stand_in


def test_a_days_listing_becomes_candidates_and_refreshes_the_archives_upvotes(
    run_cli: CliRunner, db_url: str, hf: HfStandIn
) -> None:
    assert run_cli("ingest", str(SEEDS), db=db_url).code == 0
    result = run_cli("pull", "hf", DAY, "--json", db=db_url)
    assert result.code == 0, result.err
    pulled = result.json()
    assert [c["id"] for c in pulled["candidates"]] == ["arxiv-2509.04664", "arxiv-2508.02739"]
    kronos = pulled["candidates"][1]
    assert kronos["links"] == [
        "https://arxiv.org/abs/2508.02739",
        "https://huggingface.co/papers/2508.02739",
        "https://github.com/shiyu-coder/Kronos",
    ]
    assert (kronos["upvotes"], kronos["day"], kronos["source"], kronos["status"]) == (44, DAY, "hf", "new")
    assert pulled["candidates"][0]["summary"].startswith("Like students facing hard exam questions, large")
    assert "\n" not in pulled["candidates"][0]["summary"]
    # Listed by Hugging Face, already in the archive from the seeds' listing (ids from titles).
    assert [(k["id"], k["paper"], k["upvotes"]) for k in pulled["in_archive"]] == [
        ("arxiv-2403.04652", YI, 48),
        ("arxiv-2307.14995", TRANSNORMER, 17),
    ]
    assert pulled["upvotes_changed"] == 2

    assert run_cli("show", YI, "--json", db=db_url).json()["upvotes"] == 48
    with open_archive(db_url) as archive, archive.engine.connect() as conn:
        said = conn.scalars(select(entries.c.upvotes).where(entries.c.paper_id == YI)).all()
    assert said == [3]  # the listing's document still says what it said

    listed = run_cli("candidates", "--json", db=db_url).json()["candidates"]
    assert [(c["id"], c["suggested_tags"], c["in_archive"]) for c in listed] == [
        ("arxiv-2508.02739", [], False),  # one pull: most upvoted first
        ("arxiv-2509.04664", [], False),
    ]
    # Kept apart from the archive: no paper, no search hit, no day.
    assert run_cli("stats", "--json", db=db_url).json()["papers"] == 50
    assert run_cli("search", "Kronos", db=db_url).code == 1
    text = run_cli("candidates", db=db_url).out
    assert (
        "▲  44  Kronos: A Foundation Model for the Language of Financial Markets  [arxiv-2508.02739]" in text
    )


def test_pulling_again_refreshes_what_the_source_says_and_keeps_the_curators_decision(
    run_cli: CliRunner, db_url: str, hf: HfStandIn
) -> None:
    assert run_cli("pull", "hf", DAY, db=db_url).code == 0
    dismissed = run_cli("candidates", "dismiss", "2509.04664", "--json", db=db_url)
    assert dismissed.json() == {"dismissed": ["arxiv-2509.04664"]}
    assert [c["id"] for c in run_cli("candidates", "--json", db=db_url).json()["candidates"]] == [
        "arxiv-2403.04652",
        "arxiv-2508.02739",
        "arxiv-2307.14995",
    ]
    hf.listings[DAY][0]["paper"]["upvotes"] = 30
    assert run_cli("pull", "hf", DAY, db=db_url).code == 0
    everything = {
        c["id"]: c for c in run_cli("candidates", "--all", "--json", db=db_url).json()["candidates"]
    }
    assert (everything["arxiv-2509.04664"]["status"], everything["arxiv-2509.04664"]["upvotes"]) == (
        "dismissed",
        30,
    )
    assert "arxiv-2509.04664" not in [
        c["id"] for c in run_cli("candidates", "--json", db=db_url).json()["candidates"]
    ]
    missing = run_cli("candidates", "dismiss", "2509.04664", "2406.00001", db=db_url)
    assert missing.code == 1 and "no candidate arxiv-2406.00001" in missing.err
    assert run_cli("candidates", "dismiss", "not-an-id", db=db_url).code == 2


def test_papers_named_on_arxiv_become_candidates_one_request_for_all(
    run_cli: CliRunner, db_url: str, arxiv: ArxivStandIn
) -> None:
    assert run_cli("ingest", str(SEEDS / "daily-2024-06-18.txt"), db=db_url).code == 0
    result = run_cli("pull", "arxiv", "2512.04030", "arXiv:hep-th/9901001", "2406.11837", "--json", db=db_url)
    assert result.code == 0, result.err
    pulled = result.json()
    assert [(c["id"], c["arxiv_id"], c["links"]) for c in pulled["candidates"]] == [
        ("arxiv-2512.04030", "2512.04030v2", ["https://arxiv.org/abs/2512.04030"]),
        ("arxiv-hep-th_9901001", "hep-th/9901001v1", ["https://arxiv.org/abs/hep-th/9901001"]),
    ]
    first = pulled["candidates"][0]
    assert (first["title"], first["authors"], first["published"]) == (
        "A Candidate the Curator Names by Its Id",
        ["Ada Lovelace", "Alan Turing"],
        "2025-12-03",
    )
    assert (first["upvotes"], first["day"], first["source"]) == (None, None, "arxiv")
    # The seeds' post wrote this one up without a link: the same title is the same paper.
    assert [(k["id"], k["paper"]) for k in pulled["in_archive"]] == [("arxiv-2406.11837", CODEBOOK)]
    (request,) = arxiv.requests
    assert request.query == {"id_list": "2512.04030,hep-th/9901001,2406.11837", "max_results": "3"}
    assert request.user_agent.startswith("Paperboy/")


def test_an_arxiv_pull_keeps_the_upvotes_hugging_face_gave(
    run_cli: CliRunner, monkeypatch: pytest.MonkeyPatch, hf: HfStandIn
) -> None:
    both = Paper("2509.04664", "Why Language Models Hallucinate", "Abstract.", ("Ada",), PAPERS[0].published)
    with ArxivStandIn((*PAPERS, both)) as arxiv:
        monkeypatch.setenv("PAPERBOY_ARXIV_API_URL", arxiv.base_url)
        assert run_cli("pull", "hf", DAY).code == 0
        assert run_cli("pull", "arxiv", "2509.04664v1").code == 0
    (shown,) = [
        c for c in run_cli("candidates", "--json").json()["candidates"] if c["id"] == "arxiv-2509.04664"
    ]
    assert (shown["source"], shown["upvotes"], shown["day"], shown["summary"]) == (
        "arxiv",
        26,
        DAY,
        "Abstract.",
    )


def test_a_bad_id_is_refused_before_anything_is_asked(run_cli: CliRunner, arxiv: ArxivStandIn) -> None:
    result = run_cli("pull", "arxiv", "2406.11837", "2406.1183")
    assert result.code == 2
    assert result.err.strip() == (
        "paperboy: '2406.1183' is not an arXiv id (it has 4 digits after the dot before 2015 (1501),"
        " 5 from then on): give a new-style id such as 2406.11837 (or 2406.11837v2) or an old-style one"
        " such as hep-th/9901001"
    )
    assert arxiv.requests == []


def test_an_id_arxiv_does_not_have_stores_nothing(run_cli: CliRunner, arxiv: ArxivStandIn) -> None:
    result = run_cli("pull", "arxiv", "2512.04030", "2406.99999")
    assert result.code == 1
    assert result.err.strip() == "paperboy: arXiv has no paper 2406.99999: check the id; nothing was stored"
    assert run_cli("candidates", "--json").json() == {"candidates": []}


def test_arxivs_own_refusal_is_said_in_its_words(run_cli: CliRunner, arxiv: ArxivStandIn) -> None:
    from tests.arxiv_standin import error_feed

    arxiv.answer(error_feed("id_list=2406.11837", "2406.11837").encode(), "application/atom+xml", status=400)
    result = run_cli("pull", "arxiv", "2406.11837")
    assert result.code == 69
    assert result.err.strip() == (
        f"paperboy: arXiv ({arxiv.base_url}) refused the query: incorrect id format for 2406.11837"
        " (nothing was stored)"
    )


def test_a_pull_that_fails_halfway_stores_nothing(
    run_cli: CliRunner, monkeypatch: pytest.MonkeyPatch, arxiv: ArxivStandIn
) -> None:
    from bot.pull import arxiv as arxiv_api
    from tests.http_standin import Fault

    monkeypatch.setattr(arxiv_api, "BATCH", 1)  # a request per id
    monkeypatch.setattr("bot.pull.ARXIV_INTERVAL", 0.0)
    arxiv.interval = 0.0
    arxiv.faults.append(Fault(0))  # the first request goes through
    arxiv.fail(503, times=3)
    result = run_cli("pull", "arxiv", "2512.04030", "hep-th/9901001")
    assert result.code == 69 and "answered HTTP 503, 3 tries" in result.err
    assert len(arxiv.requests) == 4
    assert run_cli("candidates", "--all", "--json").json() == {"candidates": []}


def test_a_store_that_fails_midway_stores_nothing(
    run_cli: CliRunner, cli_db: str, monkeypatch: pytest.MonkeyPatch, hf: HfStandIn
) -> None:
    from bot.archive import upvotes

    assert run_cli("ingest", str(SEEDS / "hf-daily-papers-dec-11.txt")).code == 0

    def broken(*args: object, **kwargs: object) -> int:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(upvotes, "record", broken)  # called after the candidates are written
    failed = run_cli("pull", "hf", DAY)
    assert failed.code == 70 and "the disk is full" in failed.err
    with open_archive(cli_db) as archive, archive.engine.connect() as conn:
        assert conn.execute(select(candidates.c.id)).all() == []


BAD_LISTING = copy.deepcopy(fixture())
del BAD_LISTING[1]["paper"]["upvotes"]


@pytest.mark.parametrize(
    ("inject", "said"),
    [
        (
            lambda s: s.answer(b'[{"paper": ', "application/json"),
            "answered malformed JSON (line 1, column 12",
        ),
        (
            lambda s: s.answer(b"<!DOCTYPE html><h1>502 Bad Gateway</h1>", "text/html"),
            "answered an HTML page, not its API's JSON",
        ),
        (
            lambda s: s.answer(b'{"error": "Invalid date"}', "application/json"),
            "answered JSON of another shape than its Daily Papers API: a JSON dict where the list",
        ),
        (
            lambda s: s.listings.update({DAY: BAD_LISTING}),
            "of another shape than its Daily Papers API: item 2 (2508.02739) has no upvote count",
        ),
        (lambda s: s.fail(500, times=3), "answered HTTP 500, 3 tries: try again later"),
        (lambda s: s.stall(3.0, times=3), "did not answer within 1 s, 3 tries: try again later"),
    ],
    ids=["malformed-json", "html-page", "json-object", "missing-field", "server-error", "timeout"],
)
def test_a_source_that_answers_something_else_is_said_in_one_line_and_nothing_is_stored(
    run_cli: CliRunner, monkeypatch: pytest.MonkeyPatch, hf: HfStandIn, inject: object, said: str
) -> None:
    monkeypatch.setenv("PAPERBOY_PULL_TIMEOUT", "1")
    inject(hf)  # type: ignore[operator]
    result = run_cli("pull", "hf", DAY)
    assert result.code == 69, result.err
    (line,) = result.err.strip().splitlines()[-1:]
    assert line.startswith(f"paperboy: Hugging Face ({hf.base_url}) ") and said in line, line
    assert line.endswith("(nothing was stored)") and "Traceback" not in result.err
    assert run_cli("candidates", "--all", "--json").json() == {"candidates": []}


def test_a_busy_source_is_waited_for_as_it_asks(run_cli: CliRunner, hf: HfStandIn) -> None:
    hf.fail(429, retry_after=1)
    result = run_cli("pull", "hf", DAY)
    assert result.code == 0, result.err
    assert f"paperboy: Hugging Face ({hf.base_url}) answered HTTP 429; trying again in 1.0 s" in result.err
    first, second = (r.at for r in hf.requests)
    assert second - first >= 1.0


def test_an_empty_listing_and_an_unreachable_source(
    run_cli: CliRunner, monkeypatch: pytest.MonkeyPatch, hf: HfStandIn
) -> None:
    empty = run_cli("pull", "hf", "2025-12-13")
    assert empty.code == 1 and "Hugging Face lists no papers for 2025-12-13" in empty.err
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    monkeypatch.setenv("PAPERBOY_HF_API_URL", closed)
    down = run_cli("pull", "hf", DAY)
    assert down.code == 69
    assert down.err.strip().splitlines()[-1] == (
        f"paperboy: Hugging Face ({closed}) cannot be reached (connection refused), 3 tries: try again later"
        " (nothing was stored)"
    )


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        (
            "PAPERBOY_HF_API_URL",
            "huggingface.co",
            "PAPERBOY_HF_API_URL: it must be an http(s) URL with a host",
        ),
        ("PAPERBOY_ARXIV_API_URL", "ftp://export.arxiv.org", "PAPERBOY_ARXIV_API_URL: it must be an http(s)"),
        (
            "PAPERBOY_ARXIV_API_URL",
            "https://export.arxiv.org/?x=1",
            "PAPERBOY_ARXIV_API_URL has a ? or # part",
        ),
        ("PAPERBOY_PULL_TIMEOUT", "0", "PAPERBOY_PULL_TIMEOUT is '0': give a whole number from 1 to 300"),
        ("PAPERBOY_HF_REFRESH_DAYS", "-1", "PAPERBOY_HF_REFRESH_DAYS is '-1': give a whole number from 0"),
    ],
)
def test_a_bad_setting_stops_every_command_at_start(
    run_cli: CliRunner, monkeypatch: pytest.MonkeyPatch, name: str, value: str, said: str
) -> None:
    monkeypatch.setenv(name, value)
    for command in (("pull", "hf", DAY), ("tags",)):
        result = run_cli(*command)
        assert result.code == 2 and result.err.startswith(f"paperboy: {said}"), result.err
        assert len(result.err.strip().splitlines()) == 1
