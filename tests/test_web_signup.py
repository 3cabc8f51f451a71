"""Email sign-up through the real HTTP server: the form, the confirmation mail in the Maildir and
its link, the resend limit, refused forgeries (CSRF, tokens), hostile input, one-click unsubscribe."""

from __future__ import annotations

import asyncio
import datetime as dt
import mailbox
import re
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import httpx
import pytest
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner

from bot import subscriptions as store
from bot.archive.store import Archive
from bot.channels.base import Transient
from bot.channels.email.signup import Mailer
from bot.channels.email.tokens import CONFIRM, UNSUBSCRIBE, Signer
from bot.channels.web.app import make_app
from bot.config import DEFAULT_TEMPLATES
from bot.errors import NotFound
from bot.render.environment import Templates
from tests.test_web_app import KEY, Served, Site, serve_site, site_settings
from tests.test_web_signup_logic import altered

ADA = "ada@example.org"
CHECK = "Check your inbox"


@pytest.fixture
def site(seeded_sqlite: Archive, tmp_path: Path) -> Iterator[Site]:
    yield from serve_site(seeded_sqlite, tmp_path)


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, "the form has no CSRF token"
    return found[1]


def sign_up(http: httpx.Client, email: str, tags: str = "", **headers: str) -> httpx.Response:
    """As a browser does: load the form (its cookie and token), then post it."""
    token = csrf_of(http.get("/subscribe"))
    return http.post("/subscribe", data={"email": email, "tags": tags, "csrf": token}, headers=headers)


def inbox(maildir: Path) -> list[EmailMessage]:
    if not maildir.exists():
        return []
    box = mailbox.Maildir(maildir, create=False)
    messages = [mailbox_message(box.get_bytes(key)) for key in box.iterkeys()]
    return sorted(messages, key=lambda m: str(m["Date"]))


def mailbox_message(data: bytes) -> EmailMessage:
    import email

    parsed = email.message_from_bytes(data, policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def link_in(message: EmailMessage, path: str) -> str:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    links = re.findall(rf"https?://\S+/{path}/[\w.-]+", text.get_content())
    assert len(links) == 1, text.get_content()
    assert f'href="{links[0]}"' in html.get_content()  # the same link in the HTML part
    return links[0]


def status_of(archive: Archive, address: str) -> str | None:
    try:
        return store.get(archive, f"email:{address}").status
    except NotFound:
        return None


def test_sign_up_confirm_from_the_maildir_then_subscribed(site: Site) -> None:
    answer = sign_up(site.http, ADA, "vq diffusion")
    assert answer.status_code == 200 and CHECK in answer.text
    sub = store.get(site.archive, f"email:{ADA}")
    assert sub.status == "pending" and sub.tags == ("vq", "diffusion") and sub.confirm_sent is not None
    (message,) = inbox(site.maildir)
    assert message["To"] == ADA and message["Subject"] == "Confirm your Paperboy subscription"
    assert message["From"] == site.settings.email_from and message["Message-ID"].endswith("@127.0.0.1>")
    assert message["Date"] and message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    link = link_in(message, "confirm")
    assert link.startswith(f"{site.url}/confirm/")
    opened = httpx.get(link)  # as a mail client opens it: a fresh browser, no cookie
    assert opened.status_code == 200 and "You are subscribed" in opened.text and "#vq" in opened.text
    assert status_of(site.archive, ADA) == "active"
    again = httpx.get(link)
    assert again.status_code == 200 and "Already confirmed" in again.text
    assert status_of(site.archive, ADA) == "active"


def test_asking_again_resends_no_more_often_than_the_interval(site: Site) -> None:
    assert CHECK in sign_up(site.http, ADA).text
    first_sent = store.get(site.archive, f"email:{ADA}").confirm_sent
    for _ in range(3):
        answer = sign_up(site.http, ADA)
        assert answer.status_code == 200 and CHECK in answer.text  # the same words, no mail
    assert len(inbox(site.maildir)) == 1
    assert store.get(site.archive, f"email:{ADA}").confirm_sent == first_sent


def test_with_no_interval_each_request_resends(seeded_sqlite: Archive, tmp_path: Path) -> None:
    for site in serve_site(seeded_sqlite, tmp_path, PAPERBOY_CONFIRM_RESEND_MINUTES="0"):
        sign_up(site.http, ADA)
        sign_up(site.http, ADA)
        links = [link_in(m, "confirm") for m in inbox(site.maildir)]
        assert len(links) == 2
        assert httpx.get(links[0]).status_code == 200  # an earlier link still works
        assert status_of(site.archive, ADA) == "active"


def test_the_answer_never_tells_who_is_subscribed(site: Site) -> None:
    store.add(site.archive, "email:bob@example.org")
    new = sign_up(site.http, "cy@example.org")
    known = sign_up(site.http, "bob@example.org")
    repeated = sign_up(site.http, "cy@example.org")  # throttled
    assert new.status_code == known.status_code == repeated.status_code == 200
    assert new.text == repeated.text == known.text.replace("bob@", "cy@")
    assert status_of(site.archive, "bob@example.org") == "active"  # untouched
    reminder = [m for m in inbox(site.maildir) if m["To"] == "bob@example.org"]
    assert len(reminder) == 1 and reminder[0]["Subject"] == "You are already subscribed to Paperboy"
    assert "/confirm/" not in reminder[0].as_string()
    sign_up(site.http, "bob@example.org")
    assert len([m for m in inbox(site.maildir) if m["To"] == "bob@example.org"]) == 1  # no mail bombing


def test_a_cross_site_post_is_refused(site: Site) -> None:
    token = csrf_of(site.http.get("/subscribe"))
    data = {"email": ADA, "csrf": token}
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ):
        refused = site.http.post("/subscribe", data=data, headers=headers)
        assert refused.status_code == 403 and "another site" in refused.text, headers
    same = site.http.post(
        "/subscribe", data=data, headers={"Origin": site.url, "Sec-Fetch-Site": "same-origin"}
    )
    assert same.status_code == 200  # the same post from our own page goes through
    assert [m["To"] for m in inbox(site.maildir)] == [ADA]


def test_a_post_without_the_token_or_the_cookie_is_refused(site: Site) -> None:
    token = csrf_of(site.http.get("/subscribe"))
    missing = site.http.post("/subscribe", data={"email": ADA})
    assert missing.status_code == 403 and "security token" in missing.text
    no_cookie = httpx.post(f"{site.url}/subscribe", data={"email": ADA, "csrf": token})
    assert no_cookie.status_code == 403
    with httpx.Client(base_url=site.url) as other:  # a token from someone else's page
        other.get("/subscribe")
        mismatched = other.post("/subscribe", data={"email": ADA, "csrf": token})
    assert mismatched.status_code == 403 and "does not match" in mismatched.text
    forged = site.http.post("/subscribe", data={"email": ADA, "csrf": altered(token)})
    assert forged.status_code == 403
    assert status_of(site.archive, ADA) is None and inbox(site.maildir) == []


@pytest.mark.parametrize(
    ("email", "tags", "status", "says"),
    [
        ("", "", 400, "Give an email address"),
        ("a" * 250 + "@example.org", "", 400, "at most 254"),
        ("a@b.c\r\nBcc: victim@example.org", "", 400, "cannot contain line breaks"),
        ("ada@example.org\nBcc: x@y.z", "", 400, "cannot contain line breaks"),
        ('<script>alert("x")</script>@example.org', "", 400, "not a valid email address"),
        ("not-an-address", "", 400, "not a valid email address"),
        (ADA, "<b>bold</b>", 400, "is not a tag"),
        (ADA, "vqq", 400, "Did you mean #vq"),
        (ADA, "x " * 200, 400, "at most 300"),
        (ADA, " ".join(f"t{n}" for n in range(25)), 400, "at most 20 tags"),
    ],
)
def test_hostile_fields_get_a_page_that_says_what_is_wrong(
    site: Site, email: str, tags: str, status: int, says: str
) -> None:
    answer = sign_up(site.http, email, tags)
    assert answer.status_code == status and says in answer.text, answer.text[-2000:]
    assert "<script>" not in answer.text and "Traceback" not in answer.text
    assert 'name="csrf"' in answer.text  # the form is back, ready for a correction
    assert store.all_subscriptions(site.archive, kind="email") == [] and inbox(site.maildir) == []


def test_oversized_and_odd_bodies_are_refused(site: Site) -> None:
    token = csrf_of(site.http.get("/subscribe"))
    big = site.http.post("/subscribe", data={"email": ADA, "csrf": token, "pad": "x" * 20_000})
    assert big.status_code == 413 and "too large" in big.text

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds as the body arrives
        yield f"email={ADA}&csrf={token}&pad=".encode()
        for _ in range(100):
            yield b"y" * 1000

    streamed = site.http.post(
        "/subscribe", content=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert streamed.status_code == 413
    as_json = site.http.post("/subscribe", json={"email": ADA, "csrf": token})
    assert as_json.status_code == 415 and "web form" in as_json.text
    many = site.http.post("/subscribe", data={f"f{n}": "1" for n in range(20)} | {"csrf": token})
    assert many.status_code == 400 and "malformed" in many.text
    assert store.all_subscriptions(site.archive, kind="email") == [] and inbox(site.maildir) == []


def old_token(purpose: str, address: str, age: dt.timedelta) -> str:
    """A token signed ``age`` ago with the server's key (as if mailed back then)."""

    class Then(TimestampSigner):
        def get_timestamp(self) -> int:
            return int((dt.datetime.now(dt.UTC) - age).timestamp())

    return str(URLSafeTimedSerializer(KEY, salt=f"paperboy-{purpose}", signer=Then).dumps(address))


def test_an_expired_link_says_to_sign_up_again(site: Site) -> None:
    sign_up(site.http, ADA)
    hours = site.settings.confirm_hours
    expired = old_token(CONFIRM, ADA, dt.timedelta(hours=hours, minutes=5))
    answer = httpx.get(f"{site.url}/confirm/{expired}")
    assert answer.status_code == 400 and "expired" in answer.text and "Sign up again" in answer.text
    assert status_of(site.archive, ADA) == "pending"
    fresh = old_token(CONFIRM, ADA, dt.timedelta(hours=hours - 1))
    assert httpx.get(f"{site.url}/confirm/{fresh}").status_code == 200  # within the window: works
    assert status_of(site.archive, ADA) == "active"


def test_forged_and_altered_tokens_change_nothing(site: Site) -> None:
    sign_up(site.http, ADA)
    store.add(site.archive, "email:bob@example.org")
    genuine = link_in(inbox(site.maildir)[0], "confirm").rsplit("/", 1)[1]
    other_key = Signer("z" * 40)
    for token in (
        altered(genuine),
        other_key.sign(CONFIRM, ADA),  # signed with another key
        Signer(KEY).sign(UNSUBSCRIBE, ADA),  # an unsubscribe token is no confirmation
        "x" * 600,
    ):
        answer = httpx.get(f"{site.url}/confirm/{token}")
        assert answer.status_code == 400 and "not valid" in answer.text
    assert status_of(site.archive, ADA) == "pending"
    for token in (
        other_key.sign(UNSUBSCRIBE, "bob@example.org"),
        Signer(KEY).sign(CONFIRM, "bob@example.org"),
    ):
        refused = httpx.post(f"{site.url}/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
        assert refused.status_code == 400
    assert status_of(site.archive, "bob@example.org") == "active"


def test_one_click_unsubscribe_works_without_cookies(site: Site) -> None:
    store.add(site.archive, f"email:{ADA}")
    url = f"{site.url}/unsubscribe/{Signer(KEY).sign(UNSUBSCRIBE, ADA)}"
    assert httpx.post(url).status_code == 415  # not a form at all
    other = httpx.post(url, data={"List-Unsubscribe": "yes"})
    assert other.status_code == 400 and "List-Unsubscribe=One-Click" in other.text
    assert status_of(site.archive, ADA) == "active"
    # What a mail provider sends (RFC 8058): no cookie, no Origin, only the body.
    answer = httpx.post(url, data={"List-Unsubscribe": "One-Click"}, follow_redirects=False)
    assert answer.status_code == 200 and "is unsubscribed" in answer.text
    assert status_of(site.archive, ADA) is None
    twice = httpx.post(url, data={"List-Unsubscribe": "One-Click"})
    assert twice.status_code == 200 and "was not subscribed" in twice.text


def test_one_click_also_takes_multipart(site: Site) -> None:
    store.add(site.archive, f"email:{ADA}")
    url = f"{site.url}/unsubscribe/{Signer(KEY).sign(UNSUBSCRIBE, ADA)}"
    answer = httpx.post(url, files={"List-Unsubscribe": (None, "One-Click")})
    assert answer.status_code == 200 and status_of(site.archive, ADA) is None


def test_get_shows_one_button_and_changes_nothing(site: Site) -> None:
    store.add(site.archive, f"email:{ADA}")
    url = f"{site.url}/unsubscribe/{Signer(KEY).sign(UNSUBSCRIBE, ADA)}"
    page = httpx.get(url)
    assert page.status_code == 200 and ADA in page.text
    assert len(re.findall(r"<button", page.text.split("<main>")[1])) == 1
    assert '<form class="unsubscribe" method="post">' in page.text
    assert '<input type="hidden" name="List-Unsubscribe" value="One-Click">' in page.text
    assert status_of(site.archive, ADA) == "active"  # a link scanner's GET unsubscribes nobody
    bad = httpx.get(f"{site.url}/unsubscribe/nonsense")
    assert bad.status_code == 400 and "not valid" in bad.text


class FailingOnce:
    """A transport whose first delivery fails as an unreachable server does; then it records."""

    def __init__(self) -> None:
        self.failed = False
        self.sent: list[EmailMessage] = []

    async def deliver(self, message: object) -> None:
        assert isinstance(message, EmailMessage)
        if not self.failed:
            self.failed = True
            raise Transient("421 try again later")
        self.sent.append(message)

    async def close(self) -> None:
        pass


def test_a_mail_that_could_not_go_can_be_asked_for_again_at_once(
    seeded_sqlite: Archive, tmp_path: Path
) -> None:
    from tests.test_service import free_port

    port = free_port()
    settings = site_settings(tmp_path, port)
    transport = FailingOnce()
    mailer = Mailer(settings, Signer(KEY), transport, Templates(DEFAULT_TEMPLATES))
    with (
        Served(make_app(settings, seeded_sqlite, (), mailer), port) as served,
        httpx.Client(base_url=served.url) as http,
    ):
        failed = sign_up(http, ADA)
        assert failed.status_code == 503 and "could not send" in failed.text
        assert sign_up(http, ADA).status_code == 200  # not throttled by the mail that never left
    assert [m["To"] for m in transport.sent] == [ADA]


def test_without_a_mailer_there_is_no_sign_up(seeded_sqlite: Archive, tmp_path: Path) -> None:
    from tests.test_service import free_port

    port = free_port()
    settings = site_settings(tmp_path, port)
    with Served(make_app(settings, seeded_sqlite), port) as served:
        answer = httpx.get(f"{served.url}/subscribe")
    assert answer.status_code == 404 and "not set up" in answer.text


def test_a_newcomer_signs_up_gets_the_next_digest_and_leaves_in_one_click(site: Site) -> None:
    """The issue's whole promise: the form, the link from the Maildir, the next digest in the same
    Maildir (sent by the email channel), and its List-Unsubscribe one-click POST."""
    from bot.channels.email.sender import email_channel
    from scheduler.publish import Publisher

    sign_up(site.http, ADA)
    assert httpx.get(link_in(inbox(site.maildir)[0], "confirm")).status_code == 200
    channel = email_channel(site.settings, {"PAPERBOY_SECRET_KEY": KEY})
    publisher = Publisher(site.archive, site.settings, {"email": channel}, worker="test")
    tomorrow = dt.datetime.now(site.settings.timezone).date() + dt.timedelta(days=1)
    report = asyncio.run(publisher.publish(tomorrow, kinds=["email"]))
    assert report.audience == 1 and report.fanout is not None and report.fanout.sent == 1
    digest = [m for m in inbox(site.maildir) if m["List-Unsubscribe"]]
    assert len(digest) == 1 and digest[0]["To"] == ADA
    assert digest[0]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    found = re.search(r"<(http[^>]+/unsubscribe/[^>]+)>", digest[0]["List-Unsubscribe"])
    assert found and found[1].startswith(site.url)
    left = httpx.post(found[1], data={"List-Unsubscribe": "One-Click"}, follow_redirects=False)
    assert left.status_code == 200 and status_of(site.archive, ADA) is None


def test_one_client_asking_for_many_addresses_is_slowed_down(seeded_sqlite: Archive, tmp_path: Path) -> None:
    """The per-address interval stops mail to one inbox; a per-client limit stops one client
    mailing a list of strangers through the form."""
    for site in serve_site(seeded_sqlite, tmp_path, PAPERBOY_SIGNUPS_PER_HOUR="3"):
        for number in range(3):
            assert CHECK in sign_up(site.http, f"reader{number}@example.org").text
        refused = sign_up(site.http, "victim@example.org")
        assert refused.status_code == 429 and "Too many sign-ups" in refused.text
        assert 1 <= int(refused.headers["retry-after"]) <= 3600
        assert status_of(site.archive, "victim@example.org") is None
        assert len(inbox(site.maildir)) == 3
