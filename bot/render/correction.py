"""A correction of a day, as the short email its subscribers get on request.

Email cannot be edited once sent, so a corrected day reaches inboxes as a note of what changed,
paper by paper: a title as it was and as it is, that a commentary, an abstract, the authors or
the links changed (the whole text is on the paper's page, which the note links to), tags added
and removed, papers added and removed. Its subject names the day ("Correction · 2024-07-11"); it
has the digest's parts (plain text, then HTML with the stylesheet inlined), its footer and its
one-click way out, so ``bot.render.email`` builds and addresses it as it does a digest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.archive.corrections import PaperChange
from bot.render.context import DigestView, clean, template_context
from bot.render.email import PREHEADER_LENGTH, RenderedEmail, inline_css, one_line
from bot.render.environment import Templates

#: Fields whose change is said in a word: their text is long, and the paper's page shows it.
SAID_CHANGED = ("authors", "abstract", "commentary", "links")


@dataclass(frozen=True)
class ChangeView:
    """One paper's change, as the correction's templates show it."""

    kind: str  # "changed", "added", "removed"
    title: str  # as corrected (as it was, for a paper removed)
    link: str | None  # the paper's page (else its arXiv page); None for a paper removed
    title_before: str | None  # the title as it went out, when the correction changed it
    changed: tuple[str, ...]  # of SAID_CHANGED, in that order
    tags_added: tuple[str, ...]
    tags_removed: tuple[str, ...]


def change_views(digest: DigestView, changes: Sequence[PaperChange]) -> list[ChangeView]:
    """``changes`` to the day ``digest`` shows as corrected, with links to the papers' pages."""
    links = {paper.id: paper.link for paper in digest.papers}
    views = []
    for change in changes:
        fields = {field.field: field for field in change.fields}
        title = fields.get("title")
        tags = fields.get("tags")
        before, after = (_tags(tags.before), _tags(tags.after)) if tags else ((), ())
        views.append(
            ChangeView(
                kind=change.kind,
                title=clean(change.title),
                link=None if change.kind == "removed" else links.get(change.id),
                title_before=clean(title.before) if title else None,
                changed=tuple(name for name in SAID_CHANGED if name in fields),
                tags_added=tuple(tag for tag in after if tag not in before),
                tags_removed=tuple(tag for tag in before if tag not in after),
            )
        )
    return views


def render_correction_email(
    templates: Templates,
    digest: DigestView,
    changes: Sequence[PaperChange],
    *,
    unsubscribe_url: str | None = None,
) -> RenderedEmail:
    """The correction's subject and parts (``changes``: what the correction changed of the day)."""
    views = change_views(digest, changes)
    counts = [(kind, sum(view.kind == kind for view in views)) for kind in ("changed", "added", "removed")]
    context = {
        **template_context(digest),
        "changes": views,
        "counts": counts,
        "unsubscribe_url": unsubscribe_url,
    }
    subject = one_line(templates.render("email/correction_subject.txt", context))
    preheader = one_line(templates.render("email/correction_preheader.txt", context))
    if len(preheader) > PREHEADER_LENGTH:
        preheader = preheader[: PREHEADER_LENGTH - 1].rstrip() + "…"
    values = {**context, "subject": subject, "preheader": preheader}
    html = templates.render("email/correction.html", values)
    text = templates.render("email/correction.txt", values)
    return RenderedEmail(subject, preheader, text.strip() + "\n", inline_css(html))


def _tags(shown: str) -> tuple[str, ...]:
    """``#a #b`` (how ``corrections`` records tags) → ("a", "b")."""
    return tuple(word.removeprefix("#") for word in shown.split())
