"""Email sign-up on the web: the form, the confirmation link, the unsubscribe page and its
RFC 8058 one-click POST. Thin adapters over ``bot.channels.email.signup``.

Whatever an address's state, the form answers with the same "check your inbox" page, so it
tells nobody who is subscribed. GET never unsubscribes (mail scanners open links); the POST
does at once, with no cookie or token besides the signed one in the URL, and answers 200
without a redirect, as RFC 8058 asks.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable

from limits import RateLimitItemPerHour
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.archive.store import Archive
from bot.channels.base import DeliveryError
from bot.channels.email import signup
from bot.channels.email.signup import Mailer
from bot.channels.email.tokens import UNSUBSCRIBE, BadToken
from bot.channels.web.pages import Pages
from bot.channels.web.security import CSRF_FIELD, Csrf, FormRefused, read_form
from bot.config import Settings
from bot.errors import InputError

log = logging.getLogger("paperboy.web")
MAX_TAGS_TEXT = 300
MAX_TOKEN = 512
ONE_CLICK = ("List-Unsubscribe", "One-Click")

Clock = Callable[[], dt.datetime]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SignupPages:
    def __init__(
        self, archive: Archive, settings: Settings, mailer: Mailer, pages: Pages, clock: Clock = _utcnow
    ) -> None:
        self.archive = archive
        self.settings = settings
        self.mailer = mailer
        self.pages = pages
        self.clock = clock
        self.csrf = Csrf(mailer.signer, settings.base_url)
        # Per process: with several web servers a client gets that many times the allowance,
        # still a few mails an hour, not a flood.
        self.per_client = RateLimitItemPerHour(settings.signups_per_hour)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def routes(self) -> list[Route]:
        return [
            Route("/subscribe", self.form, methods=["GET"]),
            Route("/subscribe", self.subscribe, methods=["POST"]),
            Route("/confirm/{token}", self.confirm, methods=["GET"]),
            Route("/unsubscribe/{token}", self.unsubscribe_page, methods=["GET"]),
            Route("/unsubscribe/{token}", self.unsubscribe, methods=["POST"]),
        ]

    async def form(self, request: Request) -> Response:
        tags = request.query_params.get("tags", "")[:MAX_TAGS_TEXT]
        return self._form(request, email="", tags=tags, error=None)

    def _form(
        self, request: Request, *, email: str, tags: str, error: str | None, status: int = 200
    ) -> Response:
        token, nonce = self.csrf.issue(request)
        response = self.pages.render(
            request,
            "subscribe.html",
            status=status,
            email=email,
            tags=tags,
            error=error,
            csrf=token,
            csrf_field=CSRF_FIELD,
        )
        self.csrf.set_cookie(response, nonce)
        return response

    async def subscribe(self, request: Request) -> Response:
        try:
            form = await read_form(request)
            self.csrf.check(request, form)
        except FormRefused as exc:
            return self.pages.message(
                request, "Not sent", str(exc), status=exc.status, link=("subscribe", "Back to the form")
            )
        client = request.client.host if request.client else "unknown"
        if not self.limiter.hit(self.per_client, "signup", client):
            reset = self.limiter.get_window_stats(self.per_client, "signup", client).reset_time
            wait = max(1, int(reset - time.time()) + 1)  # the limiter's own clock
            page = self.pages.message(
                request,
                "Too many sign-ups",
                f"This connection has asked for {self.settings.signups_per_hour} sign-ups in the last hour,"
                f" as many as we send. Try again in {wait // 60 + 1} minutes.",
                status=429,
            )
            page.headers["Retry-After"] = str(wait)
            return page
        email, tags = _text(form, "email"), _text(form, "tags")
        try:
            if len(tags) > MAX_TAGS_TEXT:
                raise InputError(
                    f"The tags field is {len(tags)} characters long; at most {MAX_TAGS_TEXT} work."
                )
            address = signup.parse_email(email)
            wanted = await asyncio.to_thread(signup.check_tags, self.archive, [tags])
        except InputError as exc:
            return self._form(
                request, email=email[:300], tags=tags[:MAX_TAGS_TEXT], error=str(exc), status=400
            )
        now = self.clock()
        resend = dt.timedelta(minutes=self.settings.confirm_resend_minutes)
        result = await asyncio.to_thread(
            signup.request_signup, self.archive, self.mailer.signer, address, wanted, now, resend_after=resend
        )
        if result.token is not None:
            try:
                await self.mailer.send(result, now)
            except (DeliveryError, OSError) as exc:
                log.warning("sign-up mail to an address was not sent: %s", exc)
                await asyncio.to_thread(signup.unsent, self.archive, result)
                return self.pages.message(
                    request,
                    "Not sent",
                    "We could not send the confirmation email just now. Try again in a few minutes.",
                    status=503,
                    link=("subscribe", "Back to the form"),
                )
        return self.pages.render(
            request, "check_inbox.html", address=address, hours=self.settings.confirm_hours
        )

    async def confirm(self, request: Request) -> Response:
        token = request.path_params["token"]
        try:
            _check_length(token)
            done = await asyncio.to_thread(
                signup.confirm,
                self.archive,
                self.mailer.signer,
                token,
                self.settings.confirm_hours * 3600,
                self.clock(),
            )
        except signup.SignupGone as exc:
            return self.pages.message(
                request, "Nothing to confirm", str(exc), status=410, link=("subscribe", "Sign up")
            )
        except InputError as exc:
            return self.pages.message(
                request, "This link does not work", str(exc), status=400, link=("subscribe", "Sign up")
            )
        unsubscribe = self.mailer.signer.sign(UNSUBSCRIBE, done.address)
        return self.pages.render(request, "confirmed.html", confirmed=done, unsubscribe_token=unsubscribe)

    async def unsubscribe_page(self, request: Request) -> Response:
        token = request.path_params["token"]
        try:
            _check_length(token)
            address = self.mailer.signer.verify(UNSUBSCRIBE, token)
        except InputError as exc:
            return self.pages.message(request, "This link does not work", str(exc), status=400)
        return self.pages.render(request, "unsubscribe.html", address=address, field=ONE_CLICK)

    async def unsubscribe(self, request: Request) -> Response:
        """RFC 8058 one-click: the body is ``List-Unsubscribe=One-Click``; no cookie, no CSRF token
        (the signed token in the URL is the authority), unsubscribed at once, 200 and no redirect."""
        token = request.path_params["token"]
        try:
            form = await read_form(request)
            if form.get(ONE_CLICK[0]) != ONE_CLICK[1]:
                raise FormRefused("An unsubscribe request carries List-Unsubscribe=One-Click.", 400)
            _check_length(token)
            address = await asyncio.to_thread(signup.unsubscribe, self.archive, self.mailer.signer, token)
        except FormRefused as exc:
            return self.pages.message(request, "Not unsubscribed", str(exc), status=exc.status)
        except InputError as exc:
            return self.pages.message(request, "This link does not work", str(exc), status=400)
        if address is None:
            text = "This address was not subscribed (any more): nothing more will be sent to it."
        else:
            text = f"{address} is unsubscribed: no more digests will be sent to it."
        return self.pages.message(request, "Unsubscribed", text, link=("subscribe", "Subscribe again"))


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _check_length(token: str) -> None:
    if len(token) > MAX_TOKEN:
        raise BadToken("This link is not valid: it is far longer than the links we send.")
