"""The ``paperboy`` command: the JSON contract, exit statuses, and messages for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SEEDS, CliRunner

ENTRY_KEYS = {
    "id": str,
    "title": str,
    "authors": list,
    "author_count": (int, type(None)),
    "abstract": str,
    "commentary": str,
    "tags": list,
    "links": list,
    "published": (str, type(None)),
    "upvotes": (int, type(None)),
}


def test_ingest_json_follows_the_contract(run_cli: CliRunner) -> None:
    result = run_cli("ingest", "--json", str(SEEDS))
    assert result.code == 0, result.err
    digests = result.json()["digests"]
    assert [(d["format"], d["date"], len(d["entries"])) for d in digests] == [
        ("abstracts", None, 5),
        ("daily-post", "2024-03-15", 3),
        ("daily-post", "2024-06-18", 9),
        ("daily-post", "2024-07-11", 6),
        ("hf-daily", "2025-12-11", 27),
    ]
    for digest in digests:
        assert digest["source"].startswith(str(SEEDS))
        for entry in digest["entries"]:
            for key, types in ENTRY_KEYS.items():
                assert isinstance(entry[key], types), (key, entry[key])
    assert result.json()["errors"] == []


def test_dry_run_stores_nothing(run_cli: CliRunner) -> None:
    result = run_cli("ingest", "--dry-run", "--json", str(SEEDS / "daily-2024-07-11.txt"))
    assert result.code == 0
    assert len(result.json()["digests"][0]["entries"]) == 6
    assert run_cli("stats", "--json").json() == {"papers": 0, "digests": 0, "tags": 0, "queued": 0}


def test_year_option_overrides_the_listing_year(run_cli: CliRunner) -> None:
    result = run_cli(
        "ingest", "--dry-run", "--json", "--year", "2031", str(SEEDS / "hf-daily-papers-dec-11.txt")
    )
    assert result.json()["digests"][0]["date"] == "2031-12-11"


def test_lookup_commands_after_ingest(run_cli: CliRunner) -> None:
    assert run_cli("ingest", str(SEEDS)).code == 0
    assert run_cli("stats", "--json").json() == {"papers": 50, "digests": 4, "tags": 18, "queued": 5}

    tag = run_cli("tag", "#VQ", "--json").json()
    assert tag["tag"] == "vq" and tag["total"] == 2
    assert [p["title"][:4] for p in tag["papers"]] == ["MARS", "Scal"]
    assert [p["date"] for p in tag["papers"]] == ["2024-07-11", "2024-06-18"]

    tags = run_cli("tags", "--json").json()["tags"]
    assert tags[0] == {"tag": "vision-language", "count": 4} and len(tags) == 18

    found = run_cli("search", "코드북", "--json").json()
    assert found["query"] == "코드북"
    assert found["papers"][0]["id"] == tag["papers"][1]["id"]

    shown = run_cli("show", tag["papers"][0]["id"], "--json").json()
    assert shown["commentary"].startswith("Autoregressive Text to Image") and shown["author_count"] == 13
    assert shown["appearances"] == [
        {"source": "daily-2024-07-11.txt", "format": "daily-post", "date": "2024-07-11", "line": 21}
    ]

    days = run_cli("days", "--json").json()
    assert days["days"][0] == {"date": "2025-12-11", "entries": 27}
    assert [p["title"] for p in days["queue"]][-1] == "MAGMA"

    human = run_cli("tag", "vq")
    assert human.code == 0 and "MARS: Mixture" in human.out and "#vq: 2 paper(s)" in human.out


def test_unknown_tag_exits_1_with_suggestions(run_cli: CliRunner) -> None:
    run_cli("ingest", str(SEEDS))
    result = run_cli("tag", "vision")
    assert result.code == 1
    assert "No papers are tagged #vision. Closest tags: #vision-language (4)" in result.out
    as_json = run_cli("tag", "vision", "--json")
    assert as_json.code == 1 and as_json.json()["suggestions"][0] == {"tag": "vision-language", "count": 4}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("tag", "<script>"), "is not a tag"),
        (("tag", "vq", "--page", "0"), "page must be a number"),
        (("search", "?!"), "at least one word"),
        (("search", "x" * 300), "keep it under 200"),
        (("show", ""), "give a paper id"),
    ],
)
def test_odd_arguments_get_a_clear_message(run_cli: CliRunner, args: tuple[str, ...], message: str) -> None:
    result = run_cli(*args)
    assert result.code == 2
    assert result.err.startswith("paperboy: ") and message in result.err
    assert "Traceback" not in result.err + result.out


def test_bad_files_exit_2_store_nothing_of_themselves_and_let_the_rest_in(
    run_cli: CliRunner, tmp_path: Path
) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "binary.bin").write_bytes(b"\x00\x01\x02")
    (bad / "unknown.txt").write_text("just some notes\n")
    (bad / "cut.txt").write_text("2024년 3월 1일\nZyxwvut Study\n(A)\nabs\n코멘트\n#ok\nCut Paper\n")
    (bad / "date.txt").write_text("2024년 2월 30일\nT\n(A)\nabs\n코멘트\n#x\n")
    result = run_cli("ingest", str(bad), str(SEEDS / "daily-2024-03-15.txt"), str(tmp_path / "missing.txt"))
    assert result.code == 2
    lines = [line for line in result.err.splitlines() if ": " in line and not line.startswith("1 of")]
    assert sorted(lines) == sorted(
        [
            f"{bad}/binary.bin:1: binary content (a NUL byte), not a text post",
            f"{bad}/cut.txt:7: entry 'Cut Paper' is cut short: nothing follows its title",
            f"{bad}/date.txt:1: impossible date '2024년 2월 30일': day is out of range for month",
            f"{bad}/empty.txt:1: the file is empty: there is nothing to ingest",
            f"{bad}/unknown.txt:1: unknown format: expected a daily post (first line a date such as "
            "'2024년 7월 11일'), a Hugging Face Daily Papers listing, or 'Abstract:' runs",
            f"{tmp_path}/missing.txt:1: no such file or folder",
        ]
    )
    assert "Traceback" not in result.err
    stats = run_cli("stats", "--json").json()
    assert stats["papers"] == 3  # only the good post; not even cut.txt's complete first entry
    assert run_cli("search", "Zyxwvut", "--json").json()["papers"] == []


def test_a_bad_database_url_is_explained_without_the_password(run_cli: CliRunner) -> None:
    result = run_cli("stats", db="postgresql://reader:s3cret-pw@127.0.0.1:9/nowhere")
    assert result.code == 1
    assert "cannot open the database at postgresql+psycopg://reader:***@127.0.0.1:9/nowhere" in result.err
    assert "s3cret" not in result.err + result.out
    garbage = run_cli("stats", db="not a url at all")
    assert garbage.code == 1 and "is not a database URL" in garbage.err


def test_the_installed_command_answers_without_chat_libraries(tmp_path: Path) -> None:
    """A lookup must not import discord or telegram (start-up time), and errors show no traceback."""
    env = {**os.environ, "PAPERBOY_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    probe = (
        "import sys\n"
        "from bot.cli import main\n"
        "try:\n    main(sys.argv[1:])\n"
        "except SystemExit:\n    pass\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'discord', 'telegram', 'alembic', "
        "'pylatexenc', 'jinja2', 'feedgen', 'apscheduler'})\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    subprocess.run(
        [sys.executable, "-m", "bot", "ingest", str(SEEDS)], env=env, check=True, capture_output=True
    )
    run = subprocess.run(
        [sys.executable, "-c", probe, "tag", "vq", "--json"],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert json.loads(run.stdout)["total"] == 2
    assert "HEAVY []" in run.stderr
    bad = subprocess.run([sys.executable, "-m", "bot", "tag", "<b>"], env=env, capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "is not a tag" in bad.stderr


def test_an_unexpected_database_failure_is_one_line(run_cli: CliRunner, cli_db: str) -> None:
    import sqlite3

    assert run_cli("ingest", str(SEEDS)).code == 0
    with sqlite3.connect(cli_db.removeprefix("sqlite:///")) as raw:
        raw.execute("DROP TABLE tags")  # damage the database behind Paperboy's back
    result = run_cli("tags")
    assert result.code == 70
    assert (
        result.err == "paperboy: database error: no such table: tags (PAPERBOY_DEBUG=1 shows the details)\n"
    )


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("PAPERBOY_TIMEZONE", "Mars/Olympus", "PAPERBOY_TIMEZONE is 'Mars/Olympus': give an IANA zone"),
        ("PAPERBOY_PUBLISH_AT", "25:00", "PAPERBOY_PUBLISH_AT is '25:00': give a time of day as HH:MM"),
        ("PAPERBOY_PUBLISH_AT", "nine", "PAPERBOY_PUBLISH_AT is 'nine'"),
        ("PAPERBOY_PORT", "http", "PAPERBOY_PORT is 'http': give a whole number from 1 to 65535"),
    ],
)
def test_bad_settings_stop_every_command_with_a_clear_message(
    run_cli: CliRunner, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    result = run_cli("stats")
    assert result.code == 2 and message in result.err and "Traceback" not in result.err
