"""axe-core, Deque's accessibility engine, from its npm package at a pinned version: fetched once
from the npm registry into a cache folder and checked against the registry's own integrity hash
(sha512), then injected into a page by the browser tests. No Node.js is needed to run it."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import tarfile
import urllib.request
from pathlib import Path
from typing import Any

from tests.conftest import unavailable

VERSION = "4.10.2"
TARBALL = f"https://registry.npmjs.org/axe-core/-/axe-core-{VERSION}.tgz"
INTEGRITY = "sha512-RE3mdQ7P3FRSe7eqCWoeQ/Z9QXrtniSjp1wUjt5nRC3WIpz5rSCve6o3fsZ2aCpJtrZjSZgjwXAoTO5k4tEI0w=="
CACHE = Path(os.environ.get("PAPERBOY_TEST_CACHE") or Path.home() / ".cache" / "paperboy-tests")


def axe_source() -> str:
    """axe.min.js, from the cache or the registry (a failure under PAPERBOY_REQUIRE_CHROMIUM=1)."""
    script = CACHE / f"axe-core-{VERSION}.min.js"
    if script.is_file():
        return script.read_text()
    try:
        with urllib.request.urlopen(TARBALL, timeout=60) as answer:
            packed = answer.read()
    except OSError as exc:
        unavailable("PAPERBOY_REQUIRE_CHROMIUM", f"cannot fetch axe-core {VERSION} from npm: {exc}")
    digest = "sha512-" + base64.b64encode(hashlib.sha512(packed).digest()).decode()
    assert digest == INTEGRITY, f"axe-core {VERSION} from npm does not match its pinned integrity hash"
    with tarfile.open(fileobj=io.BytesIO(packed), mode="r:gz") as tar:
        member = tar.extractfile("package/axe.min.js")
        assert member is not None
        source = member.read().decode()
    CACHE.mkdir(parents=True, exist_ok=True)
    script.write_text(source)
    return source


def serious_violations(page: Any) -> list[str]:
    """axe's serious and critical violations on the page as loaded, one line each. The script is
    evaluated through the DevTools protocol; open the page with ``bypass_csp`` so that the
    page's Content-Security-Policy (no script at all) lets it run."""
    page.evaluate(axe_source() + "\n;0")
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v.get("impact") in ("serious", "critical")
    ]
