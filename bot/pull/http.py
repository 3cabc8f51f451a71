"""Asking a source over HTTP, patiently, and saying in one line why it did not work.

A request times out (PAPERBOY_PULL_TIMEOUT), and one that fails for a reason that may pass (no
connection, a timeout, HTTP 429, 500, 502, 503, 504) is tried again, ``ATTEMPTS`` times in all,
after an exponential backoff with jitter, or after the ``Retry-After`` the source sent (up to
``MAX_RETRY_AFTER``: a source asking for longer is told to wait by the curator, not by a blocked
command). A source that keeps a pace (arXiv's one request every three seconds) has each attempt,
retries included, wait for its turn (``pacing.py``). Every request names Paperboy in its
User-Agent. What cannot be used ends as a ``SourceError``: one line, no traceback.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from bot import __version__
from bot.errors import PaperboyError

#: Tries of one request in all, the first one included.
ATTEMPTS = 3
#: The longest Retry-After waited out; beyond it the command stops and says when to try again.
MAX_RETRY_AFTER = 120.0
#: The longest backoff between two tries when the source names none.
MAX_BACKOFF = 30.0
#: Answers worth another try: too many requests, and a server or a gateway in trouble.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class SourceError(PaperboyError):
    """The source is down, too slow, or answered something unexpected: nothing was stored.

    Exit status 69 (EX_UNAVAILABLE): a script can tell "try again later" from a mistake (2)."""

    exit_code = 69


class _Again(Exception):
    """A try that failed for a reason that may pass."""

    def __init__(self, problem: str, retry_after: float | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.retry_after = retry_after


def user_agent(site_url: str | None = None) -> str:
    """``Paperboy/0.1.0``, and where its archive is when PAPERBOY_BASE_URL says: sources that
    limit clients (arXiv) ask them to say who they are."""
    return f"Paperboy/{__version__} (ML-paper digests{'; +' + site_url if site_url else ''})"


def origin(url: str) -> str:
    """``https://host[:port]`` of an address: what messages show (never a path, user or password)."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


@dataclass
class Source:
    """One source's base address and manners. ``pace`` waits for the next request's turn;
    ``notify`` hears each retry (the CLI prints it, the service logs it)."""

    name: str
    base_url: str
    timeout: float
    agent: str
    pace: Callable[[], None] | None = None
    notify: Callable[[str], None] | None = None
    sleep: Callable[[float], None] = time.sleep
    #: The first backoff, in seconds; each next one doubles (with up to half as much jitter).
    backoff: float = 1.0

    def get(
        self, path: str, params: Mapping[str, str], *, accept: Collection[int] = (200,)
    ) -> httpx.Response:
        """GET ``base_url + path``: the response (its status one of ``accept``), or ``SourceError``."""
        retrying = Retrying(
            stop=stop_after_attempt(ATTEMPTS),
            wait=self._wait,
            retry=retry_if_exception_type(_Again),
            sleep=self.sleep,
            before_sleep=self._say_retry,
            reraise=True,
        )
        timeout = httpx.Timeout(self.timeout)
        headers = {"User-Agent": self.agent}
        try:
            with httpx.Client(timeout=timeout, headers=headers, follow_redirects=True) as client:
                for attempt in retrying:
                    with attempt:
                        return self._once(client, path, params, accept)
        except _Again as exc:
            raise SourceError(f"{self.where} {exc.problem}, {ATTEMPTS} tries: try again later") from None
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    @property
    def where(self) -> str:
        return f"{self.name} ({origin(self.base_url)})"

    def fail(self, problem: str) -> SourceError:
        """An answer that cannot be used, as the one line a user reads."""
        return SourceError(f"{self.where} {problem}")

    def _once(
        self, client: httpx.Client, path: str, params: Mapping[str, str], accept: Collection[int]
    ) -> httpx.Response:
        if self.pace is not None:
            self.pace()
        try:
            response = client.get(self.base_url + path, params=dict(params))
        except httpx.TimeoutException:
            raise _Again(f"did not answer within {self.timeout:g} s") from None
        except httpx.TransportError as exc:
            raise _Again(f"cannot be reached ({_transport_problem(exc)})") from None
        status = response.status_code
        if status in accept:
            return response
        if status in RETRY_STATUSES:
            wait = retry_after(response.headers.get("Retry-After"))
            if wait is not None and wait > MAX_RETRY_AFTER:
                raise self.fail(f"answered HTTP {status} and asks to wait {wait:.0f} s: try again after that")
            raise _Again(f"answered HTTP {status}", wait)
        raise self.fail(f"answered HTTP {status} {response.reason_phrase}".rstrip())

    def _wait(self, state: RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome else None
        if isinstance(failure, _Again) and failure.retry_after is not None:
            return failure.retry_after
        doubled: float = self.backoff * 2.0 ** (state.attempt_number - 1)
        return min(MAX_BACKOFF, doubled + random.uniform(0, self.backoff / 2))

    def _say_retry(self, state: RetryCallState) -> None:
        failure = state.outcome.exception() if state.outcome else None
        if self.notify is not None and isinstance(failure, _Again) and state.next_action is not None:
            self.notify(f"{self.where} {failure.problem}; trying again in {state.next_action.sleep:.1f} s")


def retry_after(raw: str | None, *, now: dt.datetime | None = None) -> float | None:
    """A Retry-After header in seconds: a number of seconds or an HTTP date; None if absent or
    unreadable (then the backoff decides)."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


def _transport_problem(exc: httpx.TransportError) -> str:
    """What went wrong with the connection, in words (httpx's own text can hold the address)."""
    if isinstance(exc, httpx.ConnectError):
        text = str(exc).lower()
        if "refused" in text:
            return "connection refused"
        if "name or service" in text or "nodename" in text or "resolution" in text:
            return "the host name does not resolve"
        return "cannot connect"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the connection broke off mid-answer"
    return type(exc).__name__
