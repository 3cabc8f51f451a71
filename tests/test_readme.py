"""The README's promises that can drift: its two set-up commands, and CI running the second."""

from __future__ import annotations

import re

from tests.conftest import ROOT


def setup_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section, re.DOTALL)


def test_exactly_two_setup_commands() -> None:
    install_and_run, install_and_test = setup_commands()
    assert "paperboy ingest seeds/" in install_and_run
    assert "pytest" in install_and_test


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert setup_commands()[1] in ci.splitlines()
    assert "export PAPERBOY_REQUIRE_POSTGRES=1" in ci
    assert "export PAPERBOY_REQUIRE_CHECKERS=1" in ci and "spamassassin default-jre-headless" in ci


def test_the_performance_section_has_measured_numbers() -> None:
    section = (ROOT / "README.md").read_text().split("## Performance", 1)[1]
    assert "PERFORMANCE_TABLE" not in section
    assert re.search(r"\d[\d,]* papers/s", section)
