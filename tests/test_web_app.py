"""The web server through real HTTP: httpx against uvicorn on 127.0.0.1, as feed readers and
browsers reach it. Feeds (types, ETag/Last-Modified, 304, gzip), the OPML list, search in English
and Korean, health, the archive's files, security headers and error pages."""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any

import feedparser
import httpx
import pytest
from starlette.routing import Route
from starlette.types import ASGIApp

from bot.archive.store import Archive
from bot.channels.email.maildir import MaildirTransport
from bot.channels.email.signup import Mailer
from bot.channels.email.tokens import Signer
from bot.channels.web.app import make_app
from bot.channels.web.export import export_site
from bot.channels.web.server import WebServer
from bot.config import DEFAULT_TEMPLATES, Settings
from bot.errors import InputError
from bot.render.environment import Templates
from tests.test_service import free_port

KEY = "k" * 40


class Served:
    """An app answering on 127.0.0.1 from a thread of its own (so sync tests and Playwright can
    talk to it as any client would)."""

    def __init__(self, app: ASGIApp, port: int = 0) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server = WebServer(app, "127.0.0.1", port)

    def __enter__(self) -> Served:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(30)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)
        self.loop.close()

    @property
    def url(self) -> str:
        return self.server.url


@dataclass
class Site:
    url: str
    settings: Settings
    archive: Archive
    mailer: Mailer
    maildir: Path
    http: httpx.Client


def site_settings(tmp_path: Path, port: int, **values: Any) -> Settings:
    env = {
        "PAPERBOY_DATA_DIR": str(tmp_path / "data"),
        "PAPERBOY_SITE_DIR": str(tmp_path / "site"),
        "PAPERBOY_BASE_URL": f"http://127.0.0.1:{port}",
        **values,
    }
    return Settings.from_env(env)


@pytest.fixture
def site(seeded_sqlite: Archive, tmp_path: Path) -> Iterator[Site]:
    yield from serve_site(seeded_sqlite, tmp_path)


def serve_site(archive: Archive, tmp_path: Path, **values: Any) -> Iterator[Site]:
    port = free_port()
    settings = site_settings(tmp_path, port, **values)
    templates = Templates(DEFAULT_TEMPLATES)
    export_site(archive, templates, settings.site_dir, base_url=settings.base_url, site_url=settings.site_url)
    maildir = tmp_path / "data" / "maildir"
    mailer = Mailer(settings, Signer(KEY), MaildirTransport(maildir), templates)
    with (
        Served(make_app(settings, archive, (), mailer), port) as served,
        httpx.Client(base_url=served.url, timeout=30) as http,
    ):
        yield Site(served.url, settings, archive, mailer, maildir, http)


def test_feeds_have_their_types_and_parse(site: Site) -> None:
    for path, media, version in [
        ("/feed.xml", "application/rss+xml", "rss20"),
        ("/atom.xml", "application/atom+xml", "atom10"),
        ("/tags/vq.xml", "application/rss+xml", "rss20"),
        ("/tags/vq.atom", "application/atom+xml", "atom10"),
    ]:
        response = site.http.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].split(";")[0] == media, path
        assert response.headers["x-content-type-options"] == "nosniff"
        parsed = feedparser.parse(response.content)
        assert not parsed.bozo and parsed.version == version, path
        assert parsed.entries, path
    vq = feedparser.parse(site.http.get("/tags/vq.xml").content)
    assert {"vq"} <= {t.term for e in vq.entries for t in e.tags}


def test_a_feed_is_304_when_the_reader_has_it(site: Site) -> None:
    first = site.http.get("/feed.xml", headers={"Accept-Encoding": "identity"})
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert etag.startswith('"') and parsedate_to_datetime(modified).tzinfo is not None
    again = site.http.get("/feed.xml", headers={"If-None-Match": etag, "Accept-Encoding": "identity"})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    since = site.http.get("/feed.xml", headers={"If-Modified-Since": modified})
    assert since.status_code == 304
    earlier = format_datetime(parsedate_to_datetime(modified) - dt.timedelta(seconds=1), usegmt=True)
    assert site.http.get("/feed.xml", headers={"If-Modified-Since": earlier}).status_code == 200
    other = site.http.get("/feed.xml", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.content
    # If-None-Match decides when both are sent (RFC 9110): a stale tag means a fresh copy.
    both = site.http.get("/feed.xml", headers={"If-None-Match": '"old"', "If-Modified-Since": modified})
    assert both.status_code == 200


def test_a_changed_feed_gets_a_new_etag(site: Site) -> None:
    before = site.http.get("/atom.xml").headers["etag"]
    feed = site.settings.site_dir / "atom.xml"
    feed.write_bytes(feed.read_bytes().replace(b"Paperboy", b"Paperboy!", 1))
    after = site.http.get("/atom.xml", headers={"If-None-Match": before})
    assert after.status_code == 200 and after.headers["etag"] != before
    assert b"Paperboy!" in after.content


def test_feeds_are_gzipped_for_readers_that_take_gzip(site: Site) -> None:
    plain = site.http.get("/feed.xml", headers={"Accept-Encoding": "identity"})
    raw = httpx.get(f"{site.url}/feed.xml", headers={"Accept-Encoding": "gzip"})  # httpx decodes .content
    assert raw.headers["content-encoding"] == "gzip" and "Accept-Encoding" in raw.headers["vary"]
    assert raw.content == plain.content
    with httpx.stream("GET", f"{site.url}/feed.xml", headers={"Accept-Encoding": "gzip"}) as stream:
        wire = b"".join(stream.iter_raw())
    assert gzip.decompress(wire) == plain.content and len(wire) < len(plain.content) / 2
    assert "content-encoding" not in plain.headers
    refused = site.http.get("/feed.xml", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in refused.headers
    # The gzipped copy has its own tag, and either answers a conditional request.
    assert raw.headers["etag"] != plain.headers["etag"]
    for tag in (raw.headers["etag"], plain.headers["etag"]):
        assert site.http.get("/feed.xml", headers={"If-None-Match": tag}).status_code == 304


def test_the_opml_lists_the_main_feed_and_every_tag_feed(site: Site) -> None:
    response = site.http.get("/feeds.opml")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/x-opml")
    root = ET.fromstring(response.content)
    urls = [o.get("xmlUrl") for o in root.iter("outline") if o.get("xmlUrl")]
    tags = sorted(p.stem for p in (site.settings.site_dir / "tags").glob("*.xml"))
    assert len(tags) > 10 and "vq" in tags
    assert urls == [f"{site.url}/feed.xml", *(f"{site.url}/tags/{t}.xml" for t in tags)]
    for url in urls[:3] + urls[-2:]:
        assert site.http.get(url).status_code == 200  # each one is really there


def test_search_finds_english_and_korean(site: Site) -> None:
    english = site.http.get("/search", params={"q": "codebook"})
    assert english.status_code == 200
    assert "Scaling the Codebook Size of VQGAN" in english.text
    assert 'href="papers/scaling-the-codebook-size-of-vqgan-to-e718ffe0.html"' in english.text
    korean = site.http.get("/search", params={"q": "코드북"})
    assert korean.status_code == 200 and "Scaling the Codebook Size of VQGAN" in korean.text
    none = site.http.get("/search", params={"q": "zzyzxqq"})
    assert none.status_code == 200 and "No published paper matches" in none.text
    assert site.http.get(f"{site.url}/papers/scaling-the-codebook-size-of-vqgan-to-e718ffe0.html").is_success


def test_search_html_is_the_servers_own_search_not_the_exported_page(site: Site) -> None:
    # The export wrote search.html (the page that searches in the browser) into the site folder;
    # every page's form sends there, and the server answers it itself, with no script.
    assert (site.settings.site_dir / "search.html").exists()
    index = site.http.get("/")
    assert 'action="search.html"' in index.text
    paper = site.http.get("/papers/scaling-the-codebook-size-of-vqgan-to-e718ffe0.html")
    assert 'action="../search.html"' in paper.text
    for query in ("코드북", "codebook"):
        found = site.http.get("/search.html", params={"q": query})
        assert found.status_code == 200
        assert "Scaling the Codebook Size of VQGAN" in found.text, query
        assert "<script" not in found.text and "search.js" not in found.text
        assert "script-src" not in found.headers["content-security-policy"]
    empty = site.http.get("/search.html", params={"q": " "})
    assert empty.status_code == 400 and "Type a word or two" in empty.text
    bare = site.http.get("/search.html")
    assert bare.status_code == 200 and "<script" not in bare.text


def test_search_leaves_out_papers_still_in_the_queue(site: Site) -> None:
    # MultiFusion waits in the undated queue: the archive knows it, the public site does not yet.
    found = site.http.get("/search", params={"q": "MultiFusion"})
    assert found.status_code == 200 and "multifusion-d558e5e7" not in found.text


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("", "Type a word or two"),
        ("   ", "Type a word or two"),
        ("x" * 201, "keep it under 200"),
        ("x" * 5000, "keep it under 200"),
        ("!!! ???", "at least one word"),
        (" ".join(f"w{n}" for n in range(13)), "at most 12 words"),
    ],
)
def test_a_bad_search_is_a_400_page_that_says_why(site: Site, query: str, says: str) -> None:
    response = site.http.get("/search", params={"q": query})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert says in response.text and "Traceback" not in response.text


def test_a_search_for_markup_shows_it_as_text(site: Site) -> None:
    response = site.http.get("/search", params={"q": '<script>alert("x")</script>'})
    assert "<script>" not in response.text and "&lt;script&gt;" in response.text


def test_html_pages_carry_the_security_headers(site: Site) -> None:
    for path in ("/", "/search?q=vq", "/search.html?q=vq", "/subscribe", "/nowhere", "/days/2024-07-11.html"):
        response = site.http.get(path)
        assert response.headers["content-type"].startswith("text/html"), path
        policy = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy, path
        assert "script-src" not in policy and "default-src 'none'" in policy, path  # no script at all
        assert response.headers["x-frame-options"] == "DENY", path
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["referrer-policy"] == "same-origin", path


def test_the_archive_is_served_and_nothing_outside_it(site: Site, tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("not for the web")
    index = site.http.get("/")
    assert index.status_code == 200 and "Every day" in index.text
    assert site.http.get("/tags/").status_code == 200
    assert site.http.get("/style.css").headers["content-type"].startswith("text/css")
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/tags/..%2f..%2fsecret.txt", "/tags/%2e%2e.xml"):
        response = site.http.get(path)
        assert response.status_code == 404 and "not for the web" not in response.text, path
    # The site's record of what it was built from is a file of the folder, not a page of the site.
    assert (site.settings.site_dir / ".paperboy-site" / "site.json").is_file()
    for path in ("/.paperboy-site/site.json", "/.paperboy-site/", "/tags/.hidden.html"):
        assert site.http.get(path).status_code == 404, path


def test_a_missing_page_is_a_404_page(site: Site) -> None:
    response = site.http.get("/no/such/page.html")
    assert response.status_code == 404 and "There is no page at this address" in response.text
    assert 'href="../../index.html"' in response.text  # relative links still lead home
    feed = site.http.get("/tags/no-such-tag.xml")
    assert feed.status_code == 404 and "feeds.opml" in feed.text
    wrong = site.http.post("/search", data={"q": "x"})
    assert wrong.status_code == 405 and "Traceback" not in wrong.text


def test_health_checks_the_database(site: Site) -> None:
    response = site.http.get("/healthz")
    assert response.status_code == 200 and response.text == "ok\n"
    site.archive.engine.dispose()
    with site.archive.engine.begin() as conn:
        from sqlalchemy import text

        conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    stale = site.http.get("/healthz")
    assert stale.status_code == 503 and "paperboy db upgrade" in stale.text


def test_a_taken_port_is_a_clear_error(site: Site) -> None:
    port = int(site.url.rsplit(":", 1)[1])
    app = make_app(site.settings, site.archive)

    async def clash() -> None:
        await WebServer(app, "127.0.0.1", port).start()

    with pytest.raises(InputError, match=f"cannot listen on 127.0.0.1:{port}.*PAPERBOY_PORT"):
        asyncio.run(clash())


def raw_get(url: str, target: str) -> tuple[int, bytes]:
    """A request line sent as written: no client tidies ``..`` out of it first."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_dot_dot_in_the_raw_request_line_stays_inside_the_site(site: Site, tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("not for the web")
    for target in (
        "/../secret.txt",
        "/tags/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/tags/..%2f..%2fsecret.txt",
    ):
        status, body = raw_get(site.url, target)
        assert status == 404 and b"not for the web" not in body, target
    status, body = raw_get(site.url, "/tags/../index.html")  # inside the site: fine
    assert status == 200 and b"Every day" in body


def test_paperboy_serve_answers_and_stops_cleanly_on_sigterm(seeded_sqlite: Archive, tmp_path: Path) -> None:
    port = free_port()
    settings = site_settings(tmp_path, port)
    export_site(
        seeded_sqlite,
        Templates(DEFAULT_TEMPLATES),
        settings.site_dir,
        base_url=settings.base_url,
        site_url=settings.site_url,
    )
    env = {
        **os.environ,
        "PAPERBOY_DATABASE_URL": str(seeded_sqlite.engine.url),
        "PAPERBOY_DATA_DIR": str(tmp_path / "data"),
        "PAPERBOY_SITE_DIR": str(settings.site_dir),
        "PAPERBOY_PORT": str(port),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        health = None
        for _ in range(300):
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert health is not None and health.status_code == 200 and health.text == "ok\n"
        assert httpx.get(f"http://127.0.0.1:{port}/tags/vq.atom").status_code == 200
        assert "Check your inbox" not in httpx.get(f"http://127.0.0.1:{port}/subscribe").text
        assert 'name="csrf"' in httpx.get(f"http://127.0.0.1:{port}/subscribe").text  # sign-up is on
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, output.decode()
    assert f"serving {settings.site_dir} on http://127.0.0.1:{port}" in output.decode()


def test_a_failure_inside_is_a_500_page_without_a_traceback(seeded_sqlite: Archive, tmp_path: Path) -> None:
    async def broken(request: Any) -> Any:
        raise RuntimeError("secret internals")

    port = free_port()
    settings = site_settings(tmp_path, port)
    app = make_app(settings, seeded_sqlite, [Route("/broken", broken)])
    with Served(app, port) as served:
        response = httpx.get(f"{served.url}/broken")
    assert response.status_code == 500 and "Something went wrong" in response.text
    assert "secret internals" not in response.text and "Traceback" not in response.text
    assert response.headers["content-security-policy"]


def test_head_on_a_feed_answers_headers_only(site: Site) -> None:
    response = site.http.head("/feed.xml")
    assert response.status_code == 200 and response.content == b""
    assert response.headers["etag"] and response.headers["content-type"].startswith("application/rss+xml")
