"""Each reader's copy of a digest (``BulkEmail``, built fast from bytes) parses back, with the
email package, to the message ``build_message`` makes with the email package itself; the
links and headers that are each reader's own are that reader's; one-off notices follow the
same From, Reply-To, Date and Message-ID rules."""

from __future__ import annotations

import datetime as dt
import email
import re
from dataclasses import replace
from email.message import EmailMessage
from email.policy import default

import pytest

from bot.channels.email.sender import build_notice, list_unsubscribe, site_domain
from bot.config import Settings
from bot.models import Paper
from bot.render.context import digest_view
from bot.render.email import UNSUBSCRIBE_MARK, BulkEmail, build_message, render_email
from bot.render.environment import Templates
from tests.hostile import render_cases

SENT = dt.datetime(2024, 7, 11, 7, 30, tzinfo=dt.UTC)
LINK = "https://paperboy.example/unsubscribe/InJlYWRlckBleGFtcGxlLm9yZyI.ZpeEYg.x-_y"
CASES = render_cases()


def parse(data: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(data, policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def lf(text: str) -> str:
    return text.replace("\r\n", "\n")


@pytest.mark.parametrize(("name", "day", "papers"), CASES, ids=[c[0] for c in CASES])
def test_a_fast_copy_says_what_the_email_package_would(
    templates: Templates, name: str, day: dt.date, papers: list[Paper]
) -> None:
    rendered = render_email(
        templates, digest_view(day, papers, "https://paperboy.example"), unsubscribe_url=UNSUBSCRIBE_MARK
    )
    bulk = BulkEmail(
        rendered, sender="Paperboy · 뉴스 <digest@paperboy.example>", headers={"Reply-To": "ed@x.org"}
    )
    fast = parse(
        bulk.message(
            recipient="reader@example.org",
            date=SENT,
            message_id="<1.2@paperboy.example>",
            unsubscribe_url=LINK,
        )
    )
    slow = parse(
        build_message(
            rendered,
            sender="Paperboy · 뉴스 <digest@paperboy.example>",
            recipient="reader@example.org",
            date=SENT,
            unsubscribe_url=LINK,
        ).as_bytes()
    )
    assert fast.defects == [] and all(part.defects == [] for part in fast.walk())
    for header in ("Subject", "From", "To", "Date"):
        assert fast[header] == slow[header], header
    assert fast["Reply-To"] == "ed@x.org" and fast["Message-ID"] == "<1.2@paperboy.example>"
    assert [p.get_content_type() for p in fast.iter_parts()] == ["text/plain", "text/html"]
    for kind in ("plain", "html"):
        fast_body, slow_body = fast.get_body((kind,)), slow.get_body((kind,))
        assert fast_body is not None and slow_body is not None
        assert lf(fast_body.get_content()) == lf(slow_body.get_content())
        assert LINK in fast_body.get_content() and UNSUBSCRIBE_MARK not in fast_body.get_content()
    assert all(len(line) <= 78 for line in fast.as_string().splitlines() if not line.startswith("List-"))


def test_copies_differ_only_where_each_reader_is_named(templates: Templates) -> None:
    _, day, papers = CASES[0]
    rendered = render_email(templates, digest_view(day, papers, None), unsubscribe_url=UNSUBSCRIBE_MARK)
    bulk = BulkEmail(rendered, sender="digest@paperboy.example")
    first = bulk.message(recipient="a@example.org", date=SENT, message_id="<a@p>", unsubscribe_url=LINK + "a")
    second = bulk.message(
        recipient="bb@example.org", date=SENT, message_id="<b@p>", unsubscribe_url=LINK + "bb"
    )
    text_a = parse(first).get_body(("plain",))
    text_b = parse(second).get_body(("plain",))
    assert text_a is not None and text_b is not None
    assert LINK + "a\n" in lf(text_a.get_content()) and LINK + "bb\n" in lf(text_b.get_content())
    assert lf(text_a.get_content()).replace(LINK + "a", "") == lf(text_b.get_content()).replace(
        LINK + "bb", ""
    )


def test_a_copy_needs_its_readers_link_and_refuses_header_injection(templates: Templates) -> None:
    _, day, papers = CASES[0]
    rendered = render_email(templates, digest_view(day, papers, None), unsubscribe_url=UNSUBSCRIBE_MARK)
    bulk = BulkEmail(rendered, sender="digest@paperboy.example")
    with pytest.raises(ValueError, match="unsubscribe_url"):
        bulk.message(recipient="a@example.org", date=SENT, message_id="<a@p>")
    with pytest.raises(ValueError, match="one line"):
        bulk.message(
            recipient="a@example.org\nBcc: x@evil.example",
            date=SENT,
            message_id="<a@p>",
            unsubscribe_url=LINK,
        )
    with pytest.raises(ValueError, match="unsubscribe_url"):
        build_message(rendered, sender="d@p.example", recipient="a@example.org", date=SENT)
    plain = render_email(templates, digest_view(day, papers, None))  # no footer asked for: none
    assert "nsubscribe" not in plain.text and "nsubscribe" not in plain.html


def test_list_unsubscribe_has_the_https_link_first_and_a_mailto_when_set() -> None:
    assert list_unsubscribe(LINK, None) == f"<{LINK}>"
    assert list_unsubscribe(LINK, "leave@paperboy.example") == (
        f"<{LINK}>, <mailto:leave@paperboy.example?subject=unsubscribe>"
    )


def test_a_notice_follows_the_digest_rules() -> None:
    env = {
        "PAPERBOY_BASE_URL": "https://news.example.org/paperboy",
        "PAPERBOY_FROM": "Paperboy <pb@mail.example>",
    }
    settings = replace(Settings.from_env(env), reply_to="editor@example.org")
    assert site_domain(settings) == "news.example.org"
    message = parse(
        build_notice(
            settings, "ada@example.org", "Confirm · 확인", "Open the link.", "<p>Open</p>"
        ).as_bytes()
    )
    assert message["From"] == "Paperboy <pb@mail.example>" and message["To"] == "ada@example.org"
    assert message["Reply-To"] == "editor@example.org" and message["Subject"] == "Confirm · 확인"
    assert re.fullmatch(r"<[^@]+@news\.example\.org>", message["Message-ID"])
    assert message["Date"] and message.get_content_type() == "multipart/alternative"
    text_only = build_notice(replace(settings, reply_to=None), "ada@example.org", "Hi", "Just text.")
    assert text_only["Reply-To"] is None and text_only.get_content_type() == "text/plain"
