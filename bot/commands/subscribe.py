"""/subscribe, /unsubscribe and /settings: a chat's own subscription, through ``bot.subscriptions``.

The chat is the subscription's address (``telegram:-100123``, ``discord:CHANNEL_ID``), given
by the adapter, never typed by the user, so nobody can change another chat's subscription.
Who may change it is the platform's knowledge (Telegram's chat administrators, Discord's
Manage Channels permission): the adapter passes ``is_admin`` and anyone else is refused.
Reading the settings is open to every member.

Subscribing again is never an error: it sets the tags given (none: every paper) and resumes a
subscription that was paused or retired after failed deliveries, which is what someone typing
/subscribe means. The answer says which of these happened.

A role mention among the arguments (``vq <@&123456789012345678>``, the form Discord writes a role
in text and its adapter passes a role option in) is the role the digest mentions; it is set, or
cleared when absent, like the tags. ``bot.subscriptions`` refuses it for any other platform.
"""

from __future__ import annotations

import re

from bot import subscriptions
from bot.archive import queries
from bot.archive.store import Archive
from bot.commands.arguments import Request
from bot.commands.results import (
    Change,
    ChatSettings,
    NotSubscribed,
    Refused,
    Subscribed,
    Unsubscribed,
)
from bot.errors import InputError, NotFound
from bot.models import Subscription

ADMIN_ONLY = "Only chat administrators can change this chat's subscription."
NO_CHAT = "Subscriptions belong to a chat or channel; send this command in one."
#: More tags than anyone follows on purpose; it keeps a subscription's row and reply small.
MAX_TAGS = 20
_ROLE = re.compile(r"<@&([0-9]{15,21})>")


def subscribe(request: Request) -> Subscribed | Refused:
    """/subscribe [tags...] [<@&role>]: start, change or resume this chat's subscription."""
    address = _address(request)
    if not request.is_admin:
        return Refused(ADMIN_ONLY)
    roles = _ROLE.findall(request.args)
    if len(roles) > 1:
        raise InputError(f"That names {len(roles)} roles; a subscription mentions one at most.")
    wanted = subscriptions.parse_tags([_ROLE.sub(" ", request.args)])
    if len(wanted) > MAX_TAGS:
        raise InputError(f"That is {len(wanted)} tags; a subscription follows at most {MAX_TAGS}.")
    before = _find(request.archive, address)
    mention = roles[0] if roles else None
    after = subscriptions.add(request.archive, address, wanted, now=request.now, mention=mention)
    known = {count.tag for count in queries.tag_counts(request.archive)}
    unknown = tuple(tag for tag in after.tags if tag not in known)
    return Subscribed(after, _change(before, after), before, unknown)


def unsubscribe(request: Request) -> Unsubscribed | NotSubscribed | Refused:
    """/unsubscribe: stop this chat's subscription (there is nothing to undo if it has none)."""
    address = _address(request)
    if not request.is_admin:
        return Refused(ADMIN_ONLY)
    if _find(request.archive, address) is None:
        return NotSubscribed(address)
    return Unsubscribed(subscriptions.remove(request.archive, address))


def settings(request: Request) -> ChatSettings:
    """/settings: this chat's subscription, its tags and state."""
    address = _address(request)
    return ChatSettings(address, _find(request.archive, address))


def _address(request: Request) -> str:
    if not request.chat:
        raise InputError(NO_CHAT)
    kind, target = subscriptions.parse_address(request.chat)
    return f"{kind}:{target}"


def _find(archive: Archive, address: str) -> Subscription | None:
    try:
        return subscriptions.get(archive, address)
    except NotFound:
        return None


def _change(before: Subscription | None, after: Subscription) -> Change:
    if before is None:
        return "new"
    if before.status != "active":
        return "reactivated"
    same = before.tags == after.tags and before.mention == after.mention
    return "already" if same else "updated"
