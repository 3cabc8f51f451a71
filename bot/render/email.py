"""A digest as an email: multipart/alternative, a plain-text part and an HTML part with the
same papers, the stylesheet inlined (mail clients drop <style>), a subject naming the date and
paper count, and a preheader (the line inboxes show after the subject).

Only the message is built here; sending it is the email channel's job.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr

import css_inline

from bot.render.context import DigestView, template_context
from bot.render.environment import Templates

PREHEADER_LENGTH = 140
_INLINER = css_inline.CSSInliner(load_remote_stylesheets=False, keep_style_tags=False)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    preheader: str
    text: str
    html: str


def render_email(templates: Templates, digest: DigestView) -> RenderedEmail:
    context = template_context(digest)
    subject = _one_line(templates.render("email/subject.txt", context))
    preheader = _one_line(templates.render("email/preheader.txt", context))
    if len(preheader) > PREHEADER_LENGTH:
        preheader = preheader[: PREHEADER_LENGTH - 1].rstrip() + "…"
    html = templates.render("email/digest.html", {**context, "subject": subject, "preheader": preheader})
    text = templates.render("email/digest.txt", {**context, "subject": subject})
    return RenderedEmail(subject, preheader, text.strip() + "\n", _INLINER.inline(html))


def build_message(
    rendered: RenderedEmail,
    *,
    sender: str,
    recipient: str,
    date: dt.datetime,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """The RFC 5322 message, plain text first and HTML last (the preferred alternative)."""
    message = EmailMessage(policy=SMTP)
    message["Subject"] = rendered.subject
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = format_datetime(date)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
