"""Publishing from the console takes two posts: the first says what would go out and to how
many (a dry run: nothing is recorded, opened or sent), the second publishes, with the ledger's
guarantees (a subscriber who has the day gets nothing twice). On both engines, through HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.archive.schema import admin_audit, deliveries, publications
from bot.archive.store import Archive
from tests.console_site import DAY, Console, serve_console


@pytest.fixture
def console(seeded: Archive, tmp_path: Path) -> Iterator[Console]:
    yield from serve_console(seeded, tmp_path)


def ledger_state(console: Console) -> tuple[int, int, int]:
    with console.archive.engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(deliveries)).scalar_one()
        published = conn.execute(select(func.count()).where(publications.c.day == DAY)).scalar_one()
    mails = len(list((console.maildir / "new").iterdir())) if (console.maildir / "new").is_dir() else 0
    return int(rows), int(published), mails


def test_publish_asks_first_then_sends_once(console: Console) -> None:
    console.login()
    day_page = console.http.get(f"/admin/day?date={DAY}")
    assert f"Publish {DAY}…" in day_page.text
    before = ledger_state(console)

    asked = console.http.post("/admin/day/publish", data={"csrf": console.csrf(), "date": str(DAY)})
    assert asked.status_code == 200
    plan = re.search(
        r"(\d+) papers? \((digest|queue)\) would go to (\d+) subscribers? \(email (\d+)\)", asked.text
    )
    assert plan, asked.text
    # The reader; the other follows #vq, which none of the day's papers has.
    assert int(plan[3]) == int(plan[4]) == 1
    assert "email: 1 failed" in asked.text  # the reader's failed delivery is in the ledger already
    assert 'action="/admin/day/publish/confirm"' in asked.text
    assert ledger_state(console) == before  # asking changed nothing

    refused = console.http.post("/admin/day/publish/confirm", data={"date": str(DAY)})
    assert refused.status_code == 403 and ledger_state(console) == before

    done = console.http.post("/admin/day/publish/confirm", data={"csrf": console.csrf(), "date": str(DAY)})
    assert done.status_code == 200 and f"{DAY}: {plan[1]} paper" in done.text and "went to" in done.text
    rows, published, mails = ledger_state(console)
    assert published == 1  # the day is recorded as published (its papers kept for a re-publish)
    # The reader holds a delivery of the day: none is opened or sent again (a failed one waits
    # for a retry, as after ``paperboy publish``).
    assert (rows, mails) == (before[0], before[2])

    again = console.http.post("/admin/day/publish/confirm", data={"csrf": console.csrf(), "date": str(DAY)})
    assert again.status_code == 200 and ledger_state(console) == (rows, published, mails)  # nothing twice
    with console.archive.engine.connect() as conn:
        actions = [row.action for row in conn.execute(select(admin_audit).order_by(admin_audit.c.id))]
    assert actions.count("publish") == 2
