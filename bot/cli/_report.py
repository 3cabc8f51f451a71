"""What ``publish`` says: the JSON object and the lines of text of a publish report, and the
small formatting helpers of the publishing commands."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from bot.config import Settings


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else many or one + 's'}"


def publish_json(report: Any, off: Mapping[str, str], waiting: int, backfill: bool) -> dict[str, Any]:
    fanout = report.fanout
    return {
        "date": report.day.isoformat(),
        "source": report.source,
        "papers": report.papers,
        "subscribers": report.audience,
        "new_deliveries": report.opened,
        "site": report.site,
        "site_error": report.site_error,
        "search_index_error": report.index_error,
        "site_update": _site_update(report.site_update),
        "dry_run": report.dry_run,
        "backfill": backfill,
        "sent": fanout.sent if fanout else 0,
        "failed": fanout.failed if fanout else 0,
        "gone": fanout.gone if fanout else 0,
        "corrected": fanout.edits.corrected if fanout and fanout.edits else 0,
        "messages_edited": fanout.edits.messages if fanout and fanout.edits else 0,
        "edits_failed": fanout.edits.failed if fanout and fanout.edits else 0,
        "waiting": waiting,
        "publish_time": report.cutoff.isoformat() if report.cutoff else None,
        "passed_over": dict(report.who.passed_over),
        "inactive_by_status": dict(sorted(report.who.inactive.items())),
        "backfilled": report.who.backfilled,
        "channels_off": {
            kind: {"subscribers": count, "reason": off.get(kind, "off")}
            for kind, count in sorted(report.waiting_off.items())
        },
    }


#: How ``publish`` names a subscription's status when it explains why it was passed over.
_INACTIVE = {"pending": "awaiting email confirmation", "paused": "paused", "gone": "retired (gone)"}


def explain_audience(
    report: Any, off: Mapping[str, str], settings: Settings, date: dt.date, kinds: tuple[str, ...]
) -> list[str]:
    """Whom the day left out and why, and whose deliveries wait for a channel that is off: so a
    newcomer who subscribed a minute ago reads why the old day they published sent nothing."""
    who, lines = report.who, []
    passed = who.passed_over
    reasons = []
    if passed["joined_after"]:
        when = f"{report.cutoff:%Y-%m-%d %H:%M} {settings.timezone.key}" if report.cutoff else "it"
        reasons.append(
            f"{passed['joined_after']} subscribed after the day went out ({when}): new subscribers get"
            f" no back issues; `paperboy publish {date} --backfill` sends it to them"
        )
    if passed["tags"]:
        reasons.append(f"{passed['tags']} follow tags none of the day's papers has")
    if passed["inactive"]:
        statuses = ", ".join(f"{n} {_INACTIVE.get(s, s)}" for s, n in sorted(who.inactive.items()))
        reasons.append(f"{passed['inactive']} inactive ({statuses})")
    if passed["other_channel"]:
        reasons.append(f"{passed['other_channel']} on other channels than {', '.join(kinds)}")
    total = sum(passed.values())
    if reasons:
        lines.append(f"passed over {plural(total, 'subscriber')}:")
        lines += [f"  {reason}" for reason in reasons]
    if who.backfilled:
        lines.append(f"backfilled {who.backfilled} who subscribed after the day's publish time")
    for kind, count in sorted(report.waiting_off.items()):
        lines.append(
            f"{plural(count, 'waits', 'wait')} for {kind}, which is off: {off.get(kind, 'no sender here')}"
        )
    return lines


def waiting_for_a_time(settings: Settings, count: int = 2) -> str:
    """Why deliveries wait for a set time: a platform's retry-after, or the email window."""
    verb = "waits" if count == 1 else "wait"
    if settings.smtp_window is None:
        return f"{verb} for a retry a platform asked for"
    return (
        f"{verb} for a retry or for the email window (PAPERBOY_SMTP_WINDOW {settings.smtp_window}) to reopen"
    )


def iso_time(when: dt.datetime | None) -> str | None:
    return when.isoformat() if when else None


def local(when: dt.datetime, settings: Settings) -> str:
    """A time as the operator reads it: in PAPERBOY_TIMEZONE, to the second (rounded up: nothing
    goes before the time shown)."""
    if when.microsecond:
        when = when.replace(microsecond=0) + dt.timedelta(seconds=1)
    return when.astimezone(settings.timezone).strftime("%Y-%m-%d %H:%M:%S %Z")


def _site_update(update: Any) -> dict[str, Any] | None:
    """What the site's update did: files written and removed and how long it took, or why the
    site was exported whole instead."""
    if update is None:
        return None
    return {
        "exported_whole": update.reason if update.exported else None,
        "files_written": update.written,
        "files_removed": update.removed,
        "seconds": round(update.seconds, 3),
        "cpu_seconds": round(update.cpu_seconds, 3),
    }


def site_phrase(update: Any) -> str:
    """``, web archive and feeds updated (1,959 files in 1.62 s)``: the end of publish's first line."""
    if update is None:
        return ", web archive and feeds updated"
    done = f"({update.written:,} files in {update.seconds:.2f} s)"
    if update.exported:
        return f", web archive and feeds exported whole {done}: {update.reason}"
    return f", web archive and feeds updated {done}"
