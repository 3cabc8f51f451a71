"""Search for the exported site without a server: a Pagefind index, built at export.

A static host (GitHub Pages, S3, a folder served as files) runs no code, so the exported
``search.html`` searches in the reader's browser: ``search.js`` loads Pagefind's client from
``pagefind/``, which fetches only the index chunks a query needs. The index is built by the
Pagefind binary (the ``pagefind[bin]`` package ships it) over the paper pages alone, one result
per paper: day and tag pages only repeat them. Paperboy's own server answers ``/search.html``
with its server-side search instead (bot/channels/web/reading.py), so its pages keep a
Content-Security-Policy with no scripts at all.

The binary runs inside the export's work folder, before that folder is swapped in, so a reader
never meets a half-built index; a missing or broken binary stops the export with one line.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

from bot.errors import InputError, PaperboyError

#: Where the index and Pagefind's client go, inside the exported site.
INDEX_FOLDER = "pagefind"
#: The pages indexed: one per paper.
PAGES = "papers/*.html"
#: Seconds ``pagefind --version`` may take; indexing itself has no limit.
CHECK_TIMEOUT_S = 30
ENVIRONMENT_KEY = "PAGEFIND_BINARY_PATH"
#: The setting that turns the index off (bot/config.py).
SWITCH = "PAPERBOY_SEARCH_INDEX"
#: Pagefind's peak memory per paper page, as measured (README, Performance).
KB_PER_PAGE = 140
_SIGNALS = {int(s) for s in signal.Signals}


class SearchIndexError(PaperboyError):
    """Pagefind ran but did not build the index (the message holds its last words)."""


def pagefind_binary() -> Path:
    """The binary: ``PAGEFIND_BINARY_PATH`` when set, else the one ``pagefind[bin]`` ships, else
    ``pagefind`` on the PATH (as Pagefind's own Python package looks for it)."""
    from pagefind.service import get_executable

    found = get_executable()
    if found is None:
        raise InputError(
            "no Pagefind binary for the exported site's search: pip install 'pagefind[bin]' (where it"
            f" has a wheel), put pagefind on the PATH, set {ENVIRONMENT_KEY}, or set {SWITCH}=off"
        )
    return found


def check_pagefind() -> str:
    """Pagefind's version, or ``InputError`` saying why the binary cannot be used: checked
    before anything is rendered, so a bad install costs no export."""
    binary = pagefind_binary()
    where = f"{binary} ({ENVIRONMENT_KEY})" if _from_environment(binary) else str(binary)
    try:
        done = subprocess.run(
            [str(binary), "--version"],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=CHECK_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError:
        raise InputError(f"the Pagefind binary {where} does not exist") from None
    except PermissionError:
        raise InputError(f"the Pagefind binary {where} is not executable") from None
    except OSError as exc:
        raise InputError(f"the Pagefind binary {where} cannot run: {exc.strerror or exc}") from None
    except subprocess.TimeoutExpired:
        raise InputError(f"the Pagefind binary {where} did not answer in {CHECK_TIMEOUT_S} s") from None
    version = done.stdout.strip()
    if done.returncode != 0 or not version.startswith("pagefind "):
        said = _said(done) or f"exit status {done.returncode}"
        raise InputError(f"{where} is not a working Pagefind binary: {said}")
    return version.removeprefix("pagefind ")


def build_index(site: Path, folder_name: str = INDEX_FOLDER) -> int:
    """Index the paper pages of the export at ``site`` into ``site/pagefind`` (or another
    folder in it); the number of files written there. ``SearchIndexError`` if Pagefind fails."""
    binary = pagefind_binary()
    site = site.resolve()  # Pagefind runs from inside it
    command = [
        str(binary),
        "--site",
        str(site),
        "--glob",
        PAGES,
        "--output-subdir",
        folder_name,
        "--quiet",
    ]
    try:
        # Run from the site itself: Pagefind also reads a pagefind.yml in its working folder.
        done = subprocess.run(
            command, cwd=site, capture_output=True, text=True, errors="replace", check=False
        )
    except OSError as exc:
        raise SearchIndexError(f"Pagefind could not run: {exc.strerror or exc}") from None
    if done.returncode < 0:  # killed: most likely by the kernel, for memory
        name = signal.Signals(-done.returncode).name if -done.returncode in _SIGNALS else -done.returncode
        raise SearchIndexError(
            f"Pagefind was killed ({name}) while building the search index; if the machine ran out of"
            f" memory (it needs about {KB_PER_PAGE} KB per paper page), set {SWITCH}=off"
        )
    if done.returncode != 0:
        said = _said(done) or f"exit status {done.returncode}"
        raise SearchIndexError(f"Pagefind could not build the search index: {said}")
    folder = site / folder_name
    if not (folder / "pagefind.js").is_file() or not (folder / "pagefind-entry.json").is_file():
        said = _said(done)
        raise SearchIndexError(
            f"Pagefind finished without writing the index into {folder_name}/" + (f": {said}" if said else "")
        )
    for unused in (*folder.glob("pagefind-*ui.*"), *folder.glob("pagefind-highlight.*")):
        unused.unlink()  # Pagefind's ready-made search widgets: search.js uses its API alone
    return sum(1 for path in folder.rglob("*") if path.is_file())


def refresh_index(site: Path) -> int:
    """Index the pages of the site at ``site`` anew, beside the index it has, then put the new
    one in its place (two renames: a search starting in between finds no index, and one
    under way may miss a part of it). The number of files of the new index."""
    if not any((site / "papers").glob("*.html")):
        return 0  # Pagefind refuses to index nothing
    fresh, old = site / f".{INDEX_FOLDER}-new", site / f".{INDEX_FOLDER}-old"
    for leftover in (fresh, old):
        shutil.rmtree(leftover, ignore_errors=True)
    try:
        files = build_index(site, fresh.name)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    if (site / INDEX_FOLDER).exists():
        (site / INDEX_FOLDER).rename(old)
    fresh.rename(site / INDEX_FOLDER)
    shutil.rmtree(old, ignore_errors=True)
    return files


def _from_environment(binary: Path) -> bool:
    """Whether the binary came from Pagefind's own variable (which its package reads, not
    Paperboy's settings): a message then says where that path came from."""
    return os.environ.get(ENVIRONMENT_KEY) == str(binary)


def _said(done: subprocess.CompletedProcess[str]) -> str:
    """The line of a run's output that says what went wrong: Pagefind's ``Error:`` line, else
    the last line on stderr, else on stdout ("" if it said nothing)."""
    errors = [line.strip() for line in done.stderr.splitlines() if line.strip()]
    output = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    flagged = [line for line in errors + output if line.lower().startswith("error")]
    chosen = flagged or errors or output
    return chosen[0 if flagged else -1][:300] if chosen else ""
