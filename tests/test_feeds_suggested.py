"""Suggested tags in the feeds only when the operator opts in (PAPERBOY_FEED_SUGGESTED_TAGS),
and then marked as suggested: read by feedparser from the feeds ``paperboy export-site`` writes.
A bad value stops the command at its start, in one line naming the setting."""

from __future__ import annotations

from pathlib import Path

import feedparser
import pytest

from bot.channels.feeds import SUGGESTED_SCHEME
from tests.conftest import SEED_FILES, CliRunner

SIMVLG = "urn:paperboy:paper:simvlg-simple-and-efficient-pretraining-1f39b1fe"
PALIGEMMA = "urn:paperboy:paper:paligemma-a-versatile-3b-vlm-for-c0d6dc7e"


def exported(run_cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str) -> Path:
    monkeypatch.setenv("PAPERBOY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PAPERBOY_SEARCH_INDEX", "off")
    monkeypatch.setenv("PAPERBOY_FEED_SUGGESTED_TAGS", setting)
    assert run_cli("ingest", *map(str, SEED_FILES)).code == 0  # refreshes the tag model at its end
    site = tmp_path / f"site-{setting}"
    done = run_cli("export-site", str(site))
    assert done.code == 0, done.err
    return site


def tags_of(feed: Path) -> dict[str, list[tuple[str, str | None, str | None]]]:
    parsed = feedparser.parse(feed.read_bytes())
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return {
        e.id: [(t.term, t.get("scheme"), t.get("label")) for t in e.get("tags", [])] for e in parsed.entries
    }


@pytest.mark.parametrize("name", ["feed.xml", "atom.xml"])
def test_off_by_default_feeds_carry_only_the_curators_tags(
    run_cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    site = exported(run_cli, tmp_path, monkeypatch, "")
    entries = tags_of(site / name)
    assert entries[SIMVLG] == []  # the curator gave SimVLG no tag; the model's stay out
    assert all(scheme != SUGGESTED_SCHEME for tags in entries.values() for _, scheme, _ in tags)
    assert [term for term, _, _ in entries[PALIGEMMA]] == ["vision-language"]


@pytest.mark.parametrize("name", ["feed.xml", "atom.xml"])
def test_on_suggested_tags_are_categories_marked_as_suggested(
    run_cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    site = exported(run_cli, tmp_path, monkeypatch, "on")
    entries = tags_of(site / name)
    if name == "atom.xml":  # a category's term, its scheme, and a label that says so
        assert entries[SIMVLG] == [("vision-language", SUGGESTED_SCHEME, "vision-language (suggested)")]
    else:  # RSS has a domain and a text: the text says so too
        assert entries[SIMVLG] == [("vision-language (suggested)", SUGGESTED_SCHEME, None)]
    # The curator's tags stay plain: PaliGemma's #vision-language is not marked.
    assert all(scheme != SUGGESTED_SCHEME for _, scheme, _ in entries[PALIGEMMA])
    assert any(term == "vision-language" for term, _, _ in entries[PALIGEMMA])


def test_a_bad_value_stops_the_command_naming_the_setting(
    run_cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERBOY_FEED_SUGGESTED_TAGS", "sometimes")
    done = run_cli("export-site", str(tmp_path / "site"))
    assert done.code == 2
    assert done.err == (
        "paperboy: PAPERBOY_FEED_SUGGESTED_TAGS is 'sometimes': give on or off (1/0, true/false, yes/no)\n"
    )
    assert not (tmp_path / "site").exists()
