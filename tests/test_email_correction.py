"""The correction email: what a correction changed of a day, paper by paper, with links to the
corrected papers' pages, sent by the email channel as it sends a digest (same From, List-Id,
one-click unsubscribe for each reader) into a real Maildir. SpamAssassin and the Nu HTML Checker
read it in ``tests/test_checkers.py``."""

from __future__ import annotations

import asyncio
import email
import mailbox
from dataclasses import replace
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest

from bot.archive.corrections import FieldChange, PaperChange
from bot.channels.email.sender import EmailChannel, email_channel
from bot.channels.email.tokens import UNSUBSCRIBE, Signer
from bot.config import Settings
from bot.models import Paper
from bot.render.correction import change_views, render_correction_email
from bot.render.environment import Templates
from tests import corrected_day as day
from tests.conftest import SEEDS, CliRunner

KEY = "correction-test-key-0123456789abcdef"
PAGES = f"{day.BASE_URL}/papers"


def settings_for(folder: Path) -> tuple[Settings, dict[str, str]]:
    env = {
        "PAPERBOY_DATA_DIR": str(folder),
        "PAPERBOY_BASE_URL": day.BASE_URL,
        "PAPERBOY_FROM": "Paperboy <digest@paperboy.example>",
        "PAPERBOY_SECRET_KEY": KEY,
    }
    return replace(Settings.from_env(env), site_dir=folder / "site"), env


def sent_correction(folder: Path, papers: list[Paper] | None = None) -> bytes:
    """The correction of ``day.longer()`` (or ``papers``), sent to Ada by the email channel into
    the Maildir under ``folder``: the message as it landed."""
    settings, env = settings_for(folder)
    corrected = papers or day.longer()

    async def send() -> None:
        channel: EmailChannel = email_channel(settings, env)
        rendered = channel.render_correction(day.view(corrected), day.changes(corrected))

        async def pace() -> None:
            return None

        try:
            assert len(await channel.send("ada@example.org", rendered, pace)) == 1
        finally:
            await channel.close()

    asyncio.run(send())
    box = mailbox.Maildir(folder / "maildir", create=False)
    (key,) = box.keys()
    return box.get_bytes(key)


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=default)
    assert isinstance(message, EmailMessage)
    return message


def test_the_changes_read_paper_by_paper() -> None:
    views = change_views(day.view(day.longer()), day.changes(day.longer()))
    assert [(v.kind, v.title) for v in views] == [
        ("changed", day.TITLE),
        ("changed", "Controlling Space and Time with Diffusion Models"),
        ("added", "A Paper Added by the Correction (1)"),
        ("added", "A Paper Added by the Correction (2)"),
    ]
    assert (
        views[0].title_before == "Transformer Alignment in Large Language Models" and views[0].changed == ()
    )
    assert (views[1].title_before, views[1].changed, views[1].tags_added) == (
        None,
        ("commentary",),
        ("video",),
    )
    assert views[2].link == f"{PAGES}/added-by-the-correction-1.html"
    removed = change_views(day.view(day.shorter()), day.changes(day.shorter()))
    assert [(v.kind, v.link) for v in removed] == [("removed", None), ("removed", None)]


def test_a_tag_removed_and_fields_said_in_a_word(templates: Templates) -> None:
    change = PaperChange(
        "changed",
        "controlling-space-and-time-with-31531615",
        "Controlling Space and Time",
        (
            FieldChange("abstract", "a", "b"),
            FieldChange("tags", "#neural-rendering #diffusion", "#diffusion #4d"),
            FieldChange("authors", "A", "A, B"),
        ),
    )
    rendered = render_correction_email(templates, day.view(day.published()), [change])
    assert "Authors corrected.\nAbstract corrected.\nTags added: #4d\nTags removed: #neural-rendering" in (
        rendered.text
    )
    assert "<li>Tags removed: #neural-rendering</li>" in rendered.html


def test_the_correction_email_as_it_lands_lists_what_changed_with_links(tmp_path: Path) -> None:
    message = parse(sent_correction(tmp_path))
    assert message["Subject"] == f"Correction · {day.DAY}"
    assert message["From"] == "Paperboy <digest@paperboy.example>" and message["To"] == "ada@example.org"
    assert message["Message-ID"].endswith("@digest.paperboy.example>")
    link = f"{day.BASE_URL}/unsubscribe/{Signer(KEY).sign(UNSUBSCRIBE, 'ada@example.org')}"
    assert message["List-Unsubscribe"] == f"<{link}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    plain, page = text.get_content(), html.get_content()
    assert plain.startswith(f"Correction · {day.DAY}\n")
    assert f"== {day.TITLE}\nTitle, as sent: Transformer Alignment in Large Language Models\n" in plain
    assert "Commentary corrected.\nTags added: #video\n" in plain
    assert "== A Paper Added by the Correction (1)\nAdded to the digest.\n" in plain
    assert f"{PAGES}/transformer-alignment-in-large-language-266f44d5.html" in plain
    assert f"Unsubscribe with one click: {link}" in plain and f'href="{link}"' in page
    assert f'<a href="{PAGES}/controlling-space-and-time-with-31531615.html"' in page
    assert "<del" in page and "Transformer Alignment in Large Language Models</del>" in page
    assert "2 papers corrected, 2 papers added." in page and "<style" not in page  # inlined
    assert "Abstract:" not in plain  # a note of what changed, not the digest again


def test_hostile_titles_are_text_in_both_parts(tmp_path: Path) -> None:
    papers = day.corrected()
    papers[4] = replace(papers[4], title='<script>alert(1)</script> & "Alignment"')
    message = parse(sent_correction(tmp_path, papers))
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    assert '== <script>alert(1)</script> & "Alignment"' in text.get_content()
    assert "<script>" not in html.get_content() and "&lt;script&gt;alert(1)&lt;/script&gt; &amp;" in (
        html.get_content()
    )


def test_the_cli_sends_a_correction_email_once_on_request(
    run_cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """As a newcomer does it: publish a day, ingest a corrected post of it, ask for the email."""
    monkeypatch.setenv("PAPERBOY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PAPERBOY_SITE_DIR", str(tmp_path / "site"))
    for name in ("PAPERBOY_TELEGRAM_TOKEN", "PAPERBOY_DISCORD_TOKEN", "PAPERBOY_SMTP_URL"):
        monkeypatch.delenv(name, raising=False)
    assert run_cli("ingest", str(SEEDS)).code == 0
    assert run_cli("subscriptions", "add", "email:me@example.org").code == 0
    assert run_cli("publish", str(day.DAY), "--backfill").code == 0
    seed = (SEEDS / f"daily-{day.DAY}.txt").read_text()
    before, after = day.SENTENCE
    fixed = (
        seed.replace("Transformer Alignment in Large Language Models\n", f"{day.TITLE}\n")
        .replace(before, after)
        .replace("#neural-rendering #diffusion", f"#neural-rendering #diffusion #{day.TAG}")
    )
    (tmp_path / "corrected.txt").write_text(fixed)
    assert run_cli("ingest", str(tmp_path / "corrected.txt")).code == 0
    box = mailbox.Maildir(tmp_path / "maildir", create=False)
    assert len(box) == 1  # the digest; an email is never corrected unasked
    asked = run_cli("publish", str(day.DAY), "--email-correction")
    assert asked.code == 0, asked.err
    landed = {str(m["Subject"]): m for m in (parse(box.get_bytes(key)) for key in box.iterkeys())}
    assert sorted(landed) == [f"Correction · {day.DAY}", f"Paperboy · {day.DAY} · 6 papers"]
    correction = landed[f"Correction · {day.DAY}"]
    text = correction.get_body(("plain",))
    assert text is not None
    content = text.get_content()
    assert f"== {day.TITLE}\nTitle, as sent: Transformer Alignment in Large Language Models\n" in content
    assert "Commentary corrected.\nTags added: #video\n" in content
    assert run_cli("publish", str(day.DAY), "--email-correction").code == 0
    assert len(box) == 2  # once a correction
