"""Hard bounces counted in the database, on SQLite and PostgreSQL: in a row, reset by an
accepted delivery, and the address retired at the limit (``bot.subscriptions``)."""

from __future__ import annotations

from bot import subscriptions as store
from bot.archive.store import Archive


def test_bounces_in_a_row_retire_an_address_and_an_acceptance_resets_the_count(archive: Archive) -> None:
    sub = store.add(archive, "email:ada@example.org")
    other = store.add(archive, "email:bob@example.org")
    assert store.bounced(archive, sub.id, "550 no such user", limit=3) is False
    assert store.bounced(archive, sub.id, "550 no such user", limit=3) is False
    assert store.get(archive, sub.address).bounces == 2
    store.reset_bounces(archive, sub.id)
    assert store.get(archive, sub.address).bounces == 0
    verdicts = [store.bounced(archive, sub.id, f"550 bounce {n}", limit=3) for n in range(3)]
    assert verdicts == [False, False, True]
    gone = store.get(archive, sub.address)
    assert (gone.status, gone.bounces, gone.last_error) == ("gone", 3, "550 bounce 2")
    untouched = store.get(archive, other.address)
    assert (untouched.status, untouched.bounces) == ("active", 0)
    again = store.add(archive, "email:ada@example.org")  # the operator re-subscribes it
    assert (again.status, again.bounces) == ("active", 0)
