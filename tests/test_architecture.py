"""The import graph flows one way, and no module grows into a god module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGES = ("bot", "scheduler")
MAX_LINES = 400
MODULES = sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def dotted(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, module: str) -> set[str]:
    """Every module ``module`` (at ``path``) imports, absolute, including imports inside functions."""
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def test_the_tree_is_found() -> None:
    names = {dotted(p) for p in MODULES}
    assert {"bot.archive.store", "bot.cli", "bot.desk", "bot.models", "scheduler"} <= names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: dotted(p))
def test_imports_flow_one_way(path: Path) -> None:
    name = dotted(path)
    found = imports(path, name)
    top = {module.split(".")[0] for module in found}
    if not name.startswith("bot.cli"):
        assert "scheduler" not in top or name.startswith("scheduler"), "only the CLI may import scheduler"
    if name in ("bot.models", "bot.errors", "bot.config"):
        inner = {m for m in found if m.startswith("bot.") and not m.startswith("bot.errors")}
        assert not inner, "leaf modules import nothing from bot but its errors"
    if name.startswith("bot.archive"):
        allowed = ("bot.archive", "bot.models", "bot.errors")
        outside = {m for m in found if m.startswith("bot.") and not m.startswith(allowed)}
        assert not outside, f"the archive knows nothing of channels, rendering or the CLI: {outside}"
    if name.startswith("bot.suggest"):
        allowed = ("bot.suggest", "bot.archive", "bot.models", "bot.errors")
        outside = {m for m in found if m.startswith("bot.") and not m.startswith(allowed)}
        assert not outside, f"the tag model reads the archive and knows nothing of channels: {outside}"
    if name == "bot.metrics":
        assert not {m for m in found if m.startswith("bot.")}, "the metrics module imports nothing of bot"
    if "prometheus_client" in top:
        assert name in ("bot.metrics", "bot.channels.web.metrics"), (
            "prometheus-client stays behind bot.metrics"
        )
    if "pythonjsonlogger" in top:
        assert name == "bot.cli._logging", "the log's format is the CLI's choice"
    if "sklearn" in top:
        assert name.startswith("bot.suggest"), "scikit-learn is imported only by the tag model"
    for sdk in ("discord", "telegram"):
        if sdk in top:
            assert name.startswith(f"bot.channels.{sdk}"), f"{sdk} is imported only by its channel"
    if "feedgen" in top:
        assert name == "bot.channels.feeds", "feedgen is imported only by the feeds channel"
    if "jinja2" in top:
        assert name.startswith("bot.render"), "rendering is the only Jinja2 user"
    if name.startswith("bot.render"):
        outside = {m for m in found if m.startswith(("bot.channels", "bot.cli", "bot.desk", "scheduler"))}
        assert not outside, f"rendering knows nothing of channels, the desk or the CLI: {outside}"
    if name.startswith("bot.desk"):
        outside = {m for m in found if m.startswith(("bot.channels", "bot.cli", "bot.commands", "scheduler"))}
        assert not outside, f"the curator's desk is platform-neutral, below the chat adapters: {outside}"
    if name.startswith("bot.channels"):
        assert not {m for m in found if m.startswith("bot.cli")}, "channels never import the CLI"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: dotted(p))
def test_no_god_modules(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, (
        f"{path.relative_to(ROOT)} has {lines} lines: split it along a line a newcomer would guess"
    )


def test_the_checker_sees_imports_inside_functions(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    import scheduler.jobs\n    from .archive import store\n")
    assert {"scheduler.jobs", "bot.archive", "bot.archive.store"} <= imports(probe, "bot.probe")
