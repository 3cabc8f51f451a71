"""What a command answers: plain frozen dataclasses, one per kind of reply.

The platforms differ only in how they show an answer (Telegram HTML and inline buttons,
Discord embeds and components), so an answer is data, never markup: adapters pick a template
by the answer's type. Every answer also has ``text``, a plain one-line English summary, enough
for the short replies (a notice, a refusal, a subscription change) and a fallback for others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.commands.catalogue import CommandInfo
from bot.models import Appearance, Subscription, TagCount
from bot.render.context import DigestView, PaperView


def _tags(tags: tuple[str, ...]) -> str:
    return ", ".join(f"#{tag}" for tag in tags)


def _mention(sub: Subscription) -> str:
    """How a reply names a subscription's role: ``<@&id>``, which Discord shows as the role."""
    return f" It mentions <@&{sub.mention}> when the digest has papers for it." if sub.mention else ""


@dataclass(frozen=True)
class PapersPage:
    """One page of a tag's papers (newest first) or of a search's matches (best first).

    ``older`` and ``newer`` are cursors for the following and preceding page (for a search:
    lower and higher ranked), ``None`` at either end. ``capped``: a search matched more than
    it pages through, so ``total`` is a lower bound ("50+").

    A tag's listing is the curator's papers, then those the model suggests the tag for:
    ``curated`` counts the curator's, and ``suggested`` names the papers of this page that are
    only suggested, which every reply marks as such (a reader must never take the model's
    guess for the curator's word).
    """

    title: str
    papers: tuple[PaperView, ...]
    page: int
    pages: int
    total: int
    per_page: int
    older: str | None = None
    newer: str | None = None
    tag: str | None = None
    query: str | None = None
    capped: bool = False
    curated: int | None = None
    suggested: frozenset[str] = frozenset()

    def is_suggested(self, paper: PaperView) -> bool:
        return paper.id in self.suggested

    @property
    def first_suggested(self) -> str | None:
        """The id of this page's first suggested paper, where the suggested ones begin."""
        return next((paper.id for paper in self.papers if paper.id in self.suggested), None)

    @property
    def first(self) -> int:
        """The rank of this page's first paper (1 on page 1), for numbered lists."""
        return (self.page - 1) * self.per_page + 1

    @property
    def remaining(self) -> int:
        """Matches after this page. Non-zero with no ``older`` cursor: a search too long to page."""
        return max(0, self.total - (self.page - 1) * self.per_page - len(self.papers))

    @property
    def text(self) -> str:
        count = f"{self.total}{'+' if self.capped else ''} paper{'' if self.total == 1 else 's'}"
        if self.curated is not None and self.curated < self.total:
            count += f" ({self.total - self.curated} suggested)"
        return f"{self.title}: {count}, page {self.page} of {self.pages}"


@dataclass(frozen=True)
class RelatedPaper:
    """A paper close to the one asked about: ``score`` is the cosine of their features (0-1)."""

    id: str
    title: str
    score: float
    link: str | None = None


@dataclass(frozen=True)
class SimilarPapers:
    """/similar ID: the nearest papers to ``paper`` in the archive, best first (never itself)."""

    paper: PaperView
    similar: tuple[RelatedPaper, ...]

    @property
    def text(self) -> str:
        count = len(self.similar)
        return f"Papers like {self.paper.title}: {count} paper{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class Suggestions:
    """No paper has the tag ``asked``; ``tags`` are the closest existing ones (maybe none)."""

    asked: str
    tags: tuple[TagCount, ...]

    @property
    def text(self) -> str:
        if not self.tags:
            return f"No paper is tagged #{self.asked}. Send /tags to see every tag."
        return f"No paper is tagged #{self.asked}. Did you mean {_tags(tuple(t.tag for t in self.tags))}?"


@dataclass(frozen=True)
class TagList:
    """The most used tags (at most the adapter's limit) and how many tags there are in all."""

    tags: tuple[TagCount, ...]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.tags)

    @property
    def text(self) -> str:
        return f"{self.total} tag{'' if self.total == 1 else 's'}, most used first"


@dataclass(frozen=True)
class PaperDetail:
    """One paper in full, with every document that wrote it up (earliest digest first)."""

    paper: PaperView
    appearances: tuple[Appearance, ...]

    @property
    def text(self) -> str:
        return self.paper.title


@dataclass(frozen=True)
class LatestDigest:
    """The newest day's digest, as every channel's templates already render one."""

    view: DigestView

    @property
    def text(self) -> str:
        day = self.view.date.isoformat() if self.view.date else "the queue"
        return f"Digest of {day}: {self.view.count} paper{'' if self.view.count == 1 else 's'}"


@dataclass(frozen=True)
class Help:
    """What the bot does and its commands; ``greeting`` for ``/start``, a first contact."""

    intro: str
    commands: tuple[CommandInfo, ...]
    greeting: bool = False

    @property
    def text(self) -> str:
        lines = [f"{info.signature}: {info.description}" for info in self.commands]
        return "\n".join([self.intro, "", *lines])


@dataclass(frozen=True)
class Notice:
    """Nothing went wrong but there is nothing to show (no match, no digest yet)."""

    text: str


@dataclass(frozen=True)
class Error:
    """The input cannot be answered as given: what is wrong, and how the command is used."""

    text: str
    usage: str | None = None


@dataclass(frozen=True)
class Refused:
    """The caller may not do this here (only chat administrators change a subscription)."""

    text: str


Change = Literal["new", "updated", "reactivated", "already"]


@dataclass(frozen=True)
class Subscribed:
    """The chat's subscription after ``/subscribe``, and what changed.

    ``change``: ``new``; ``updated`` (other tags, or another role to mention); ``reactivated``
    (it was paused, or retired after failed deliveries); ``already`` (nothing to change).
    ``unknown_tags`` are tags no paper has yet: kept (future papers may have them) but worth a
    warning, as likely typos.
    """

    subscription: Subscription
    change: Change
    previous: Subscription | None = None
    unknown_tags: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        what = _tags(self.subscription.tags) if self.subscription.tags else "every paper"
        lead = {
            "new": "Subscribed",
            "updated": "Subscription updated",
            "reactivated": "Subscription resumed",
            "already": "Already subscribed",
        }[self.change]
        text = f"{lead}: this chat gets the daily digest ({what})." + _mention(self.subscription)
        if self.unknown_tags:
            text += f" No paper is tagged {_tags(self.unknown_tags)} yet."
        return text


@dataclass(frozen=True)
class Unsubscribed:
    subscription: Subscription

    @property
    def text(self) -> str:
        return "Unsubscribed: this chat no longer gets the daily digest."


@dataclass(frozen=True)
class NotSubscribed:
    address: str

    @property
    def text(self) -> str:
        return "This chat has no subscription. /subscribe starts one."


@dataclass(frozen=True)
class ChatSettings:
    """A chat's subscription, or None when it has none."""

    address: str
    subscription: Subscription | None

    @property
    def text(self) -> str:
        sub = self.subscription
        if sub is None:
            return "This chat has no subscription. /subscribe starts one."
        what = _tags(sub.tags) if sub.tags else "every paper"
        state = {"paused": "paused", "gone": "stopped after failed deliveries"}.get(sub.status, sub.status)
        return f"This chat gets the daily digest ({what}); the subscription is {state}." + _mention(sub)


Answer = (
    PapersPage
    | SimilarPapers
    | Suggestions
    | TagList
    | PaperDetail
    | LatestDigest
    | Help
    | Notice
    | Error
    | Refused
    | Subscribed
    | Unsubscribed
    | NotSubscribed
    | ChatSettings
)
