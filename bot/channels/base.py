"""What every sending channel implements, and the few ways a send can fail.

A channel renders a digest once for its platform, then sends it to each target; the fan-out
decides what a failure means for the delivery (``scheduler/fanout.py``). ``pace`` is awaited
before each platform call: the platform's rate limits live in one place, not in each channel.
A call of ``pace`` also tells the limiters that the platform call before it is over (a send
counts in the limits' windows from when it ends), so a channel makes its calls one at a time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, ClassVar, Protocol

from bot.archive.corrections import PaperChange
from bot.render.context import DigestView

Pace = Callable[[], Awaitable[None]]


class DeliveryError(Exception):
    """A send that did not succeed; the subclass says what to do next."""


class RetryAfter(DeliveryError):
    """The platform asked us to wait this long (Telegram's and Discord's retry_after)."""

    def __init__(self, seconds: float, message: str = "") -> None:
        super().__init__(message or f"rate limited: retry after {seconds:g} s")
        self.seconds = float(seconds)


class Transient(DeliveryError):
    """A failure worth retrying soon (a timeout, a 5xx): exponential backoff with jitter."""


class TargetGone(DeliveryError):
    """The target no longer takes messages (blocked bot, deleted chat), or moved (``new_target``)."""

    def __init__(self, message: str, new_target: str | None = None) -> None:
        super().__init__(message)
        self.new_target = new_target


class Permanent(DeliveryError):
    """A failure that retrying will not fix (a message the platform refuses): kept for the operator."""


class Bounced(Permanent):
    """The receiving server refused the address itself (SMTP 5xx to RCPT, as 550 "no such user").

    One bounce can be a mailbox's bad day; ``PAPERBOY_BOUNCE_LIMIT`` of them in a row, with no
    delivery accepted in between, retire the subscription (``scheduler/fanout.py``)."""


class Misconfigured(DeliveryError):
    """The deployment's settings are wrong, as the platform says only at send time: a token or a
    login it refuses, a certificate that does not verify. No delivery's fault and no reader's: the
    fan-out stops sending through this channel and its deliveries wait, pending, until it is fixed."""


class Channel:
    """One platform. Subclasses set ``kind`` and implement ``render`` and ``send``."""

    kind: ClassVar[str]

    def render(self, digest: DigestView) -> Any:
        """The digest as this platform sends it (the same for every target with the same tags)."""
        raise NotImplementedError

    async def send(self, target: str, rendered: Any, pace: Pace, *, mention: str | None = None) -> list[str]:
        """Deliver ``rendered`` to ``target``; return the platform's message ids.

        ``mention`` is the subscription's role to notify, for platforms that have roles."""
        raise NotImplementedError

    async def close(self) -> None:
        """Release connections; called once when the process stops."""

    # -- corrections: what an editable channel implements (scheduler/edits.py drives them) --------

    #: Whether messages sent can be changed afterwards: a correction of a day edits them in place.
    editable: ClassVar[bool] = False

    def parts(self, rendered: Any) -> Sequence[Any]:
        """The messages of a rendered day, in the order ``send`` sends them. A correction compares
        the day as sent with the day corrected part by part: an equal part is not touched."""
        raise NotImplementedError

    async def edit_part(
        self,
        target: str,
        ids: Sequence[str],
        index: int,
        part: Any,
        pace: Pace,
        *,
        mention: str | None = None,
    ) -> None:
        """Make message ``ids[index]`` (``ids``: the day's messages as sent, in order) show ``part``.
        A platform that refuses an edit that changes nothing counts as done. Raises what ``send``
        raises; ``Permanent`` for a message that can no longer be edited (deleted, too old)."""
        raise NotImplementedError

    async def send_part(
        self, target: str, ids: Sequence[str], part: Any, pace: Pace, *, mention: str | None = None
    ) -> str:
        """One more message after the last of ``ids`` (a corrected day longer than the one sent,
        in the same place: a forum post's thread); its id."""
        raise NotImplementedError

    async def delete_part(self, target: str, ids: Sequence[str], index: int, pace: Pace) -> None:
        """Delete message ``ids[index]`` (a corrected day shorter than the one sent); a message
        already gone counts as done."""
        raise NotImplementedError

    def render_correction(self, digest: DigestView, changes: Sequence[PaperChange]) -> Any:
        """For a channel that cannot edit (email): a short message listing ``changes`` to the day
        ``digest`` (as corrected), which ``send`` sends."""
        raise NotImplementedError


class Frontend(Protocol):
    """A chat bot that answers people while ``paperboy run`` runs (polling, or a webhook)."""

    name: str

    @property
    def routes(self) -> Sequence[Any]:
        """Starlette routes it needs on the service's web server (a webhook), else empty; they are
        tried before the server's own (``bot/channels/web/app.py``)."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...
