"""The stand-ins for Hugging Face and arXiv are as strict as the real APIs, or tests against them
would pass code the real ones refuse: their shapes, their refusals, arXiv's pace."""

from __future__ import annotations

import datetime as dt
import time
import xml.etree.ElementTree as ET

import httpx

from tests.arxiv_standin import ArxivStandIn
from tests.hf_standin import DAY, HfStandIn, fixture

ATOM = "{http://www.w3.org/2005/Atom}"


def test_the_hf_fixture_has_the_real_answers_shape() -> None:
    for item in fixture():
        assert {"paper", "publishedAt", "title", "summary", "thumbnail", "numComments", "submittedBy"} <= set(
            item
        )
        paper = item["paper"]
        assert {"id", "authors", "publishedAt", "submittedOnDailyAt", "title", "summary", "upvotes"} <= set(
            paper
        )
        assert {"discussionId", "ai_summary", "ai_keywords", "submittedOnDailyBy"} <= set(paper)
        assert all({"_id", "name", "hidden"} <= set(author) for author in paper["authors"])
        assert isinstance(paper["upvotes"], int) and paper["submittedOnDailyAt"].startswith(DAY)


def test_hf_answers_a_day_an_empty_day_and_refuses_what_is_not_a_date_or_its_api() -> None:
    with HfStandIn() as hf:
        api = f"{hf.base_url}/api/daily_papers"
        assert [i["paper"]["id"] for i in httpx.get(api, params={"date": DAY}).json()] == [
            i["paper"]["id"] for i in fixture()
        ]
        assert httpx.get(api, params={"date": "2025-12-13"}).json() == []
        for bad in ("2025-13-11", "11-12-2025", "2025-12-1", "today"):
            refused = httpx.get(api, params={"date": bad})
            assert refused.status_code == 400 and "error" in refused.json()
        for wrong in (httpx.get(f"{hf.base_url}/api/daily-papers"), httpx.post(api)):
            assert wrong.status_code in (404, 405)
        assert [r.query.get("date") for r in hf.requests[:2]] == [DAY, "2025-12-13"]


def test_injected_faults_come_first_and_in_order() -> None:
    with HfStandIn() as hf:
        api = f"{hf.base_url}/api/daily_papers"
        hf.fail(429, retry_after=7)
        hf.answer(b"<!DOCTYPE html><title>502</title>", "text/html")
        first, second, third = (httpx.get(api, params={"date": DAY}) for _ in range(3))
        assert (first.status_code, first.headers["Retry-After"]) == (429, "7")
        assert second.headers["Content-Type"].startswith("text/html")
        assert third.status_code == 200 and len(third.json()) == len(fixture())


def test_arxiv_answers_asked_papers_in_its_own_order_with_versions() -> None:
    with ArxivStandIn(interval=0) as arxiv:
        api = f"{arxiv.base_url}/api/query"
        answer = httpx.get(api, params={"id_list": "2512.04030,2406.11837,2512.04030v1", "max_results": "5"})
        root = ET.fromstring(answer.content)
        ids = [e.findtext(f"{ATOM}id") for e in root.iter(f"{ATOM}entry")]
        # Sorted by arXiv, not as asked; no version asked: the latest (v2).
        assert ids == [
            "http://arxiv.org/abs/2406.11837v1",
            "http://arxiv.org/abs/2512.04030v1",
            "http://arxiv.org/abs/2512.04030v2",
        ]
        assert "\n" in (root.find(f"{ATOM}entry/{ATOM}title").text or "")  # titles broken over lines
        missing = ET.fromstring(httpx.get(api, params={"id_list": "2406.99999,2512.04030v9"}).content)
        assert list(missing.iter(f"{ATOM}entry")) == []  # no such paper, no such version: absent


def test_arxiv_returns_ten_entries_unless_max_results_says_more() -> None:
    from tests.arxiv_standin import Paper

    many = tuple(
        Paper(f"2512.{n:05d}", f"T{n}", "S", ("A",), dt.datetime(2025, 12, 3, tzinfo=dt.UTC))
        for n in range(12)
    )
    with ArxivStandIn(many, interval=0) as arxiv:
        ids = ",".join(p.base for p in many)
        default = ET.fromstring(httpx.get(f"{arxiv.base_url}/api/query", params={"id_list": ids}).content)
        assert len(list(default.iter(f"{ATOM}entry"))) == 10
        asked = {"id_list": ids, "max_results": "12"}
        everything = ET.fromstring(httpx.get(f"{arxiv.base_url}/api/query", params=asked).content)
        assert len(list(everything.iter(f"{ATOM}entry"))) == 12


def test_arxiv_refuses_an_id_it_cannot_read_with_its_error_feed() -> None:
    with ArxivStandIn(interval=0) as arxiv:
        refused = httpx.get(f"{arxiv.base_url}/api/query", params={"id_list": "2406.11837,1234.567"})
        assert refused.status_code == 400
        (entry,) = ET.fromstring(refused.content).iter(f"{ATOM}entry")
        assert entry.findtext(f"{ATOM}id", "").startswith("http://arxiv.org/api/errors#")
        assert entry.findtext(f"{ATOM}title") == "Error"
        assert entry.findtext(f"{ATOM}summary") == "incorrect id format for 1234.567"


def test_arxiv_answers_a_request_sooner_than_three_seconds_with_503_and_counts_it() -> None:
    with ArxivStandIn() as arxiv:
        api = f"{arxiv.base_url}/api/query"
        assert httpx.get(api, params={"id_list": "2406.11837"}).status_code == 200
        soon = httpx.get(api, params={"id_list": "2406.11837"})
        assert (soon.status_code, soon.headers["Retry-After"], arxiv.too_soon) == (503, "3", 1)
        time.sleep(3.05)
        assert httpx.get(api, params={"id_list": "2406.11837"}).status_code == 200
        assert arxiv.too_soon == 1
