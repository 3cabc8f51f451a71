"""Rendering errors, located in the template that caused them."""

from __future__ import annotations

from bot.errors import PaperboyError


class TemplateProblem(PaperboyError):
    """A template that cannot be compiled or rendered: ``FILE:LINE: what is wrong``."""

    exit_code = 2

    def __init__(self, path: str, line: int | None, message: str) -> None:
        super().__init__(f"{path}:{line or 1}: {message}")
        self.path = path
        self.line = line or 1
        self.message = message
