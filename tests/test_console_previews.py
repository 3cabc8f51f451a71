"""A day's preview is kept between visits (rendering 100 papers takes a quarter of a second)
but never outlives what it shows: when the day's papers change (the curator's post read again
with an edit), the next visit renders them anew, on every tab and on the email itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.archive.parsers import ParseOptions, parse_file
from bot.archive.store import Archive
from tests.conftest import TODAY
from tests.console_site import DAY, Console, serve_console

SEED = Path(__file__).resolve().parents[1] / "seeds" / f"daily-{DAY}.txt"
OLD = "Autoregressive Image Generation without Vector Quantization"
NEW = "Autoregressive Image Generation, Edited Title"


@pytest.fixture
def console(seeded_sqlite: Archive, tmp_path: Path) -> Iterator[Console]:
    yield from serve_console(seeded_sqlite, tmp_path)


@pytest.mark.parametrize("page", ["day?channel=telegram", "day?channel=discord", "day/email", "day/web"])
def test_a_kept_preview_follows_the_days_papers(console: Console, tmp_path: Path, page: str) -> None:
    console.login()
    url = f"/admin/{page}{'&' if '?' in page else '?'}date={DAY}"
    first, again = console.http.get(url).text, console.http.get(url).text
    assert OLD in first and first == again

    edited = tmp_path / SEED.name
    edited.write_text(SEED.read_text().replace(OLD, NEW))
    console.archive.ingest(parse_file(edited, ParseOptions(today=TODAY)))
    after = console.http.get(url).text
    assert NEW in after and OLD not in after
