"""What the real checkers say: the W3C Nu HTML Checker finds no error in any HTML Paperboy makes
(every page of the exported seed archive, pages of hostile text, the server's own pages, the
digest email's HTML part, the correction email's), and SpamAssassin's stock rules score each seed
day's digest and a correction email, as they are sent, at most 0.5."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import mailbox
from collections.abc import Iterator
from dataclasses import replace
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import httpx
import pytest

from bot import subscriptions as store
from bot.archive import queries
from bot.archive.store import Archive, open_archive
from bot.channels.email.sender import email_channel
from bot.channels.email.tokens import UNSUBSCRIBE, Signer
from bot.config import Settings
from bot.models import Digest
from scheduler.publish import Publisher
from tests import corrected_day
from tests.checkers import html_errors, spam_report, vnu_command
from tests.conftest import SEEDS, CliRunner, ingest_seeds
from tests.hostile import DAY, hostile_papers
from tests.test_email_correction import sent_correction
from tests.test_links import HOSTILE_LINKS
from tests.test_publish import LONG_AGO, Sleeps
from tests.test_web_app import KEY, Site, serve_site
from tests.test_web_export import export
from tests.test_web_signup import inbox, link_in, sign_up

SPAM_LIMIT = 0.5


def test_every_exported_page_of_the_seed_archive_passes_the_nu_html_checker(
    run_cli: CliRunner, tmp_path: Path
) -> None:
    vnu_command()  # skip (or fail in CI) before the export if the checker is missing
    assert run_cli("ingest", str(SEEDS)).code == 0
    exported = run_cli("export-site", str(tmp_path / "site"))
    assert exported.code == 0, exported.err
    pages = sorted((tmp_path / "site").rglob("*.html"))
    names = {page.relative_to(tmp_path / "site").as_posix() for page in pages}
    assert {"index.html", "days/2024-07-11.html", "tags/index.html", "tags/vq.html"} <= names
    assert len(pages) >= 69  # every day, paper and tag page of the seeds
    errors = html_errors(pages)
    assert errors == [], f"{len(errors)} errors in {len(pages)} pages:\n" + "\n".join(errors[:20])


def test_the_pages_of_a_long_tag_listing_pass_the_nu_html_checker(tmp_path: Path) -> None:
    """Its pager: the first and last pages, two either side, "…" between."""
    from bot.channels.web.site import Listed, tag_pages
    from bot.config import DEFAULT_TEMPLATES
    from bot.render.environment import Templates

    vnu_command()
    items = [Listed(f"2024-07-{1 + n % 28:02d}", 0, f"paper-{n}", f"Paper <{n}> & co") for n in range(1250)]
    pages = []
    for name, html in tag_pages(Templates(DEFAULT_TEMPLATES), "vq", items, None):
        (tmp_path / name).write_text(html)
        pages.append(tmp_path / name)
    assert len(pages) == 13 and "…" in (tmp_path / "vq-7.html").read_text()
    errors = html_errors(pages)
    assert errors == [], "\n".join(errors[:20])


def test_pages_of_hostile_text_pass_the_nu_html_checker(tmp_path: Path) -> None:
    """Markup-like titles, control characters, URLs with quotes and brackets in them."""
    vnu_command()
    with open_archive(f"sqlite:///{tmp_path}/archive.db") as archive:
        papers = (*hostile_papers(), replace(HOSTILE_LINKS, date=DAY))
        archive.ingest(Digest(DAY, "hostile.txt", "daily-post", papers))
        export(archive, tmp_path / "site")
    pages = sorted((tmp_path / "site").rglob("*.html"))
    errors = html_errors(pages)
    assert errors == [], "\n".join(errors[:20])


@pytest.fixture
def site(seeded_sqlite: Archive, tmp_path: Path) -> Iterator[Site]:
    yield from serve_site(seeded_sqlite, tmp_path)


def test_the_servers_own_pages_pass_the_nu_html_checker(site: Site, tmp_path: Path) -> None:
    vnu_command()
    http = site.http
    answers: dict[str, httpx.Response] = {
        "subscribe": http.get("/subscribe"),
        "search-results": http.get("/search", params={"q": "vector quantization"}),
        "search-korean": http.get("/search", params={"q": "코드북"}),
        "search-nothing": http.get("/search", params={"q": "zzzqqqxxx"}),
        "search-refused": http.get("/search", params={"q": "x" * 500}),
        "subscribe-refused": http.post("/subscribe", data={"email": "not an address", "csrf": "forged"}),
        "check-inbox": sign_up(http, "ada@example.org", "vq"),
        "not-found": http.get("/no/such/page"),
        "confirm-refused": http.get("/confirm/nonsense"),
    }
    confirm = link_in(inbox(site.maildir)[0], "confirm")
    answers["confirmed"] = httpx.get(confirm)
    unsubscribe = f"{site.url}/unsubscribe/{Signer(KEY).sign(UNSUBSCRIBE, 'ada@example.org')}"
    answers["unsubscribe"] = httpx.get(unsubscribe)
    answers["unsubscribed"] = httpx.post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
    folder = tmp_path / "answers"
    folder.mkdir()
    pages = []
    for name, answer in answers.items():
        assert answer.headers["content-type"].startswith("text/html"), (name, answer.status_code)
        page = folder / f"{name}-{answer.status_code}.html"
        page.write_bytes(answer.content)
        pages.append(page)
    assert {p.name for p in pages} >= {"not-found-404.html", "confirmed-200.html", "unsubscribed-200.html"}
    errors = html_errors(pages)
    assert errors == [], "\n".join(errors[:20])


# --- SpamAssassin on the digests as they are sent -------------------------------------------------

SEED_DAYS = [dt.date(2024, 3, 15), dt.date(2024, 6, 18), dt.date(2024, 7, 11), dt.date(2025, 12, 11)]


@pytest.fixture(scope="module")
def sent_digests(tmp_path_factory: pytest.TempPathFactory) -> dict[dt.date, bytes]:
    """Each seed day published to one reader by the real email path (fan-out, ledger, the
    rendered and addressed copy) into the Maildir, as a newcomer's first digests land there."""
    folder = tmp_path_factory.mktemp("sent")
    env = {
        "PAPERBOY_DATA_DIR": str(folder),
        "PAPERBOY_BASE_URL": "https://digest.paperboy.example",
        "PAPERBOY_FROM": "Paperboy <digest@paperboy.example>",
        "PAPERBOY_SECRET_KEY": KEY,
    }
    settings = replace(Settings.from_env(env), site_dir=folder / "site")
    with open_archive(f"sqlite:///{folder}/archive.db") as archive:
        ingest_seeds(archive)
        assert [d.date for d in queries.days(archive)] == sorted(SEED_DAYS, reverse=True)
        store.add(archive, "email:ada@example.org", now=LONG_AGO)

        async def publish(day: dt.date) -> None:
            channel = email_channel(settings, env)
            publisher = Publisher(archive, settings, {"email": channel}, worker="test", sleep=Sleeps())
            try:
                report = await publisher.publish(day, kinds=["email"])
            finally:
                await channel.close()
            assert report.fanout and report.fanout.sent == 1

        sent: dict[dt.date, bytes] = {}
        box = mailbox.Maildir(folder / "maildir", create=True)
        for day in SEED_DAYS:
            before = set(box.iterkeys())
            asyncio.run(publish(day))
            (new,) = set(box.iterkeys()) - before
            sent[day] = box.get_bytes(new)
    return sent


def test_each_digests_html_part_passes_the_nu_html_checker(
    sent_digests: dict[dt.date, bytes], tmp_path: Path
) -> None:
    vnu_command()
    pages = []
    for day, raw in sent_digests.items():
        message = email.message_from_bytes(raw, policy=default)
        assert isinstance(message, EmailMessage)
        part = message.get_body(("html",))
        assert part is not None
        pages.append(tmp_path / f"{day}.html")
        pages[-1].write_text(part.get_content(), encoding="utf-8")
    errors = html_errors(pages)
    assert errors == [], "\n".join(errors[:20])


@pytest.mark.parametrize("day", SEED_DAYS, ids=str)
def test_spamassassin_scores_each_digest_at_most_half_a_point(
    sent_digests: dict[dt.date, bytes], day: dt.date, tmp_path: Path
) -> None:
    message = sent_digests[day]
    assert b"List-Unsubscribe:" in message and day.isoformat().encode() in message  # the real thing
    report = spam_report(message, tmp_path / "home")
    assert report.score <= SPAM_LIMIT, f"{day}: {report.score} points\n{report.details}"


# --- the correction email, as it lands ------------------------------------------------------------


@pytest.fixture(scope="module")
def sent_corrections(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Corrections of 2024-07-11 (papers corrected and added; papers removed), each sent to one
    reader by the email channel into a Maildir (``tests/test_email_correction.py``)."""
    return {
        name: sent_correction(tmp_path_factory.mktemp(name), papers())
        for name, papers in (("longer", corrected_day.longer), ("shorter", corrected_day.shorter))
    }


def test_the_correction_emails_html_part_passes_the_nu_html_checker(
    sent_corrections: dict[str, bytes], tmp_path: Path
) -> None:
    vnu_command()
    pages = []
    for name, raw in sent_corrections.items():
        part = email.message_from_bytes(raw, policy=default).get_body(("html",))
        assert isinstance(part, EmailMessage)
        pages.append(tmp_path / f"{name}.html")
        pages[-1].write_text(part.get_content(), encoding="utf-8")
    errors = html_errors(pages)
    assert errors == [], "\n".join(errors[:20])


@pytest.mark.parametrize("name", ["longer", "shorter"])
def test_spamassassin_scores_a_correction_email_at_most_half_a_point(
    sent_corrections: dict[str, bytes], name: str, tmp_path: Path
) -> None:
    message = sent_corrections[name]
    assert b"List-Unsubscribe:" in message and b"Correction" in message  # the real thing
    report = spam_report(message, tmp_path / "home")
    assert report.score <= SPAM_LIMIT, f"{name}: {report.score} points\n{report.details}"
