"""The digest email: a well-formed multipart/alternative message with the same papers twice."""

from __future__ import annotations

import datetime as dt
import email
import html
import re
from email.message import EmailMessage
from email.policy import default

import pytest

from bot.models import Paper
from bot.render.context import clean, digest_view
from bot.render.email import build_message, render_email
from bot.render.environment import Templates
from tests.hostile import DAY, hostile_papers, render_cases, seed_days

SENT = dt.datetime(2024, 7, 11, 7, 30, tzinfo=dt.UTC)
CASES = render_cases()


def sent(templates: Templates, day: dt.date, papers: list[Paper]) -> EmailMessage:
    rendered = render_email(templates, digest_view(day, papers, "https://paperboy.example"))
    message = build_message(
        rendered, sender="Paperboy <digest@paperboy.example>", recipient="reader@example.org", date=SENT
    )
    parsed = email.message_from_bytes(message.as_bytes(), policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def visible(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", markup))


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize(("name", "day", "papers"), CASES, ids=[c[0] for c in CASES])
def test_both_parts_carry_every_paper(
    templates: Templates, name: str, day: dt.date, papers: list[Paper]
) -> None:
    message = sent(templates, day, papers)
    assert message.get_content_type() == "multipart/alternative"
    text_part, html_part = message.iter_parts()
    assert (text_part.get_content_type(), html_part.get_content_type()) == ("text/plain", "text/html")
    text = compact(text_part.get_content())
    shown = compact(visible(html_part.get_content()))
    for paper in papers:
        for part in (text, shown):
            assert compact(clean(paper.title)) in part
            assert compact(clean(paper.commentary)) in part
            assert compact(clean(paper.abstract)) in part
            assert all(f"#{tag}" in part for tag in paper.tags)
            assert all(compact(link) in part for link in paper.links)


def test_headers_subject_and_preheader(templates: Templates) -> None:
    day = seed_days()[2]  # 2024-07-11, six papers
    message = sent(templates, day.date, list(day.entries))
    assert message["Subject"] == "Paperboy · 2024-07-11 · 6 papers"
    assert message["From"] == "Paperboy <digest@paperboy.example>"
    assert message["Date"] == "Thu, 11 Jul 2024 07:30:00 +0000"
    assert re.fullmatch(r"<[^@>]+@paperboy\.example>", message["Message-ID"])
    body = message.get_body(("html",)).get_content()
    preheader = re.search(r'<div class="preheader"[^>]*>(.*?)</div>', body, re.DOTALL)
    assert preheader and preheader.group(1).startswith(
        "PaliGemma: A versatile 3B VLM for transfer · Training"
    )
    assert body.index('class="preheader"') < body.index("<h1")  # the first text an inbox sees


def test_css_is_inlined_and_user_text_escaped(templates: Templates) -> None:
    body = sent(templates, DAY, hostile_papers()).get_body(("html",)).get_content()
    assert "<style" not in body
    assert re.search(r'<div class="paper" style="[^"]*border-radius', body)
    assert "<script>" not in body and "&lt;script&gt;" in body
    assert "a &lt; b &amp; c &gt; d" in body
