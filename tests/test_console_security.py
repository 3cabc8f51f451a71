"""The console's gate, through real HTTP: nothing under /admin answers without a session, a post
needs its session's CSRF token, failed logins lock an address out, a login makes a new session
id and a logout kills it, and the password is set with ``paperboy admin set-password``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot import subscriptions as store
from bot.archive.schema import admin_audit
from bot.archive.store import Archive
from bot.channels.web.console.app import COOKIE
from tests.console_site import PASSWORD, Console, serve_console

PAGES = [
    "",
    "/",
    "/deliveries",
    "/subscribers",
    "/subscribers.csv",
    "/day",
    "/day/email",
    "/day/web",
    "/templates",
    "/templates/check",
    "/deliveries/retry",
    "/subscribers/act",
    "/day/publish",
    "/day/publish/confirm",
    "/logout",
]
VARIANTS = [
    *PAGES,
    *(p + "/" for p in PAGES if p not in ("", "/")),
    "/Deliveries",
    "/SUBSCRIBERS",
    "//subscribers",
]
SECRET = "reader@example.org"


@pytest.fixture
def console(seeded: Archive, tmp_path: Path) -> Iterator[Console]:
    """On SQLite and on PostgreSQL (``seeded`` is parametrized by engine)."""
    yield from serve_console(seeded, tmp_path)


def _no_console_content(response: httpx.Response) -> None:
    assert SECRET not in response.text and "Log out" not in response.text, response.text[:300]


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
def test_nothing_answers_without_a_session(console: Console, method: str) -> None:
    prefixes = ["/admin", "/ADMIN", "/Admin"]
    for prefix in prefixes:
        for rest in VARIANTS:
            path = prefix + rest
            response = console.http.request(
                method, path, data={"id": "1", "action": "remove"} if method == "POST" else None
            )
            _no_console_content(response)
            if prefix == "/admin" and method in ("GET", "HEAD"):
                assert response.status_code == 303 and response.headers["location"].endswith(
                    "/admin/login"
                ), path
            elif prefix == "/admin":
                assert response.status_code == 403, (path, response.status_code)
            else:
                assert response.status_code in (404, 405), (path, response.status_code)  # not the console
    assert store.get(console.archive, f"email:{SECRET}").status == "active"  # the posts changed nothing


def test_a_forged_cookie_is_no_session(console: Console) -> None:
    console.http.cookies.set(COOKIE, "x" * 43, path="/admin")
    response = console.http.get("/admin/subscribers")
    assert response.status_code == 303
    _no_console_content(response)


def test_login_sets_a_strict_httponly_cookie_and_a_new_id_each_time(console: Console) -> None:
    response = console.login()
    assert response.status_code == 303
    header = response.headers["set-cookie"].lower()
    assert "httponly" in header and "samesite=strict" in header and "path=/admin" in header
    assert "secure" not in header  # PAPERBOY_BASE_URL is http here
    first = console.http.cookies[COOKIE]
    assert SECRET in console.http.get("/admin/subscribers?kind=email").text
    again = console.login()  # logging in with a session already open
    assert again.status_code == 303
    second = console.http.cookies[COOKIE]
    assert second != first
    with httpx.Client(base_url=console.url) as other:
        other.cookies.set(COOKIE, first, path="/admin")
        assert other.get("/admin/").status_code == 303  # the old id died with the new login


def test_secure_cookie_when_the_base_url_is_https(seeded_sqlite: Archive, tmp_path: Path) -> None:
    served = serve_console(seeded_sqlite, tmp_path, PAPERBOY_BASE_URL="https://papers.example.org")
    console = next(served)
    try:
        response = console.login()
        assert "secure" in response.headers["set-cookie"].lower()
    finally:
        served.close()


def test_a_wrong_password_is_refused(console: Console) -> None:
    response = console.login("not the password")
    assert response.status_code == 401 and "not the console" in response.text
    assert COOKIE not in console.http.cookies


def test_posts_need_the_sessions_csrf_token(console: Console) -> None:
    console.login()
    sub = store.get(console.archive, f"email:{SECRET}")
    for data in (
        {"id": str(sub.id), "action": "deactivate"},
        {"id": str(sub.id), "action": "deactivate", "csrf": "wrong"},
    ):
        response = console.http.post("/admin/subscribers/act", data=data)
        assert response.status_code == 403
        assert store.get(console.archive, f"email:{SECRET}").status == "active"
    token = console.csrf()
    cross = console.http.post(
        "/admin/subscribers/act",
        data={"id": str(sub.id), "action": "deactivate", "csrf": token},
        headers={"Origin": "https://evil.example"},
    )
    assert cross.status_code == 403 and store.get(console.archive, f"email:{SECRET}").status == "active"
    done = console.http.post(
        "/admin/subscribers/act", data={"id": str(sub.id), "action": "deactivate", "csrf": token}
    )
    assert done.status_code == 200 and "active → paused" in done.text
    assert store.get(console.archive, f"email:{SECRET}").status == "paused"
    with console.archive.engine.connect() as conn:
        actions = [
            (row.action, row.detail) for row in conn.execute(select(admin_audit).order_by(admin_audit.c.id))
        ]
    assert actions[0][0] == "login"
    assert actions[-1][0] == "deactivate" and '"status_after": "paused"' in actions[-1][1]


def test_ten_failures_lock_the_address_out_for_fifteen_minutes(console: Console) -> None:
    for attempt in range(9):
        assert console.login("wrong").status_code == 401, attempt
    locked = console.login("wrong")
    assert locked.status_code == 429 and "Too many failed logins" in locked.text
    assert console.login(PASSWORD).status_code == 429  # even the right password, while locked
    console.clock.now += dt.timedelta(minutes=14)
    assert console.login(PASSWORD).status_code == 429
    console.clock.now += dt.timedelta(minutes=2)
    assert console.login(PASSWORD).status_code == 303


def test_a_logged_out_cookie_is_dead(console: Console) -> None:
    console.login()
    cookie = console.http.cookies[COOKIE]
    response = console.http.post("/admin/logout", data={"csrf": console.csrf()})
    assert response.status_code == 303
    with httpx.Client(base_url=console.url) as replay:
        replay.cookies.set(COOKIE, cookie, path="/admin")
        page = replay.get("/admin/subscribers")
        assert page.status_code == 303
        _no_console_content(page)


def test_the_console_is_off_without_a_password(seeded_sqlite: Archive, tmp_path: Path) -> None:
    served = serve_console(seeded_sqlite, tmp_path, password=False)
    console = next(served)
    try:
        for path in ("/admin", "/admin/", "/admin/login", "/admin/subscribers"):
            response = console.http.get(path)
            assert response.status_code == 404 and "paperboy admin set-password" in response.text
            _no_console_content(response)
        assert console.http.post("/admin/login", data={"password": ""}).status_code == 404
    finally:
        served.close()


def test_set_password_stores_a_hash_the_console_accepts(
    run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from bot.channels.web.console import passwords

    monkeypatch.setenv("PAPERBOY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PAPERBOY_ADMIN_PASSWORD_HASH", raising=False)
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("a long passphrase\n"))
    done = run_cli("admin", "set-password", "--stdin")
    assert done.code == 0, done.err
    stored = (tmp_path / "data" / passwords.FILE).read_text().strip()
    assert stored.startswith("$argon2id$") and "a long passphrase" not in stored
    assert passwords.verify(stored, "a long passphrase") and not passwords.verify(stored, "another")
    assert (tmp_path / "data" / passwords.FILE).stat().st_mode & 0o077 == 0
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("short\n"))
    refused = run_cli("admin", "set-password", "--stdin", "--print")
    assert refused.code == 2 and "at least 10" in refused.err and refused.out == ""


def test_a_malformed_hash_stops_every_command_at_start(
    run_cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PAPERBOY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PAPERBOY_ADMIN_PASSWORD_HASH", "hunter2")
    done = run_cli("tags")
    assert done.code == 2
    assert (
        done.err.strip().count("\n") == 0 and "PAPERBOY_ADMIN_PASSWORD_HASH is not an argon2 hash" in done.err
    )
    assert "hunter2" not in done.err
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("a long passphrase\n"))
    monkeypatch.delenv("PAPERBOY_ADMIN_PASSWORD_HASH")
    printed = run_cli("admin", "set-password", "--stdin", "--print")
    assert printed.code == 0 and printed.out.startswith("$argon2id$")
    monkeypatch.setenv("PAPERBOY_ADMIN_PASSWORD_HASH", printed.out.strip())
    assert run_cli("tags").code == 0
