"""The web archive kept up to date by commands other than ``publish`` (a correction ingested)."""

from __future__ import annotations

import click

from bot.archive.store import Archive
from bot.config import Settings


def update_site_for(settings: Settings, archive: Archive, *, quiet: bool = False) -> bool:
    """Update the site at PAPERBOY_SITE_DIR (and its search index, with
    PAPERBOY_SEARCH_INDEX=always); a failure is said on stderr and changes nothing else."""
    from bot.channels.web.update import refresh_search_index, update_site
    from bot.cli.discovery import features_folder
    from bot.cli.render import load_templates

    site = settings.site_dir
    try:
        report = update_site(
            archive,
            load_templates(settings),
            site,
            base_url=settings.base_url,
            site_url=settings.site_url,
            features=features_folder(settings),
            feed_suggested=settings.feed_suggested_tags,
        )
        refresh_search_index(site, settings.search_index)
    except Exception as exc:  # the archive has the correction; the site catches up at the next publish
        click.echo(
            f"paperboy: the web archive at {site} was not updated: {exc}; the next publish or"
            " `paperboy export-site` brings it up to date",
            err=True,
        )
        return False
    if not quiet:
        from bot.cli._progress import say

        how = f"exported whole ({report.reason})" if report.exported else "updated"
        say(f"{site}: web archive {how}, {report.written} files written")
    return True
