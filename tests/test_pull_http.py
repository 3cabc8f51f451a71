"""Asking a source: retries with backoff, Retry-After waited out, timeouts, and one line for each
way a source can fail (down, too slow, refusing, answering something else); never a retry for
an answer that will not change."""

from __future__ import annotations

import datetime as dt
import socket
import time

import pytest

from bot.pull import hf
from bot.pull.http import ATTEMPTS, Source, SourceError, retry_after, user_agent
from tests.hf_standin import DAY, HfStandIn

DATE = dt.date.fromisoformat(DAY)


def source(base_url: str, *, timeout: float = 5.0, sleeps: list[float] | None = None) -> Source:
    def sleep(seconds: float) -> None:
        if sleeps is not None:
            sleeps.append(seconds)
        time.sleep(seconds)

    return Source(
        "Hugging Face", base_url, timeout, user_agent("https://papers.example"), sleep=sleep, backoff=0.2
    )


def test_a_request_names_paperboy_and_the_archive() -> None:
    with HfStandIn() as stand_in:
        assert len(hf.daily_papers(source(stand_in.base_url), DATE)) == 4
    (request,) = stand_in.requests
    assert request.user_agent.startswith("Paperboy/") and "+https://papers.example" in request.user_agent
    assert request.query == {"date": DAY}


def test_retry_after_is_waited_out_before_the_next_try() -> None:
    sleeps: list[float] = []
    with HfStandIn() as stand_in:
        stand_in.fail(429, retry_after=1)
        stand_in.fail(503, retry_after=1)
        assert len(hf.daily_papers(source(stand_in.base_url, sleeps=sleeps), DATE)) == 4
    first, second, third = (r.at for r in stand_in.requests)
    assert sleeps == [1.0, 1.0]
    assert second - first >= 1.0 and third - second >= 1.0


def test_a_server_error_is_retried_with_a_growing_backoff_then_said_in_one_line() -> None:
    sleeps: list[float] = []
    with HfStandIn() as stand_in:
        stand_in.fail(500, times=ATTEMPTS)
        with pytest.raises(SourceError) as caught:
            hf.daily_papers(source(stand_in.base_url, sleeps=sleeps), DATE)
    assert len(stand_in.requests) == ATTEMPTS
    assert len(sleeps) == ATTEMPTS - 1 and 0.2 <= sleeps[0] <= 0.3 and 0.4 <= sleeps[1] <= 0.5
    message = str(caught.value)
    assert (
        message == f"Hugging Face ({stand_in.base_url}) answered HTTP 500, {ATTEMPTS} tries: try again later"
    )
    assert caught.value.exit_code == 69


def test_a_server_that_recovers_is_used() -> None:
    with HfStandIn() as stand_in:
        stand_in.fail(502, times=ATTEMPTS - 1)
        assert len(hf.daily_papers(source(stand_in.base_url), DATE)) == 4


def test_a_retry_after_longer_than_a_command_should_wait_stops_at_once() -> None:
    with HfStandIn() as stand_in:
        stand_in.fail(429, retry_after=3600)
        with pytest.raises(SourceError, match="answered HTTP 429 and asks to wait 3600 s: try again after"):
            hf.daily_papers(source(stand_in.base_url), DATE)
    assert len(stand_in.requests) == 1


def test_an_answer_that_will_not_change_is_not_asked_again() -> None:
    with HfStandIn() as stand_in:
        stand_in.fail(404)
        with pytest.raises(SourceError, match=r"answered HTTP 404 Not Found$"):
            hf.daily_papers(source(stand_in.base_url), DATE)
    assert len(stand_in.requests) == 1


def test_a_source_that_does_not_answer_in_time_is_said_so() -> None:
    with HfStandIn() as stand_in:
        stand_in.stall(2.0, times=ATTEMPTS)
        began = time.monotonic()
        with pytest.raises(
            SourceError, match=rf"did not answer within 0.5 s, {ATTEMPTS} tries: try again later"
        ):
            hf.daily_papers(source(stand_in.base_url, timeout=0.5), DATE)
    assert time.monotonic() - began < 5  # the timeout, not the stall, decided
    assert len(stand_in.requests) == ATTEMPTS


def test_a_source_that_is_down_is_said_so() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(
        SourceError, match=r"\(http://127.0.0.1:\d+\) cannot be reached \(connection refused\)"
    ):
        hf.daily_papers(source(f"http://127.0.0.1:{port}"), DATE)


def test_messages_show_the_sources_origin_never_a_password_or_path() -> None:
    with HfStandIn() as stand_in:
        stand_in.fail(404)
        secret = stand_in.base_url.replace("http://", "http://user:hunter2@") + "/proxy/path"
        with pytest.raises(SourceError) as caught:
            hf.daily_papers(source(secret), DATE)
    assert "hunter2" not in str(caught.value) and "/proxy" not in str(caught.value)


def test_retry_after_as_seconds_or_an_http_date() -> None:
    now = dt.datetime(2025, 12, 11, 12, 0, tzinfo=dt.UTC)
    assert retry_after("120") == 120.0
    assert retry_after("Thu, 11 Dec 2025 12:00:30 GMT", now=now) == 30.0
    assert retry_after("Thu, 11 Dec 2025 11:00:00 GMT", now=now) == 0.0  # past: go now
    assert retry_after("soon") is None and retry_after(None) is None and retry_after("") is None
