"""``paperboy subscriptions add|list|remove``: who receives digests."""

from __future__ import annotations

from typing import Any

import click

from bot import subscriptions as store
from bot.cli import cli
from bot.cli._output import emit
from bot.cli.archive import json_option, open_settings_archive, pass_settings
from bot.config import Settings
from bot.models import Subscription


def subscription_json(sub: Subscription) -> dict[str, Any]:
    return {
        "target": sub.address,
        "kind": sub.kind,
        "tags": list(sub.tags),
        "status": sub.status,
        "created": sub.created.isoformat(),
        "last_error": sub.last_error,
        "mention": sub.mention,
    }


@cli.group("subscriptions")
def subscriptions_group() -> None:
    """Who receives digests: telegram:-100123, discord:CHANNEL_ID, discord-webhook:URL, email:ADDRESS."""


@subscriptions_group.command("add")
@click.argument("address", metavar="KIND:TARGET")
@click.option("--tags", multiple=True, help="Only papers with these tags (vq,llm).")
@click.option(
    "--mention",
    metavar="ROLE",
    help="Discord: a role (its id, or <@&id>) to mention at the top of each digest; it alone is pinged.",
)
@click.option(
    "--send-latest",
    is_flag=True,
    help="Also send the latest published digest now (chat /subscribe does, per PAPERBOY_SEND_LATEST).",
)
@json_option
@pass_settings
def add(
    settings: Settings,
    address: str,
    tags: tuple[str, ...],
    mention: str | None,
    send_latest: bool,
    as_json: bool,
) -> None:
    """Subscribe a target (or change an existing subscription's tags and reactivate it).

    No back issues: the subscription gets the days published after it, and with --send-latest
    the latest one too, sent now if its channel is on here, else by the running service.
    A webhook's URL holds its secret token: only the JSON output repeats it.
    """
    welcomed = None
    with open_settings_archive(settings) as archive:
        sub = store.add(archive, address, tags, mention=mention)
        if send_latest:
            welcomed = _send_latest(settings, archive, sub)
    if as_json:
        emit(subscription_json(sub))
        return
    topics = f" to {' '.join('#' + t for t in sub.tags)}" if sub.tags else ""
    click.echo(
        f"{sub.label}: subscribed{topics}" + (f", mentioning <@&{sub.mention}>" if sub.mention else "")
    )
    if send_latest:
        click.echo(f"latest digest: {welcomed}" if welcomed else "latest digest: none to send")


def _send_latest(settings: Settings, archive: Any, sub: Subscription) -> str | None:
    from bot.cli.publishing import publisher_for, sending

    publisher = publisher_for(settings, archive)
    day = publisher.welcome(sub)
    if day is None:
        return None
    if sub.kind not in publisher.channels:
        return f"{day} queued (the {sub.kind} channel is off in this process)"
    report = sending(publisher, publisher.deliver)
    return f"{day} sent" if report.sent else f"{day} queued ({'; '.join(report.errors) or 'will retry'})"


@subscriptions_group.command("list")
@click.option("--status", type=click.Choice(["active", "paused", "gone"]))
@json_option
@pass_settings
def list_(settings: Settings, status: str | None, as_json: bool) -> None:
    """Every subscription, with its status and last error."""
    with open_settings_archive(settings) as archive:
        found = store.all_subscriptions(archive, status=status)
    if as_json:
        emit({"subscriptions": [subscription_json(sub) for sub in found]})
        return
    for sub in found:
        tags = " ".join("#" + t for t in sub.tags) or "all papers"
        error = f"  ({sub.last_error})" if sub.last_error else ""
        mention = f" (mentions <@&{sub.mention}>)" if sub.mention else ""
        click.echo(f"{sub.label:<40} {sub.status:<7} {tags}{mention}{error}")
    if not found:
        click.echo("No subscriptions yet: paperboy subscriptions add telegram:-100123")


@subscriptions_group.command("remove")
@click.argument("address", metavar="KIND:TARGET")
@pass_settings
def remove(settings: Settings, address: str) -> None:
    """Unsubscribe a target; its delivery history goes with it."""
    with open_settings_archive(settings) as archive:
        sub = store.remove(archive, address)
    click.echo(f"{sub.label}: unsubscribed")
