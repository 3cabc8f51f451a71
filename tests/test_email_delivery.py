"""Email through the real Publisher and fan-out, the real aiosmtplib pool and a real SMTP server
(aiosmtpd on 127.0.0.1): what arrives is parsed with the email package and checked part by
part; a server that answers 421/451, one that answers 550 and one that drops the connection
each get every reader the day exactly once, or retire an address that keeps bouncing."""

from __future__ import annotations

import asyncio
import datetime as dt
import mailbox
import re
from dataclasses import replace
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from bot import subscriptions as store
from bot.archive.store import Archive
from bot.channels.email.sender import EmailChannel, email_channel
from bot.channels.email.smtp import SmtpPool, parse_smtp_url
from bot.channels.email.tokens import UNSUBSCRIBE, Signer
from bot.config import DEFAULT_TEMPLATES, Settings
from bot.render.environment import Templates
from scheduler.limits import DEFAULTS
from scheduler.publish import Publisher
from tests.smtp_server import Inbox, smtp_server
from tests.test_publish import DAY, LONG_AGO, Sleeps

KEY = "k" * 40
SITE = "https://digest.paperboy.example"
ADA, BOB, CY = "ada@example.org", "bob@example.net", "cy@example.com"


def settings_for(tmp_path: Path, **changes: Any) -> Settings:
    env = {
        "PAPERBOY_DATA_DIR": str(tmp_path),
        "PAPERBOY_BASE_URL": SITE,
        "PAPERBOY_FROM": "Paperboy <digest@mail.example>",
        "PAPERBOY_REPLY_TO": "editor@example.org",
        "PAPERBOY_UNSUBSCRIBE_MAILTO": "leave@mail.example",
    }
    return replace(Settings.from_env(env), site_dir=tmp_path / "site", **changes)


def channel_for(settings: Settings, port: int) -> tuple[EmailChannel, SmtpPool]:
    pool = SmtpPool(parse_smtp_url(f"smtp://127.0.0.1:{port}"), size=settings.smtp_concurrency)
    return EmailChannel(settings, pool, Signer(KEY), Templates(DEFAULT_TEMPLATES)), pool


def publish(archive: Archive, settings: Settings, channel: EmailChannel, day: dt.date = DAY) -> Any:
    async def main() -> Any:
        publisher = Publisher(archive, settings, {"email": channel}, worker="test-worker", sleep=Sleeps())
        try:
            return await publisher.publish(day, kinds=["email"])
        finally:
            await channel.close()

    return asyncio.run(main())


def subscribe(archive: Archive, *addresses: str) -> None:
    for address in addresses:
        store.add(archive, f"email:{address}", now=LONG_AGO)


def links(text: str) -> list[str]:
    return re.findall(r"https?://[^\s\"<>]+", text)


def test_each_reader_gets_one_well_formed_message_with_its_own_unsubscribe_link(
    seeded_sqlite: Archive, tmp_path: Path
) -> None:
    subscribe(seeded_sqlite, ADA, BOB)
    settings = settings_for(tmp_path)
    with smtp_server() as (inbox, port):
        channel, _pool = channel_for(settings, port)
        report = publish(seeded_sqlite, settings, channel)
    assert report.fanout and (report.fanout.sent, report.fanout.failed) == (2, 0)
    assert sorted(item.recipient for item in inbox.accepted) == [ADA, BOB]
    signer = Signer(KEY)
    ids = set()
    for item in inbox.accepted:
        assert item.mail_from == "digest@mail.example"
        message = item.message()
        assert message["To"] == item.recipient
        assert message["From"] == "Paperboy <digest@mail.example>"
        assert message["Reply-To"] == "editor@example.org"
        assert message["Subject"] == "Paperboy · 2024-07-11 · 6 papers"
        assert parsedate_to_datetime(message["Date"]).tzinfo is not None
        assert re.fullmatch(r"<[^@<>\s]+@digest\.paperboy\.example>", message["Message-ID"])
        ids.add(message["Message-ID"])
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        header = re.findall(r"<([^>]+)>", message["List-Unsubscribe"])
        assert header[1] == "mailto:leave@mail.example?subject=unsubscribe" and len(header) == 2
        url = header[0]
        assert url.startswith(f"{SITE}/unsubscribe/")
        assert signer.verify(UNSUBSCRIBE, url.rsplit("/", 1)[1]) == item.recipient
        assert message.get_content_type() == "multipart/alternative"
        text_part, html_part = message.iter_parts()
        assert (text_part.get_content_type(), html_part.get_content_type()) == ("text/plain", "text/html")
        text, html = text_part.get_content(), html_part.get_content()
        for part in (text, html):
            assert "PaliGemma: A versatile 3B VLM for transfer" in part
            assert url in links(part)  # the footer: the same one-click page
            assert "paperboy.invalid" not in part
        assert f'<a href="{url}"' in html
    assert len(ids) == 2
    rows = {row.subscription.target: row for row in _ledger(seeded_sqlite)}
    assert {target: row.status for target, row in rows.items()} == {ADA: "sent", BOB: "sent"}
    for item in inbox.accepted:
        assert rows[item.recipient].message_ids == (item.message()["Message-ID"],)


def test_the_pool_reuses_its_connections(seeded_sqlite: Archive, tmp_path: Path) -> None:
    readers = [f"reader{i}@example.org" for i in range(24)]
    subscribe(seeded_sqlite, *readers)
    settings = settings_for(tmp_path, smtp_concurrency=4)
    with smtp_server() as (inbox, port):
        channel, pool = channel_for(settings, port)
        report = publish(seeded_sqlite, settings, channel)
    assert report.fanout and report.fanout.sent == 24
    assert sorted(item.recipient for item in inbox.accepted) == sorted(readers)
    assert 1 <= inbox.connections <= 4 and pool.connections_opened == inbox.connections


def test_421_and_451_are_retried_and_the_message_arrives_once(seeded_sqlite: Archive, tmp_path: Path) -> None:
    subscribe(seeded_sqlite, ADA, BOB)
    settings = settings_for(tmp_path)
    inbox = Inbox()
    inbox.refuse(ADA, "451 4.3.0 Try again later", "421 4.7.0 Too busy, closing", "450 4.2.1 Slow down")
    with smtp_server(inbox) as (_inbox, port):
        channel, pool = channel_for(settings, port)
        report = publish(seeded_sqlite, settings, channel)
    assert report.fanout and (report.fanout.sent, report.fanout.failed) == (2, 0)
    assert [reply[:3] for _, reply in inbox.refusals] == ["451", "421", "450"]
    assert len(inbox.to(ADA)) == 1 and len(inbox.to(BOB)) == 1
    assert pool.connections_opened >= 2  # the 421 closed one; a new one took over
    assert store.get(seeded_sqlite, f"email:{ADA}").bounces == 0


def test_a_refusal_that_outlasts_the_retries_fails_without_counting_as_a_bounce(
    seeded_sqlite: Archive, tmp_path: Path
) -> None:
    subscribe(seeded_sqlite, ADA)
    settings = settings_for(tmp_path)
    inbox = Inbox()
    inbox.refuse(ADA, *["452 4.2.2 Mailbox full, try later"] * 5)
    with smtp_server(inbox) as (_inbox, port):
        report = publish(seeded_sqlite, settings, channel_for(settings, port)[0])
    assert report.fanout and report.fanout.failed == 1 and inbox.to(ADA) == []
    sub = store.get(seeded_sqlite, f"email:{ADA}")
    assert (sub.status, sub.bounces) == ("active", 0) and "452" in (sub.last_error or "")


def test_550_counts_a_bounce_and_retires_the_address_at_the_limit(
    seeded_sqlite: Archive, tmp_path: Path
) -> None:
    subscribe(seeded_sqlite, ADA, BOB)
    settings = settings_for(tmp_path, bounce_limit=2)
    days = [dt.date(2024, 6, 18), DAY]
    inbox = Inbox()
    inbox.refuse(BOB, "550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown")
    inbox.refuse(BOB, "550 no such user")
    with smtp_server(inbox) as (_inbox, port):
        first = publish(seeded_sqlite, settings, channel_for(settings, port)[0], days[0])
        assert first.fanout and (first.fanout.sent, first.fanout.failed) == (1, 1)
        after_one = store.get(seeded_sqlite, f"email:{BOB}")
        assert (after_one.status, after_one.bounces) == ("active", 1)
        second = publish(seeded_sqlite, settings, channel_for(settings, port)[0], days[1])
        assert second.fanout and (second.fanout.sent, second.fanout.gone) == (1, 1)
    assert len(inbox.refusals) == 2  # a bounce is not retried
    bob = store.get(seeded_sqlite, f"email:{BOB}")
    assert (bob.status, bob.bounces) == ("gone", 2) and "550" in (bob.last_error or "")
    assert inbox.to(BOB) == [] and len(inbox.to(ADA)) == 2
    statuses = {(row.day, row.subscription.target): row.status for row in _ledger(seeded_sqlite)}
    assert statuses[(days[0], BOB)] == "failed" and statuses[(days[1], BOB)] == "gone"


def test_an_accepted_delivery_resets_the_bounce_count(seeded_sqlite: Archive, tmp_path: Path) -> None:
    subscribe(seeded_sqlite, ADA)
    settings = settings_for(tmp_path, bounce_limit=2)
    inbox = Inbox()
    inbox.refuse(ADA, "552 5.2.2 Mailbox full")
    with smtp_server(inbox) as (_inbox, port):
        publish(seeded_sqlite, settings, channel_for(settings, port)[0], dt.date(2024, 6, 18))
        assert store.get(seeded_sqlite, f"email:{ADA}").bounces == 1
        publish(seeded_sqlite, settings, channel_for(settings, port)[0], DAY)
    ada = store.get(seeded_sqlite, f"email:{ADA}")
    assert (ada.status, ada.bounces) == ("active", 0) and len(inbox.to(ADA)) == 1


def test_a_relay_that_refuses_us_is_not_the_readers_bounce(seeded_sqlite: Archive, tmp_path: Path) -> None:
    subscribe(seeded_sqlite, ADA)
    settings = settings_for(tmp_path, bounce_limit=1)
    inbox = Inbox()
    inbox.refuse(ADA, "554 5.7.1 <ada@example.org>: Relay access denied")
    with smtp_server(inbox) as (_inbox, port):
        report = publish(seeded_sqlite, settings, channel_for(settings, port)[0])
    assert report.fanout and report.fanout.failed == 1 and report.fanout.gone == 0
    ada = store.get(seeded_sqlite, f"email:{ADA}")
    assert (ada.status, ada.bounces) == ("active", 0) and "Relay access denied" in (ada.last_error or "")


def test_a_connection_dropped_mid_batch_resumes_without_resending(
    seeded_sqlite: Archive, tmp_path: Path
) -> None:
    readers = [f"reader{i:02}@example.org" for i in range(30)]
    subscribe(seeded_sqlite, *readers)
    settings = settings_for(tmp_path, smtp_concurrency=2)
    inbox = Inbox()
    inbox.close_after(4)  # every connection is cut after its 4th message, with no QUIT
    inbox.drop_data(readers[7])  # and one message is cut off before its 250: never taken
    inbox.drop_data(readers[19])
    with smtp_server(inbox) as (_inbox, port):
        channel, pool = channel_for(settings, port)
        report = publish(seeded_sqlite, settings, channel)
    assert report.fanout and (report.fanout.sent, report.fanout.failed) == (30, 0)
    per_reader = {reader: len(inbox.to(reader)) for reader in readers}
    assert per_reader == dict.fromkeys(readers, 1)  # everyone once: nothing lost, nothing doubled
    assert pool.connections_opened >= 30 // 4  # the drops happened, and were recovered from
    assert {row.status for row in _ledger(seeded_sqlite)} == {"sent"}


def test_with_no_smtp_url_mail_lands_in_the_maildir(seeded_sqlite: Archive, tmp_path: Path) -> None:
    subscribe(seeded_sqlite, ADA, BOB)
    settings = settings_for(tmp_path)
    env = {"PAPERBOY_SECRET_KEY": KEY}
    report = publish(seeded_sqlite, settings, email_channel(settings, env))
    assert report.fanout and report.fanout.sent == 2
    box = mailbox.Maildir(tmp_path / "maildir", create=False)
    messages: dict[str, EmailMessage] = {}
    for key in box.iterkeys():
        raw = box.get_bytes(key)
        assert b"\r\n" not in raw  # files keep LF line ends
        parsed = message_from_bytes(raw, policy=default)
        assert isinstance(parsed, EmailMessage)
        messages[str(parsed["Delivered-To"])] = parsed
    assert sorted(messages) == [ADA, BOB]
    for address, message in messages.items():
        assert message["To"] == address and message["Return-Path"] == "<digest@mail.example>"
        assert "PaliGemma" in message.get_body(("plain",)).get_content()
        url = re.findall(r"<([^>]+)>", message["List-Unsubscribe"])[0]
        assert Signer(KEY).verify(UNSUBSCRIBE, url.rsplit("/", 1)[1]) == address


def _ledger(archive: Archive) -> list[Any]:
    from scheduler.ledger import Ledger

    return Ledger(archive, "reader").listing()


def test_paperboy_smtp_concurrency_reaches_the_fanout(seeded_sqlite: Archive, tmp_path: Path) -> None:
    """The fan-out claims at least as many email deliveries as the pool has connections (and
    the default's 32 when PAPERBOY_SMTP_CONCURRENCY is smaller); other platforms are untouched."""
    env = {"PAPERBOY_FROM": "digest@mail.example", "PAPERBOY_DATA_DIR": str(tmp_path)}
    for given, claimed in (("4", 32), ("48", 48), ("64", 64)):
        settings = Settings.from_env({**env, "PAPERBOY_SMTP_CONCURRENCY": given})
        channel = email_channel(settings, {"PAPERBOY_SMTP_URL": "smtp://127.0.0.1:2525"})
        publisher = Publisher(seeded_sqlite, settings, {"email": channel}, worker="test-worker")
        assert publisher.fanout.limits["email"].concurrency == claimed
        assert publisher.fanout.capacity == claimed
        assert publisher.fanout.limits["telegram"] == DEFAULTS["telegram"]
        assert isinstance(channel.transport, SmtpPool) and channel.transport.size == int(given)
