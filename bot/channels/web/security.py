"""What keeps the web server's pages and forms safe to use.

- Security headers on every HTML page: a Content-Security-Policy with no script source at all
  (the archive has no JavaScript), no framing, no MIME sniffing, and a referrer policy that keeps
  the signed tokens in /confirm and /unsubscribe URLs from leaking to other sites. (Not
  ``no-referrer``: under it browsers send ``Origin: null`` with same-site form posts.)
- Cross-site form posts are refused twice over: a signed double-submit token (a random value in
  a SameSite=Strict cookie, and the same value signed in the form) and the browser's own word
  on where the post came from (``Sec-Fetch-Site``, ``Origin``). The RFC 8058 one-click
  unsubscribe is the one exception: mail providers post it without cookies, and its signed
  token in the URL is all the authority it needs.
- Request bodies are read up to a limit, so a client cannot make the server buffer gigabytes.
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

from starlette.datastructures import FormData, MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.channels.email.tokens import CSRF, BadToken, Signer
from bot.errors import InputError

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self';"
    " frame-ancestors 'none'; base-uri 'none'"
)
HTML_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
CSRF_COOKIE = "paperboy_csrf"
CSRF_FIELD = "csrf"
#: A form's token works this long after the page was loaded.
CSRF_MAX_AGE_S = 24 * 3600
#: The largest form body read (the sign-up form is under 1 KB).
MAX_BODY = 8 * 1024
MAX_FIELDS = 8
_NONCE = re.compile(r"[A-Za-z0-9_-]{20,64}")


class FormRefused(InputError):
    """A post the server will not act on; ``status`` is the HTTP answer, the message says why."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class SecurityHeaders:
    """ASGI middleware: nosniff on every response, the page headers on every HTML one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                if headers.get("content-type", "").startswith("text/html"):
                    for name, value in HTML_HEADERS.items():
                        headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Csrf:
    """Signed double-submit tokens: ``issue`` for a page with a form, ``check`` for its post."""

    def __init__(self, signer: Signer, base_url: str | None) -> None:
        self.signer = signer
        self.base_origin = _origin_of(base_url)
        self.secure_cookie = (self.base_origin or "").startswith("https:")

    def issue(self, request: Request) -> tuple[str, str]:
        """(the form's token, the cookie value to set): an existing cookie is kept, so two open
        tabs both work."""
        nonce = request.cookies.get(CSRF_COOKIE, "")
        if not _NONCE.fullmatch(nonce):
            nonce = secrets.token_urlsafe(24)
        return self.signer.sign(CSRF, nonce), nonce

    def set_cookie(self, response: Response, nonce: str) -> None:
        response.set_cookie(
            CSRF_COOKIE,
            nonce,
            max_age=CSRF_MAX_AGE_S,
            httponly=True,
            samesite="strict",
            secure=self.secure_cookie,
            path="/",
        )

    def check(self, request: Request, form: FormData) -> None:
        """``FormRefused`` (403) unless the post comes from our own page, with its token."""
        self.same_origin(request)
        token = form.get(CSRF_FIELD)
        nonce = request.cookies.get(CSRF_COOKIE)
        if not isinstance(token, str) or not token or not nonce:
            raise FormRefused(
                "This form was sent without its security token (or your browser blocked our cookie)."
                " Open the page again and send the form from there.",
                403,
            )
        try:
            signed = self.signer.verify(CSRF, token, max_age_s=CSRF_MAX_AGE_S)
        except BadToken:
            raise FormRefused(
                "This form's security token is not valid or has expired. Open the page again.", 403
            ) from None
        if not secrets.compare_digest(signed, nonce):
            raise FormRefused("This form's security token does not match. Open the page again.", 403)

    def same_origin(self, request: Request) -> None:
        """``FormRefused`` (403) if the browser says the post comes from another site."""
        site = request.headers.get("sec-fetch-site")
        if site is not None and site not in ("same-origin", "none"):
            raise FormRefused(f"Forms on this site cannot be sent from another site ({site}).", 403)
        origin = request.headers.get("origin")
        if origin is None:
            return  # not a browser, or an old one: the token decides
        own = f"{request.url.scheme}://{request.headers.get('host', '')}".lower()
        if origin.lower() not in (own, self.base_origin):
            raise FormRefused("Forms on this site cannot be sent from another site.", 403)


def _origin_of(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


async def read_form(request: Request) -> FormData:
    """The posted form, at most MAX_BODY bytes and MAX_FIELDS fields; ``FormRefused`` otherwise."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
        raise FormRefused(f"The form is too large: at most {MAX_BODY // 1024} KB is accepted.", 413)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise FormRefused(f"The form is too large: at most {MAX_BODY // 1024} KB is accepted.", 413)
    kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if kind not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise FormRefused("Send the form as a web form (application/x-www-form-urlencoded).", 415)

    async def replay() -> Message:
        return {"type": "http.request", "body": bytes(body), "more_body": False}

    buffered = Request(request.scope, receive=replay)
    try:
        return await buffered.form(max_files=0, max_fields=MAX_FIELDS, max_part_size=MAX_BODY)
    except Exception as exc:  # python-multipart's and Starlette's parse errors alike
        detail = getattr(exc, "detail", None) or getattr(exc, "message", None) or "it could not be read"
        raise FormRefused(f"The form is malformed: {detail}.", 400) from None
