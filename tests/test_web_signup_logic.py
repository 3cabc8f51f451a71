"""The sign-up logic under the web pages (``bot/channels/email/signup.py``), on SQLite and
PostgreSQL: pending until confirmed, throttled resends, reminders for subscribers, idempotent
unsubscribe, and no digest ever going to an address that has not confirmed."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from pathlib import Path

import pytest

from bot import subscriptions as store
from bot.archive.store import Archive, open_archive
from bot.channels.email import signup
from bot.channels.email.tokens import CONFIRM, UNSUBSCRIBE, BadToken, Signer
from bot.errors import InputError, NotFound
from tests.fakes import RecordingChannel
from tests.test_publish import DAY, LONG_AGO, make

SIGNER = Signer("s" * 40)
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
TEN = dt.timedelta(minutes=10)


def altered(token: str) -> str:
    """One character of the signature changed (not the last: its low bits are only padding)."""
    return token[:-5] + ("A" if token[-5] != "A" else "B") + token[-4:]


def ask(archive: Archive, address: str, tags: tuple[str, ...] = (), now: dt.datetime = NOW) -> signup.Signup:
    return signup.request_signup(archive, SIGNER, address, tags, now, resend_after=TEN)


def test_a_new_address_waits_pending_with_a_confirm_token(archive: Archive) -> None:
    result = ask(archive, " Ada@Example.ORG ", ("vq",))
    assert result.outcome == "confirm" and result.address == "Ada@example.org"
    assert result.token is not None and SIGNER.verify(CONFIRM, result.token) == "Ada@example.org"
    sub = store.get(archive, "email:Ada@example.org")
    assert (sub.status, sub.tags, sub.confirm_sent) == ("pending", ("vq",), NOW)


def test_resends_wait_for_the_interval(archive: Archive) -> None:
    ask(archive, "ada@example.org", ("vq",))
    soon = ask(archive, "ada@example.org", ("llm",), NOW + TEN - dt.timedelta(seconds=1))
    assert soon.outcome == "throttled" and soon.token is None
    assert store.get(archive, "email:ada@example.org").tags == ("vq",)  # nothing changed
    later = ask(archive, "ada@example.org", ("llm",), NOW + TEN)
    assert later.outcome == "confirm" and later.previous_sent == NOW
    sub = store.get(archive, "email:ada@example.org")
    assert (sub.status, sub.tags, sub.confirm_sent) == ("pending", ("llm",), NOW + TEN)


def test_a_subscriber_asking_again_gets_a_reminder_and_keeps_everything(archive: Archive) -> None:
    store.add(archive, "email:bob@example.org", ["vq"], now=LONG_AGO)
    first = ask(archive, "bob@example.org", ("llm",))
    assert first.outcome == "remind" and first.token is not None
    assert SIGNER.verify(UNSUBSCRIBE, first.token) == "bob@example.org"
    assert ask(archive, "bob@example.org").outcome == "throttled"
    sub = store.get(archive, "email:bob@example.org")
    assert (sub.status, sub.tags, sub.created) == ("active", ("vq",), LONG_AGO)


def test_a_retired_address_can_sign_up_again(archive: Archive) -> None:
    sub = store.add(archive, "email:gone@example.org", now=LONG_AGO)
    store.set_status(archive, sub.id, "gone", "550 no such user")
    assert ask(archive, "gone@example.org").outcome == "confirm"
    assert store.get(archive, "email:gone@example.org").status == "pending"


def test_confirm_activates_once_and_from_then_on(archive: Archive) -> None:
    token = ask(archive, "ada@example.org", ("vq",)).token
    assert token is not None
    later = NOW + dt.timedelta(hours=3)
    done = signup.confirm(archive, SIGNER, token, 48 * 3600, later)
    assert done == signup.Confirmed("ada@example.org", True, ("vq",))
    sub = store.get(archive, "email:ada@example.org")
    assert (sub.status, sub.created) == ("active", later)  # subscribed when confirmed
    assert signup.confirm(archive, SIGNER, token, 48 * 3600, later).new is False
    assert (
        signup.unsubscribe(archive, SIGNER, SIGNER.sign(UNSUBSCRIBE, "ada@example.org")) == "ada@example.org"
    )
    with pytest.raises(signup.SignupGone, match="Sign up again"):
        signup.confirm(archive, SIGNER, token, 48 * 3600, later)  # no resurrection by an old link
    with pytest.raises(NotFound):
        store.get(archive, "email:ada@example.org")


def test_unsubscribe_is_idempotent_and_forgeries_change_nothing(archive: Archive) -> None:
    store.add(archive, "email:bob@example.org", now=LONG_AGO)
    token = SIGNER.sign(UNSUBSCRIBE, "bob@example.org")
    for forged in (
        altered(token),
        Signer("t" * 40).sign(UNSUBSCRIBE, "bob@example.org"),
    ):
        with pytest.raises(BadToken):
            signup.unsubscribe(archive, SIGNER, forged)
    assert store.get(archive, "email:bob@example.org").status == "active"
    assert signup.unsubscribe(archive, SIGNER, token) == "bob@example.org"
    assert signup.unsubscribe(archive, SIGNER, token) is None


def test_email_and_tags_are_checked(seeded: Archive) -> None:
    assert signup.parse_email("ADA@EXAMPLE.ORG") == "ADA@example.org"
    with pytest.raises(InputError, match="line breaks"):
        signup.parse_email("a@b.c\r\nBcc: x@y.z")
    assert signup.check_tags(seeded, ["#VQ, llm"]) == ("vq", "llm")
    with pytest.raises(InputError, match="Did you mean #vq"):
        signup.check_tags(seeded, ["vqq"])


def test_two_requests_at_once_send_one_mail(db_url: str) -> None:
    with open_archive(db_url) as first, open_archive(db_url) as second:
        results: list[signup.Signup] = []
        start = threading.Barrier(2)

        def request(archive: Archive) -> None:
            start.wait()
            results.append(ask(archive, "race@example.org"))

        threads = [threading.Thread(target=request, args=(a,)) for a in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(r.outcome for r in results) == ["confirm", "throttled"]
        assert len(store.all_subscriptions(first, kind="email")) == 1


def test_pending_addresses_never_receive_digests(seeded: Archive, tmp_path: Path) -> None:
    waiting = ask(seeded, "waiting@example.org", now=LONG_AGO)
    token = ask(seeded, "confirmed@example.org", now=LONG_AGO).token
    assert token is not None
    signup.confirm(seeded, SIGNER, token, 10**9, LONG_AGO)
    channel = RecordingChannel("email")
    publisher = make(seeded, tmp_path, {"email": channel})
    report = asyncio.run(publisher.publish(DAY))
    assert report.audience == 1 and [target for target, _ in channel.sent] == ["confirmed@example.org"]
    # Even a delivery opened for it (by hand, or before a status change) is not sent while pending.
    pending = store.get(seeded, "email:waiting@example.org")
    assert pending.id == waiting.subscription_id and pending.status == "pending"
    assert publisher.ledger.open(DAY, [pending]) == 1
    asyncio.run(publisher.deliver())
    assert [target for target, _ in channel.sent] == ["confirmed@example.org"]
    (row,) = [r for r in publisher.ledger.listing(day=DAY) if r.subscription.id == pending.id]
    assert row.status == "pending"
