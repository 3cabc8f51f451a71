"""The console's pages and actions, each behind the gate in ``app.py`` (a live session, and for
a post its CSRF token). Actions are recorded in the audit log with what they changed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from bot.archive import counts, queries
from bot.channels.web.console import checks, previews, state
from bot.channels.web.console import subscribers as subs
from bot.channels.web.console.actions import Operations
from bot.channels.web.console.app import client_address
from bot.channels.web.console.sessions import Session
from bot.config import DEFAULT_TEMPLATES
from bot.errors import PaperboyError

if TYPE_CHECKING:
    from bot.channels.web.console.app import Console, Handler

EMAIL_PREVIEW_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; sandbox"


def _day(raw: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(raw)) if raw else None
    except ValueError:
        return None


def _int(raw: object) -> int:
    text = str(raw or "0")
    return int(text) if text.isdigit() and len(text) < 19 else 0


class Views:
    def __init__(self, console: Console, operations: Operations, env: Mapping[str, str]) -> None:
        self.console = console
        self.archive = console.archive
        self.settings = console.settings
        self.operations = operations
        self.env = dict(env)
        self.template_check = checks.TemplateChecker(
            DEFAULT_TEMPLATES, self.settings.templates, self.archive, self.settings.base_url, console.clock
        )
        self.kinds = subs.Kinds(self.archive)
        self.previews = previews.Previews(self.archive, console.templates, self.settings.base_url)
        self.handlers: dict[tuple[str, str], Handler] = {
            ("GET", "/"): self.overview,
            ("GET", "/deliveries"): self.deliveries,
            ("POST", "/deliveries/retry"): self.retry,
            ("GET", "/subscribers"): self.subscribers,
            ("GET", "/subscribers.csv"): self.export,
            ("POST", "/subscribers/act"): self.act,
            ("GET", "/day"): self.day,
            ("GET", "/day/email"): self.email_page,
            ("GET", "/day/web"): self.web_page,
            ("POST", "/day/publish"): self.confirm_publish,
            ("POST", "/day/publish/confirm"): self.publish,
            ("GET", "/templates"): self.templates,
            ("POST", "/templates/check"): self.check_templates,
            ("POST", "/logout"): console.logout,
        }

    def _now(self) -> dt.datetime:
        return self.console.clock()

    def _done(self, request: Request, session: Session, title: str, text: str, back: str) -> HTMLResponse:
        return self.console.page(request, "message.html", session, title=title, text=text, back=back)

    async def overview(self, request: Request, session: Session, form: FormData | None) -> Response:
        now = self._now()
        return self.console.page(
            request,
            "overview.html",
            session,
            next_publish=self.console.local(state.next_publish(self.settings, now)),
            days=state.recent_days(self.archive, now),
            statuses=state.SHOWN,
            channels=state.channel_states(self.env),
            desk=state.desk_state(self.archive, self.settings.inbox),
            inbox=self.settings.inbox,
            audit=self.console.sessions.audit_log(15),
            local=self.console.local,
        )

    async def deliveries(self, request: Request, session: Session, form: FormData | None) -> Response:
        day, status = _day(request.query_params.get("day")), request.query_params.get("status") or None
        if status not in (None, *state.SHOWN):
            status = None
        after = _int(request.query_params.get("after"))
        rows = state.ledger_page(self.archive, self._now(), day=day, status=status, after=after)
        return self.console.page(
            request,
            "deliveries.html",
            session,
            rows=rows,
            day=day,
            status_shown=status or "",
            statuses=state.SHOWN,
            next_after=rows[-1].id if len(rows) == state.PAGE else None,
            local=self.console.local,
        )

    async def retry(self, request: Request, session: Session, form: FormData | None) -> Response:
        assert form is not None
        one = _int(form.get("id")) or None
        day = _day(form.get("day"))
        try:
            said = await self.operations.retry(day, one)
        except PaperboyError as exc:
            said = f"the retry stopped: {exc}"
        self.console.sessions.audit(client_address(request), "retry", delivery=one, day=day, result=said)
        return self._done(request, session, "Retried", said, "deliveries?status=failed")

    def _filter(self, request: Request, kinds: dict[str, int]) -> subs.Filter:
        query = request.query_params
        kind = query.get("kind") or (sorted(kinds)[0] if kinds else "email")
        status = query.get("status") if query.get("status") in subs.STATUSES else None
        return subs.Filter(
            kind,
            status,
            (query.get("tag") or "").strip().lstrip("#").lower() or None,
            (query.get("q") or "").strip()[:200] or None,
        )

    async def subscribers(self, request: Request, session: Session, form: FormData | None) -> Response:
        kinds = self.kinds()
        wanted = self._filter(request, kinds)
        rows = subs.page(self.archive, wanted, _int(request.query_params.get("after")))
        return self.console.page(
            request,
            "subscribers.html",
            session,
            kinds=kinds,
            wanted=wanted,
            rows=rows,
            statuses=subs.STATUSES,
            shown_target=subs.shown_target,
            next_after=rows[-1].id if len(rows) == subs.PAGE else None,
            query_string=request.url.query,
        )

    async def export(self, request: Request, session: Session, form: FormData | None) -> Response:
        wanted = self._filter(request, self.kinds())
        self.console.sessions.audit(
            client_address(request),
            "export subscribers",
            kind=wanted.kind,
            status=wanted.status,
            tag=wanted.tag,
            query=wanted.query,
        )
        headers = {
            "Content-Disposition": f'attachment; filename="subscribers-{wanted.kind}.csv"',
            "Cache-Control": "no-store",
        }
        return StreamingResponse(
            subs.csv_lines(self.archive, wanted), media_type="text/csv; charset=utf-8", headers=headers
        )

    async def act(self, request: Request, session: Session, form: FormData | None) -> Response:
        assert form is not None
        action = str(form.get("action") or "")
        if action not in subs.ACTIONS:
            return self._done(
                request, session, "Not done", f"{action!r} is not an action on a subscriber.", "subscribers"
            )
        before = subs.act(self.archive, _int(form.get("id")), action)
        self.kinds.forget()
        if before is None:
            return self._done(
                request, session, "Not done", "There is no such subscriber (removed already?).", "subscribers"
            )
        after = subs.ACTIONS[action] or "removed"
        self.console.sessions.audit(
            client_address(request),
            action,
            subscriber=before.label,
            status_before=before.status,
            status_after=after,
        )
        back = f"subscribers?kind={before.kind}"
        return self._done(request, session, "Done", f"{before.label}: {before.status} → {after}.", back)

    async def day(self, request: Request, session: Session, form: FormData | None) -> Response:
        day = _day(request.query_params.get("date")) or self._now().astimezone(self.settings.timezone).date()
        channel = request.query_params.get("channel")
        channel = channel if channel in previews.CHANNELS else "telegram"
        shown = None if channel == "web" else self.previews.preview(day, channel)
        recent = queries.newest_days(self.archive, 14)
        return self.console.page(
            request,
            "day.html",
            session,
            day=day,
            channel=channel,
            channels=previews.CHANNELS,
            shown=shown,
            recent=recent,
        )

    async def email_page(self, request: Request, session: Session, form: FormData | None) -> Response:
        day = _day(request.query_params.get("date")) or self._now().date()
        shown = self.previews.preview(day, "email")
        # The email as a mail client shows it: its inline styles allowed, nothing else, sandboxed.
        return HTMLResponse(
            shown.email_html,
            headers={"Content-Security-Policy": EMAIL_PREVIEW_POLICY, "Cache-Control": "no-store"},
        )

    async def web_page(self, request: Request, session: Session, form: FormData | None) -> Response:
        day = _day(request.query_params.get("date")) or self._now().date()
        html = self.previews.web_page(day)
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    async def confirm_publish(self, request: Request, session: Session, form: FormData | None) -> Response:
        """The first step: what would go out (a dry run, nothing changes), and a button to send it."""
        assert form is not None
        day = _day(form.get("date"))
        if day is None:
            return self._done(request, session, "Not published", "Give the day as YYYY-MM-DD.", "day")
        try:
            said = await self.operations.plan(day)
        except PaperboyError as exc:
            said = f"{day}: cannot be published: {exc}"
        with self.archive.engine.connect() as conn:
            had = counts.by_day(conn, [day], self._now())[day]
        return self.console.page(
            request, "publish.html", session, day=day, plan=said, had=had, statuses=state.SHOWN
        )

    async def publish(self, request: Request, session: Session, form: FormData | None) -> Response:
        assert form is not None
        day = _day(form.get("date"))
        if day is None:
            return self._done(request, session, "Not published", "Give the day as YYYY-MM-DD.", "day")
        try:
            said = await self.operations.publish(day)
        except PaperboyError as exc:
            said = f"{day}: not published: {exc}"
        self.console.sessions.audit(client_address(request), "publish", day=day, result=said)
        return self._done(request, session, "Published", said, f"day?date={day}")

    async def templates(self, request: Request, session: Session, form: FormData | None) -> Response:
        """The last render check (a visit never runs one: it starts one in the background when
        the files or the newest day changed, and shows the result it has)."""
        checked = self.template_check.state()
        return self.console.page(
            request,
            "templates.html",
            session,
            folder=self.settings.templates,
            overrides=previews.overridden(DEFAULT_TEMPLATES, self.settings.templates),
            last=checked.last,
            running=checked.running,
            checked_at=(
                f"{checked.last.at.astimezone(self.settings.timezone):%Y-%m-%d %H:%M:%S}"
                if checked.last
                else ""
            ),
        )

    async def check_templates(self, request: Request, session: Session, form: FormData | None) -> Response:
        self.template_check.start()
        self.console.sessions.audit(client_address(request), "check templates")
        return RedirectResponse(
            self.console.url(request, "templates"), 303, headers={"Cache-Control": "no-store"}
        )
