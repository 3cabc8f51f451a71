"""The exported site's search in headless Chromium, with the export served as plain files by
Python's http.server (as GitHub Pages or S3 serve it: no Paperboy code answers), from a
subfolder as a GitHub Pages project site is. search.html runs Pagefind over the index that
`export-site` built; Paperboy's own server answers search.html itself (tests/test_web_app.py)."""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from bot.archive.search import search as server_search
from bot.archive.store import open_archive
from tests.test_web_browser import PHONE, blank, browser, site  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser
VQGAN = "Scaling the Codebook Size of VQGAN to 100,000 with a Utilization Rate of 99%"
VQGAN_PAGE = "papers/scaling-the-codebook-size-of-vqgan-to-e718ffe0.html"


class _Files(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def static_site(site: Path) -> Iterator[str]:  # noqa: F811
    """The export's address on a plain file server, one folder down (…/site/)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Files, directory=str(site.parent)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{site.name}"
    server.shutdown()
    server.server_close()
    thread.join(30)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:  # noqa: F811
    opened = browser.new_page(viewport=PHONE)
    opened.errors = []
    opened.on(
        "console", lambda message: opened.errors.append(message.text) if message.type == "error" else None
    )
    opened.on("pageerror", lambda error: opened.errors.append(str(error)))
    opened.on("dialog", lambda dialog: opened.errors.append(f"dialog: {dialog.message}"))
    yield opened
    opened.close()


def results(page: Any) -> list[tuple[str, str]]:
    """(title, the address it links to) of each result, once the search has answered."""
    page.wait_for_selector('#search-results[aria-busy="false"]', state="attached", timeout=20_000)
    return [
        (link.inner_text(), link.evaluate("a => a.href"))
        for link in page.locator("#search-results li > a").all()
    ]


def search(page: Any, base: str, query: str) -> list[tuple[str, str]]:
    page.goto(f"{base}/search.html?q={quote(query)}")
    return results(page)


def test_korean_finds_the_vqgan_paper_through_its_particles(page: Any, static_site: str, site: Path) -> None:  # noqa: F811
    # The VQGAN paper's commentary says 코드북을 and 코드북에, never 코드북 alone: Pagefind's
    # prefix match on the query's words is what finds it.
    text = (site / VQGAN_PAGE).read_text()
    assert "코드북을" in text and "코드북에" in text
    assert set(re.findall("코드북(.)", text)) == {"을", "에"}
    assert search(page, static_site, "코드북") == [(VQGAN, f"{static_site}/{VQGAN_PAGE}")]
    assert page.inner_text("h1") == "Search 1 paper"
    assert page.locator("#search-results mark").first.inner_text() in ("코드북을", "코드북에")
    for query in ("코드북 학습", "VQGAN 코드북"):  # 학습한 in the commentary: a particle again
        assert (VQGAN, f"{static_site}/{VQGAN_PAGE}") in search(page, static_site, query), query
    assert page.errors == []


def test_english_search_matches_every_word_as_the_server_does(
    page: Any,
    static_site: str,
    site: Path,  # noqa: F811
) -> None:
    # Every word must match, as on the server. The VQGAN paper speaks of "image quantization" and
    # never says "vector", so `vector quantization` finds the one paper with both words.
    assert "vector" not in (site / VQGAN_PAGE).read_text().lower()
    with open_archive(f"sqlite:///{site.parent}/archive.db", migrate=False) as archive:
        for query in ("vector quantization", "quantization", "codebook", "코드북", "Nemotron 데이터"):
            found = {title for title, _ in search(page, static_site, query)}
            published = {paper.title for paper in server_search(archive, query, 60).papers if paper.date}
            assert found == published, query
            assert found, query
    assert {title for title, _ in search(page, static_site, "vector quantization")} == {
        "Autoregressive Image Generation without Vector Quantization"
    }
    assert VQGAN in {title for title, _ in search(page, static_site, "quantization")}
    assert page.errors == []


def partial_results(page: Any) -> list[str]:
    page.wait_for_selector('#search-results[aria-busy="false"]', state="attached", timeout=20_000)
    return [link.inner_text() for link in page.locator("#search-partial li > a").all()]


def test_vector_quantization_also_finds_the_vqgan_paper_among_some_of_the_words(
    page: Any, static_site: str
) -> None:
    """A reader typing `vector quantization` is after VQ papers: the one with both words comes
    first; VQGAN's ("image quantization", a VQ codebook) is listed under the papers matching some
    of the words."""
    assert search(page, static_site, "vector quantization")[0][0].startswith("Autoregressive Image")
    some = partial_results(page)
    assert VQGAN in some and page.is_visible("#search-partial-heading")
    assert "Autoregressive Image Generation without Vector Quantization" not in some  # listed above
    # One word: no second list.
    search(page, static_site, "codebook")
    assert partial_results(page) == [] and not page.is_visible("#search-partial-heading")
    # No paper has both words: the first list is empty, and the second explains itself.
    assert search(page, static_site, "codebook Nemotron") == []
    assert page.inner_text("#search-status") == (
        "No published paper matches every word of “codebook Nemotron”. Below, papers that match some of them."
    )
    assert VQGAN in partial_results(page)
    assert page.errors == []


def test_the_search_form_of_any_page_leads_to_the_paper(page: Any, static_site: str) -> None:
    page.goto(f"{static_site}/days/2024-06-18.html")
    page.fill("header form.search input[name=q]", "코드북")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{static_site}/search.html?q=*")
    assert (VQGAN, f"{static_site}/{VQGAN_PAGE}") in results(page)
    assert page.input_value("form.search-page input[name=q]") == "코드북"  # the query stays in the box
    assert page.title() == "코드북 · Search · Paperboy"
    result = page.locator("#search-results li").first
    assert "#vq" in result.inner_text() and "2024-06-18" in result.inner_text()
    assert not blank(page.screenshot())
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    result.get_by_role("link", name=VQGAN).click()
    page.wait_for_url(f"{static_site}/{VQGAN_PAGE}")
    assert page.inner_text("h1") == VQGAN
    assert page.errors == []  # no policy violation, no missing file, no script error


def test_a_papers_text_shows_as_text_in_results(page: Any, static_site: str) -> None:
    found = search(page, static_site, "alert")
    title = '<script>alert("x")</script> & <0.5% of *stars* _under_ `tick`'
    assert found == [(title, f"{static_site}/papers/html-like-0001.html")]
    assert page.locator("main script").count() == 0
    assert '<script>alert("x")</script>' in page.inner_text("#search-results .snippet")
    assert page.errors == []  # no alert() dialog ran


def test_a_common_word_lists_the_best_30(page: Any, static_site: str) -> None:
    assert len(search(page, static_site, "the")) == 30
    counted = re.fullmatch(r"Search (\d+) papers", page.inner_text("h1"))
    assert counted and int(counted.group(1)) > 30  # the count is of every match, not of those shown
    assert page.inner_text("#search-status") == "The best 30 are shown: add a word to narrow the search."


def test_no_match_and_no_words_say_so(page: Any, static_site: str) -> None:
    assert search(page, static_site, "zzyzxqq") == []
    assert page.inner_text("#search-status") == "No published paper matches every word of “zzyzxqq”."
    assert page.inner_text("h1") == "Search 0 papers"
    assert search(page, static_site, "   ") == []
    assert page.inner_text("#search-status") == "Type a word or two to search for."
    page.goto(f"{static_site}/search.html")
    assert results(page) == [] and not page.is_visible("#search-status")
    assert page.errors == []


def test_without_javascript_the_page_says_what_to_do(browser: Any, static_site: str) -> None:  # noqa: F811
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(f"{static_site}/search.html?q=%EC%BD%94%EB%93%9C%EB%B6%81")
        status = page.inner_text("#search-status")
        assert "needs JavaScript" in status and "by day" in status and "by tag" in status
        page.get_by_role("link", name="by tag").click()
        page.wait_for_url(f"{static_site}/tags/index.html")
    finally:
        context.close()


def test_opened_from_a_folder_the_page_says_it_needs_a_server(page: Any, site: Path) -> None:  # noqa: F811
    page.goto((site / "search.html").as_uri() + "?q=vq")  # a module script cannot load from file://
    page.wait_for_load_state("load")
    assert "served over http(s)" in page.inner_text("#search-status")
