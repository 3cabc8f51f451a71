"""``paperboy render`` and its contract; ``paperboy export-site`` from the command line."""

from __future__ import annotations

import datetime as dt
import email
import json
import re
from email.policy import default
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import pytest

from tests.conftest import SEEDS, CliRunner
from tests.platform_rules import discord_problems, telegram_problems


@pytest.fixture
def seeded_cli(run_cli: CliRunner) -> CliRunner:
    assert run_cli("ingest", str(SEEDS)).code == 0
    return run_cli


def test_telegram_and_discord_json(seeded_cli: CliRunner) -> None:
    telegram = seeded_cli("render", "2024-07-11", "--channel", "telegram", "--json")
    assert telegram.code == 0, telegram.err
    messages = telegram.json()["messages"]
    assert messages and all(
        m["parse_mode"] == "HTML" and telegram_problems(m["text"]) == [] for m in messages
    )
    discord = seeded_cli("render", "2024-07-11", "--channel", "discord", "--json").json()["messages"]
    assert all(discord_problems(m) == [] for m in discord)
    assert sum(len(m["embeds"]) for m in discord) == 6


def test_email_is_a_complete_message(seeded_cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERBOY_EMAIL_FROM", "Digest <digest@lab.example>")
    result = seeded_cli("render", "latest", "--channel", "email")
    message = email.message_from_string(result.out, policy=default)
    assert message["Subject"] == "Paperboy · 2025-12-11 · 27 papers"
    assert message["From"] == "Digest <digest@lab.example>" and message["Message-ID"].endswith(
        "@lab.example>"
    )
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]


@pytest.mark.parametrize(("channel", "version"), [("rss", "rss20"), ("atom", "atom10")])
def test_feeds_ignore_the_date_and_take_a_tag(seeded_cli: CliRunner, channel: str, version: str) -> None:
    parsed = feedparser.parse(seeded_cli("render", "whenever", "--channel", channel, "--tag", "#VQ").out)
    assert (parsed.version, parsed.bozo, len(parsed.entries)) == (version, 0, 2)


def test_web_page_and_tag_filter(seeded_cli: CliRunner) -> None:
    page = seeded_cli("render", "2024-07-11", "--channel", "web", "--tag", "vq").out
    assert page.startswith("<!DOCTYPE html>") and "MARS: Mixture" in page and "PaliGemma" not in page


def test_an_unknown_date_names_the_nearest_ones(seeded_cli: CliRunner) -> None:
    result = seeded_cli("render", "2024-07-12", "--channel", "telegram")
    assert result.code == 2 and result.out == ""
    assert result.err == (
        "paperboy: no digest on 2024-07-12; the nearest days with one: 2024-07-11, 2024-06-18, 2024-03-15\n"
    )
    bad = seeded_cli("render", "yesterday", "--channel", "telegram")
    assert bad.code == 2 and "is not a date: give YYYY-MM-DD" in bad.err


def test_an_unknown_channel_lists_the_channels(seeded_cli: CliRunner) -> None:
    result = seeded_cli("render", "2024-07-11", "--channel", "sms")
    assert result.code == 2
    assert "'sms' is not one of 'telegram', 'discord', 'email', 'rss', 'atom', 'web'" in result.err


def test_a_tag_missing_that_day(seeded_cli: CliRunner) -> None:
    result = seeded_cli("render", "2024-07-11", "--channel", "telegram", "--tag", "llm")
    assert result.code == 2 and "no paper of 2024-07-11 is tagged #llm" in result.err


def test_a_broken_template_stops_the_command_before_any_output(
    seeded_cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "mine" / "discord"
    broken.mkdir(parents=True)
    (broken / "footer.txt").write_text("{{ paper.author_count }\n")
    monkeypatch.setenv("PAPERBOY_TEMPLATES", str(tmp_path / "mine"))
    result = seeded_cli("render", "2024-07-11", "--channel", "telegram", "--json")
    assert result.code == 2 and result.out == ""
    assert result.err.startswith(f"paperboy: {broken / 'footer.txt'}:1: ")


def test_export_site(seeded_cli: CliRunner, tmp_path: Path) -> None:
    result = seeded_cli("export-site", str(tmp_path / "site"))
    assert result.code == 0, result.err
    counted = re.fullmatch(r".*: 4 days, 45 papers, 18 tags, (\d+) files", result.out.strip())
    assert counted, result.out
    written = [p for p in (tmp_path / "site").rglob("*") if p.is_file() and p.name != ".paperboy-site"]
    assert int(counted.group(1)) == len(written)  # pages, feeds and the search index's files
    assert json.loads(json.dumps(sorted(p.name for p in (tmp_path / "site").iterdir()))) == [
        ".paperboy-site",
        "atom.xml",
        "days",
        "feed.xml",
        "index.html",
        "pagefind",
        "papers",
        "search.html",
        "search.js",
        "style.css",
        "tags",
    ]


@pytest.mark.parametrize(
    ("channel", "keys"),
    [
        ("telegram", {"messages"}),
        ("discord", {"messages"}),
        ("email", {"subject", "preheader", "message"}),
        ("web", {"date", "path", "html"}),
        ("rss", {"path", "items", "xml"}),
        ("atom", {"path", "items", "xml"}),
    ],
)
def test_every_render_json_is_one_json_object(seeded_cli: CliRunner, channel: str, keys: set[str]) -> None:
    result = seeded_cli("render", "2024-07-11", "--channel", channel, "--json")
    assert result.code == 0, result.err
    obj = result.json()  # the whole of stdout is one JSON document
    assert isinstance(obj, dict) and set(obj) == keys
    if channel == "web":
        assert obj["date"] == "2024-07-11" and obj["path"] == "days/2024-07-11.html"
        assert obj["html"].startswith("<!DOCTYPE html>") and "MARS: Mixture" in obj["html"]
    if channel in ("rss", "atom"):
        assert feedparser.parse(obj["xml"]).bozo == 0 and obj["items"] == 45


def test_today_is_a_date_wherever_a_date_is(run_cli: CliRunner, tmp_path: Path) -> None:
    today = dt.datetime.now(ZoneInfo("Asia/Seoul")).date()  # PAPERBOY_TIMEZONE's default
    post = tmp_path / "today.txt"
    lines = (SEEDS / "daily-2024-03-15.txt").read_text().splitlines()
    post.write_text("\n".join([f"{today.year}년 {today.month}월 {today.day}일", *lines[1:]]) + "\n")
    assert run_cli("ingest", str(post)).code == 0
    rendered = run_cli("render", "today", "--channel", "web", "--json")
    assert rendered.code == 0, rendered.err
    assert rendered.json()["date"] == today.isoformat()
    assert run_cli("render", "TODAY", "--channel", "telegram").code == 0
    for args in (["deliveries", "list", "--date", "today"], ["deliveries", "retry", "--date", "today"]):
        result = run_cli(*args)
        assert result.code == 0, (args, result.err)
    dry = run_cli("publish", "today", "--dry-run", "--json")
    assert dry.code == 0 and dry.json()["date"] == today.isoformat() and dry.json()["papers"] == 3
    bad = run_cli("deliveries", "list", "--date", "tomorrow")
    assert (
        bad.code == 2
        and "'tomorrow' is not a date: give YYYY-MM-DD (such as 2024-07-11) or 'today'" in bad.err
    )


REVISIT = (
    "2024년 8월 1일\n"
    "MARS: Mixture of Auto-Regressive Models for Fine-grained Text-to-image Synthesis\n"
    "(Wanggui He)\n"
    "A shorter abstract.\n"
    "다시 읽어보니 흥미롭네요.\n"
    "#revisit #vq\n"
)


def test_a_paper_featured_on_two_days_links_both(seeded_cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "revisit.txt").write_text(REVISIT)
    assert seeded_cli("ingest", str(tmp_path / "revisit.txt")).code == 0
    mars = seeded_cli("search", "MARS", "Mixture", "--json").json()["papers"][0]
    shown = seeded_cli("show", mars["id"], "--json").json()
    assert (shown["date"], shown["days"]) == ("2024-07-11", ["2024-07-11", "2024-08-01"])
    text = seeded_cli("show", mars["id"]).out
    assert "featured 2024-07-11, 2024-08-01" in text
    assert seeded_cli("export-site", str(tmp_path / "site")).code == 0
    page = (tmp_path / "site" / "papers" / f"{mars['id']}.html").read_text()
    assert 'href="../days/2024-07-11.html"' in page and 'href="../days/2024-08-01.html"' in page
    later_day = (tmp_path / "site" / "days" / "2024-08-01.html").read_text()
    assert f'href="../papers/{mars["id"]}.html"' in later_day


def test_export_site_to_a_relative_folder(
    seeded_cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = seeded_cli("export-site", "docs")  # as for GitHub Pages
    assert result.code == 0, result.err
    assert (tmp_path / "docs" / "pagefind" / "pagefind-entry.json").is_file()


#: Stand-ins for a broken Pagefind install: (shell script, or None for no file; permissions;
#: exit status of the export; its one line after "paperboy: ").
BAD_BINARIES = {
    "missing": (None, 0, 2, r"the Pagefind binary \S+ \(PAGEFIND_BINARY_PATH\) does not exist"),
    "not executable": (
        "exit 0",
        0o644,
        2,
        r"the Pagefind binary \S+ \(PAGEFIND_BINARY_PATH\) is not executable",
    ),
    "not pagefind": (
        "echo 'usage: something else' >&2; exit 64",
        0o755,
        2,
        r"\S+ \(PAGEFIND_BINARY_PATH\) is not a working Pagefind binary: usage: something else",
    ),
    "fails while indexing": (
        'if [ "$1" = --version ]; then echo "pagefind 1.5.2"; exit 0; fi\n'
        "echo 'Indexing...'; echo 'Error: No space left on device (os error 28)' >&2; exit 1",
        0o755,
        1,
        r"Pagefind could not build the search index: Error: No space left on device \(os error 28\)",
    ),
    "killed, as for memory": (
        'if [ "$1" = --version ]; then echo "pagefind 1.5.2"; exit 0; fi\nkill -KILL $$',
        0o755,
        1,
        r"Pagefind was killed \(SIGKILL\) while building the search index; if the machine ran out of"
        r" memory \(it needs about 140 KB per paper page\), set PAPERBOY_SEARCH_INDEX=off",
    ),
    "writes nothing": (
        'if [ "$1" = --version ]; then echo "pagefind 1.5.2"; fi; exit 0',
        0o755,
        1,
        r"Pagefind finished without writing the index into pagefind/",
    ),
}


@pytest.mark.parametrize("case", list(BAD_BINARIES))
def test_a_bad_pagefind_binary_stops_the_export_and_keeps_the_last_site(
    seeded_cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    site = tmp_path / "out" / "site"
    assert seeded_cli("export-site", str(site)).code == 0
    before = sorted(str(p.relative_to(site)) for p in site.rglob("*"))
    script, mode, code, message = BAD_BINARIES[case]
    binary = tmp_path / "fake-pagefind"
    if script is not None:
        binary.write_text(f"#!/bin/sh\n{script}\n")
        binary.chmod(mode)
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(binary))
    result = seeded_cli("export-site", str(site))
    assert result.code == code, result
    assert result.out == ""
    assert re.fullmatch(rf"paperboy: {message}\n", result.err), result.err  # one line, no traceback
    assert sorted(str(p.relative_to(site)) for p in site.rglob("*")) == before  # the last site stays
    assert [p.name for p in site.parent.iterdir()] == ["site"]  # no half-made folder beside it
