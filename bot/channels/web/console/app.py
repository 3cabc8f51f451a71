"""The console's one route, ``/admin`` and everything under it, behind one gate.

Every request under the prefix (any method, any spelling the router would match, a trailing
slash too) comes here first. Without a password set, the console is off: 404. Without a live
session, only the login page and the stylesheet answer; any other GET or HEAD is sent to the
login page and any other method is refused (403), before a page is even looked up. A post
must carry its session's CSRF token and come from this site. Failed logins are counted per
address (``sessions.py``) and every action is recorded in the audit log.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.archive.store import Archive
from bot.channels.web.console import passwords
from bot.channels.web.console.actions import Operations
from bot.channels.web.console.sessions import Clock, Session, Sessions, _utcnow
from bot.channels.web.security import CSRF_FIELD, Csrf, FormRefused, read_form
from bot.config import Settings
from bot.render.environment import Templates

COOKIE = "paperboy_admin"
PREFIX = "/admin"
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
NO_STORE = {"Cache-Control": "no-store"}
Handler = Callable[[Request, Session, FormData | None], Awaitable[Response]]


class Console:
    def __init__(
        self,
        archive: Archive,
        settings: Settings,
        templates: Templates,
        operations: Operations,
        env: Mapping[str, str],
        csrf: Csrf,
        *,
        clock: Clock = _utcnow,
    ) -> None:
        from bot.channels.web.console.views import Views

        self.archive = archive
        self.settings = settings
        self.templates = templates
        self.password_hash = passwords.stored_hash(env, settings.data_dir)
        self.sessions = Sessions(archive, clock)
        self.csrf = csrf
        self.secure = (settings.base_url or "").startswith("https:")
        self.clock = clock
        self.views = Views(self, operations, env)

    @contextlib.asynccontextmanager
    async def lifespan(self, app: object) -> AsyncIterator[None]:
        """With the server: the templates' render check starts with it (when the console is on),
        and a check under way ends before the archive it reads is closed."""
        if self.password_hash is not None:
            self.views.template_check.start()
        try:
            yield
        finally:
            await asyncio.to_thread(self.views.template_check.wait, 60)

    def routes(self) -> list[BaseRoute]:
        return [Route(PREFIX + "{rest:path}", self.handle, methods=METHODS, name="console")]

    # --- the gate ---

    async def handle(self, request: Request) -> Response:
        rest, method = request.path_params["rest"], request.method
        if self.password_hash is None:
            text = "The operator console is off until a password is set: paperboy admin set-password."
            return self.page(request, "message.html", None, status=404, title="Console off", text=text)
        if rest == "/style.css" and method in ("GET", "HEAD"):
            css = self.templates.render("web/style.css", {}) + self.templates.render(
                "console/console.css", {}
            )
            return Response(css, media_type="text/css", headers={"Cache-Control": "max-age=300"})
        if rest == "/login":
            return await self.login(request)
        session = self.sessions.find(request.cookies.get(COOKIE))
        if session is None:
            if method in ("GET", "HEAD"):
                return RedirectResponse(self.url(request, "login"), 303, headers=NO_STORE)
            return self.page(
                request,
                "message.html",
                None,
                status=403,
                title="Log in first",
                text="Log in to the console first.",
            )
        form: FormData | None = None
        if method == "POST":
            try:
                form = await self.checked_form(request, session)
            except FormRefused as exc:
                return self.page(
                    request, "message.html", session, status=exc.status, title="Refused", text=str(exc)
                )
        if rest == "" and method in ("GET", "HEAD"):
            return RedirectResponse(self.url(request, ""), 307, headers=NO_STORE)
        handler = self.views.handlers.get(("GET" if method == "HEAD" else method, rest))
        if handler is None:
            known = any(path == rest for _, path in self.views.handlers)
            status, text = (
                (405, f"{method} is not something this page answers.")
                if known
                else (404, "There is no console page at this address.")
            )
            return self.page(request, "message.html", session, status=status, title="Not here", text=text)
        return await handler(request, session, form)

    async def checked_form(self, request: Request, session: Session) -> FormData:
        self.csrf.same_origin(request)
        form = await read_form(request)
        token = form.get(CSRF_FIELD)
        if not isinstance(token, str) or not secrets.compare_digest(token.encode(), session.csrf.encode()):
            raise FormRefused("This form's security token is missing or wrong: open the page again.", 403)
        return form

    # --- logging in and out ---

    async def login(self, request: Request) -> Response:
        address = client_address(request)
        if request.method in ("GET", "HEAD"):
            return self.login_page(request, None, 200)
        if request.method != "POST":
            return self.page(
                request, "message.html", None, status=405, title="Not here", text="Log in with the form."
            )
        until = self.sessions.locked_until(address)
        if until is not None:
            return self.login_page(request, self.locked(until), 429)
        try:
            form = await read_form(request)
            self.csrf.check(request, form)
        except FormRefused as exc:
            return self.login_page(request, str(exc), exc.status)
        password = form.get("password")
        if not isinstance(password, str) or not passwords.verify(self.password_hash or "", password):
            locked = self.sessions.failed(address)
            self.sessions.audit(address, "login failed", locked_until=locked)
            text = self.locked(locked) if locked else "That password is not the console's."
            return self.login_page(request, text, 429 if locked else 401)
        self.sessions.end(request.cookies.get(COOKIE))  # a fresh id: the old one (if any) is dead
        self.sessions.succeeded(address)
        cookie = self.sessions.open(address)
        self.sessions.audit(address, "login")
        response = RedirectResponse(self.url(request, ""), 303, headers=NO_STORE)
        response.set_cookie(COOKIE, cookie, httponly=True, secure=self.secure, samesite="strict", path=PREFIX)
        return response

    async def logout(self, request: Request, session: Session, form: FormData | None) -> Response:
        self.sessions.end(request.cookies.get(COOKIE))
        self.sessions.audit(session.address, "logout")
        response = RedirectResponse(self.url(request, "login"), 303, headers=NO_STORE)
        response.delete_cookie(COOKIE, path=PREFIX, secure=self.secure, httponly=True, samesite="strict")
        return response

    def login_page(self, request: Request, error: str | None, status: int) -> Response:
        token, nonce = self.csrf.issue(request)
        response = self.page(request, "login.html", None, status=status, error=error, login_token=token)
        self.csrf.set_cookie(response, nonce)
        return response

    def locked(self, until: dt.datetime) -> str:
        local = until.astimezone(self.settings.timezone)
        zone = self.settings.timezone.key
        return f"Too many failed logins from your address: try again after {local:%H:%M} ({zone})."

    # --- pages ---

    def url(self, request: Request, page: str) -> str:
        return f"{request.scope.get('root_path', '')}{PREFIX}/{page}"

    def page(
        self, request: Request, name: str, session: Session | None, *, status: int = 200, **values: Any
    ) -> HTMLResponse:
        context = {
            "csrf": session.csrf if session else "",
            "logged_in": session is not None,
            "zone": self.settings.timezone.key,
            "prefix": f"{request.scope.get('root_path', '')}{PREFIX}/",
            **values,
        }
        return HTMLResponse(
            self.templates.render(f"console/{name}", context), status_code=status, headers=NO_STORE
        )

    def local(self, when: dt.datetime | None) -> str:
        return when.astimezone(self.settings.timezone).strftime("%Y-%m-%d %H:%M") if when else ""


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
