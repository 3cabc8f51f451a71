"""The SMTP pool against a real server (aiosmtpd on 127.0.0.1): STARTTLS with AUTH, implicit TLS,
a refused login, an unreachable server, connections kept across event loops; and
PAPERBOY_SMTP_URL read with a clear message for each mistake that never shows the password."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from bot.channels.base import Misconfigured, Permanent, Transient
from bot.channels.email.maildir import MaildirTransport
from bot.channels.email.sender import build_notice, email_channel
from bot.channels.email.smtp import SmtpPool, SmtpUrl, parse_smtp_url, wire
from bot.channels.email.transport import Outgoing, transport_from_env
from bot.config import Settings
from bot.errors import InputError
from tests.smtp_server import Certificate, Inbox, accept_login, free_port, self_signed, smtp_server

SECRET = "s3cr%t:p@ss/word"  # as written in the URL: %25 %3A %40 %2F


def notice(to: str = "ada@example.org") -> EmailMessage:
    settings = Settings.from_env({"PAPERBOY_FROM": "Paperboy <digest@mail.example>"})
    return build_notice(settings, to, "Confirm your subscription", "Open the link.", "<p>Open the link.</p>")


@pytest.fixture
def certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Certificate]:
    made = self_signed(tmp_path)
    if made is None:
        pytest.skip("no openssl command to make a self-signed certificate for the TLS tests")
    monkeypatch.setenv("SSL_CERT_FILE", str(made.cert))  # how an operator trusts a private CA
    yield made


def test_urls_are_read_with_tls_mode_port_and_decoded_credentials() -> None:
    url = parse_smtp_url("smtp://mailer%40example.org:s3cr%25t%3Ap%40ss%2Fword@Mail.Example.org:2525")
    assert (url.host, url.port, url.implicit_tls) == ("mail.example.org", 2525, False)
    assert (url.username, url.password) == ("mailer@example.org", SECRET)
    assert SECRET not in repr(url) and "s3cr" not in url.safe
    assert parse_smtp_url("smtps://u:p@mail.example.org") == SmtpUrl("mail.example.org", 465, True, "u", "p")
    assert parse_smtp_url("smtp://relay.internal/").port == 587
    assert parse_smtp_url(" smtp://[::1]:25 ").host == "::1"


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("http://user:hunter2secret@mail.example.org", "must start with smtp:// or smtps:// (not http://)"),
        ("user:hunter2secret@mail.example.org", "must start with smtp:// or smtps://"),
        ("smtp://user:hunter2secret@mail.example.org:http", "the port is not a number"),
        ("smtp://user:hunter2secret@mail.example.org:70000", "the port is not a number"),
        ("smtp://user:hunter2/secret@mail.example.org:587", "the port is not a number"),
        ("smtp://user:hunter2secret@:587", "has no host name"),
        ("smtp://user:hunter2secret@mail.example.org:587/inbox", "something after the host"),
        ("smtp://user:hunter2secret@mail.example.org:587?x=hunter2secret", "something after the host"),
        ("smtp://user@mail.example.org:587", "a user name without a password"),
        ("smtp://:hunter2secret@mail.example.org:587", "a user name without a password"),
    ],
)
def test_a_malformed_url_says_what_is_wrong_and_never_shows_the_password(raw: str, says: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_smtp_url(raw)
    message = str(caught.value)
    assert message.startswith("PAPERBOY_SMTP_URL") and says in message
    assert "hunter2" not in message and "secret" not in message


def test_the_environment_chooses_smtp_or_the_maildir(tmp_path: Path) -> None:
    settings = Settings.from_env({"PAPERBOY_DATA_DIR": str(tmp_path), "PAPERBOY_SMTP_CONCURRENCY": "7"})
    pool = transport_from_env(settings, {"PAPERBOY_SMTP_URL": "smtps://u:p@mail.example.org"})
    assert isinstance(pool, SmtpPool) and pool.size == 7 and pool.url.implicit_tls
    maildir = transport_from_env(settings, {})
    assert isinstance(maildir, MaildirTransport) and maildir.path == tmp_path / "maildir"
    assert not (tmp_path / "maildir").exists()  # made by the first message, not by starting up
    with pytest.raises(InputError, match="PAPERBOY_SMTP_URL"):
        email_channel(settings, {"PAPERBOY_SMTP_URL": "smtp://u:hunter2@host:port"})
    with pytest.raises(InputError, match="PAPERBOY_FROM"):
        email_channel(Settings.from_env({"PAPERBOY_FROM": "Paperboy"}), {})


def test_starttls_and_login_then_the_message_arrives(certificate: Certificate) -> None:
    options = {
        "tls_context": certificate.server_context(),
        "require_starttls": True,
        "authenticator": accept_login("mailer@example.org", SECRET),
        "auth_required": True,
    }
    with smtp_server(**options) as (inbox, port):
        url = parse_smtp_url(f"smtp://mailer%40example.org:s3cr%25t%3Ap%40ss%2Fword@127.0.0.1:{port}")
        pool = SmtpPool(url, size=2)

        async def main() -> None:
            await pool.deliver(notice())
            await pool.deliver(Outgoing("digest@mail.example", "bob@example.org", b"Subject: hi\n\nhello\n"))
            await pool.close()

        asyncio.run(main())
    assert [item.recipient for item in inbox.accepted] == ["ada@example.org", "bob@example.org"]
    assert inbox.connections == 1 and pool.connections_opened == 1
    assert inbox.encrypted == [True] and inbox.sessions[0].authenticated
    message = inbox.accepted[0].message()
    assert message["Subject"] == "Confirm your subscription"
    assert inbox.accepted[1].data.replace(b"\r\n", b"\n") == b"Subject: hi\n\nhello\n"


def test_implicit_tls(certificate: Certificate) -> None:
    with smtp_server(ssl_context=certificate.server_context()) as (inbox, port):
        pool = SmtpPool(parse_smtp_url(f"smtps://127.0.0.1:{port}"))

        async def main() -> None:
            await pool.deliver(notice())
            await pool.close()

        asyncio.run(main())
    assert [item.recipient for item in inbox.accepted] == ["ada@example.org"]
    assert inbox.encrypted == [True]


def test_an_untrusted_certificate_and_a_refused_login_are_the_settings_fault(
    certificate: Certificate, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refused_then_settled(pool: SmtpPool) -> None:
        try:
            await pool.deliver(notice())
        finally:  # the refused connection's TLS goodbye takes a few loop turns: let it end in this loop
            await asyncio.sleep(0.2)

    options = {"tls_context": certificate.server_context(), "authenticator": accept_login("u", "right")}
    with smtp_server(**options) as (inbox, port):
        wrong = SmtpPool(parse_smtp_url(f"smtp://u:wrong@127.0.0.1:{port}"))
        with pytest.raises(Misconfigured, match="refused the login: 535") as refused:
            asyncio.run(refused_then_settled(wrong))
        assert "wrong" not in str(refused.value) and "PAPERBOY_SMTP_URL" in str(refused.value)
        with pytest.raises(Misconfigured, match="refused the login"):  # remembered: no new attempt
            asyncio.run(wrong.deliver(notice()))
        monkeypatch.delenv("SSL_CERT_FILE")
        untrusted = SmtpPool(parse_smtp_url(f"smtp://u:right@127.0.0.1:{port}"))
        with pytest.raises(Misconfigured, match=r"TLS with smtp://u@127\.0\.0\.1.* SSL_CERT_FILE"):
            asyncio.run(untrusted.deliver(notice()))
    assert inbox.accepted == []


def test_an_unreachable_server_is_transient() -> None:
    pool = SmtpPool(parse_smtp_url(f"smtp://127.0.0.1:{free_port()}"), size=1, timeout=5)
    with pytest.raises(Transient, match=r"could not connect to smtp://127\.0\.0\.1"):
        asyncio.run(pool.deliver(notice()))


def test_connections_are_checked_after_idling_and_the_pool_works_again_after_close() -> None:
    with smtp_server() as (inbox, port):
        pool = SmtpPool(parse_smtp_url(f"smtp://127.0.0.1:{port}"), size=1, check_after=0.0)

        async def twice() -> None:
            await pool.deliver(notice("a@example.org"))
            await pool.deliver(notice("b@example.org"))  # idle for "too long": NOOP, then reused
            await pool.close()

        asyncio.run(twice())
        assert pool.connections_opened == 1
        asyncio.run(twice())  # another event loop (the next publish): a new connection
    assert pool.connections_opened == 2 and inbox.connections == 2 and len(inbox.accepted) == 4


def test_an_international_address_goes_with_smtputf8() -> None:
    with smtp_server() as (inbox, port):
        pool = SmtpPool(parse_smtp_url(f"smtp://127.0.0.1:{port}"))

        async def main() -> None:
            data = "To: 읽는이@example.org\nSubject: hi\n\nhello\n".encode()
            await pool.deliver(Outgoing("digest@mail.example", "읽는이@example.org", data))
            await pool.close()

        asyncio.run(main())
    assert [item.recipient for item in inbox.accepted] == ["읽는이@example.org"]
    assert inbox.accepted[0].message()["To"] == "읽는이@example.org"


def test_the_test_server_misbehaves_as_scripted() -> None:
    """The stand-in is strict: a scripted refusal is really answered, and then it accepts."""
    inbox = Inbox()
    inbox.refuse("ada@example.org", "550 5.1.1 no such user")
    with smtp_server(inbox) as (_inbox, port):
        pool = SmtpPool(parse_smtp_url(f"smtp://127.0.0.1:{port}"))

        async def main() -> None:
            with pytest.raises(Permanent, match=r"550 5\.1\.1 no such user"):
                await pool.deliver(notice())
            await pool.deliver(notice())
            await pool.close()

        asyncio.run(main())
    assert inbox.refusals == [("ada@example.org", "550 5.1.1 no such user")] and len(inbox.accepted) == 1


def test_the_wire_form_is_crlf_dot_stuffed_and_sized_before_stuffing() -> None:
    assert wire(b".top\nmid\n.\n..two\nend") == (b"..top\r\nmid\r\n..\r\n...two\r\nend\r\n.\r\n", 26)
    assert wire(b"a\rb\r\nc\nd\r\n") == (b"a\r\nb\r\nc\r\nd\r\n.\r\n", 12)  # lone CR and LF become CRLF
    assert wire(b"") == (b"\r\n.\r\n", 2)


def test_a_copy_arrives_byte_for_byte_whatever_its_dots_and_line_ends() -> None:
    """Lines that are or start with a dot, a lone CR, LF and CRLF: the server gets the message
    as written (in CRLF), told its true size, and the connection carries the next one."""
    lf = b"Subject: dots\n\n.\n.hidden\n..two\nlast line without an end"
    mixed = b"Subject: mixed\r\n\r\none\rtwo\nthree\r\n.\r\n"
    with smtp_server() as (inbox, port):
        pool = SmtpPool(parse_smtp_url(f"smtp://127.0.0.1:{port}"))

        async def main() -> None:
            await pool.deliver(Outgoing("digest@mail.example", "ada@example.org", lf))
            await pool.deliver(Outgoing("digest@mail.example", "bob@example.org", mixed))
            await pool.close()

        asyncio.run(main())
    assert [item.data for item in inbox.accepted] == [
        b"Subject: dots\r\n\r\n.\r\n.hidden\r\n..two\r\nlast line without an end\r\n",
        b"Subject: mixed\r\n\r\none\r\ntwo\r\nthree\r\n.\r\n",
    ]
    assert inbox.mail_options == [["SIZE=62"], ["SIZE=38"]] and inbox.connections == 1
