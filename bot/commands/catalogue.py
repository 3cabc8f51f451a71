"""The chat commands as data: one tuple that both platforms register from.

Telegram's ``setMyCommands`` takes a list per ``language_code`` and Discord's app commands take
a name and a description each; both read this tuple, so a command added here appears on both
and ``/help`` lists it without a second copy of its text. Names follow both platforms' rules
(1 to 32 lower-case letters, digits or ``_``) and descriptions fit Discord's 100 characters;
the tests check both.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

LANGUAGES = ("en", "ko")


@dataclass(frozen=True, slots=True)
class CommandInfo:
    """One command: its name, one-line descriptions, and the argument it takes."""

    name: str
    description: str
    description_ko: str
    #: The argument as help shows it (``<tag>`` is required, ``[tags...]`` optional), or "".
    hint: str = ""
    #: A worked example for usage messages, or "".
    example: str = ""
    #: Changes the chat's subscription: adapters pass whether the caller administers the chat.
    admin_only: bool = False

    @property
    def needs_argument(self) -> bool:
        return self.hint.startswith("<")

    def describe(self, lang: str | None = None) -> str:
        """The description in ``lang`` (a Telegram ``language_code`` such as ``ko`` or ``ko-KR``)."""
        return self.description_ko if lang and lang.lower().startswith("ko") else self.description

    @property
    def signature(self) -> str:
        """``/tag <tag>``: the command and its argument, as help lists it."""
        return f"/{self.name} {self.hint}".rstrip()

    @property
    def usage(self) -> str:
        """``/tag <tag>, as in /tag vq``: what a usage hint says."""
        return f"{self.signature}, as in {self.example}" if self.example else self.signature


COMMANDS: tuple[CommandInfo, ...] = (
    CommandInfo("start", "What Paperboy does, and its commands", "Paperboy 소개와 명령어"),
    CommandInfo("help", "The commands and how to use them", "명령어 목록과 사용법"),
    CommandInfo("tag", "Papers with a tag, newest first", "태그가 붙은 논문 (최신순)", "<tag>", "/tag vq"),
    CommandInfo("tags", "Every tag with its number of papers", "모든 태그와 논문 수"),
    CommandInfo(
        "search",
        "Search titles, authors, abstracts and commentary (Korean too)",
        "제목·저자·초록·코멘트 검색 (한국어 포함)",
        "<words>",
        "/search codebook",
    ),
    CommandInfo("latest", "The latest digest", "최신 다이제스트"),
    CommandInfo(
        "paper",
        "One paper in full, by its id",
        "논문 한 편 자세히 보기 (id로)",
        "<id>",
        "/paper arxiv-2406.11837",
    ),
    CommandInfo(
        "similar",
        "Papers like one paper, by its id",
        "비슷한 논문 (id로)",
        "<id>",
        "/similar arxiv-2406.11837",
    ),
    CommandInfo(
        "subscribe",
        "Get the daily digest in this chat, all papers or only some tags",
        "이 채팅에서 매일 다이제스트 받기 (전체 또는 태그 선택)",
        "[tags...]",
        "/subscribe vq llm",
        admin_only=True,
    ),
    CommandInfo(
        "unsubscribe", "Stop the daily digest in this chat", "이 채팅의 다이제스트 구독 해지", admin_only=True
    ),
    CommandInfo("settings", "This chat's subscription", "이 채팅의 구독 설정"),
)

BY_NAME = {info.name: info for info in COMMANDS}


def descriptions(lang: str | None = None) -> list[tuple[str, str]]:
    """``(name, description)`` pairs in ``lang``: Telegram's ``setMyCommands`` list for one language."""
    return [(info.name, info.describe(lang)) for info in COMMANDS]


def command_name(raw: str) -> str:
    """``/Tag@PaperboyBot`` -> ``tag``: Telegram adds the bot's name to commands in groups."""
    return raw.strip().lstrip("/").partition("@")[0].strip().lower()


def closest_command(name: str) -> str | None:
    """The command a typo most likely meant (``tga`` -> ``tag``), if any is close."""
    found = difflib.get_close_matches(name[:32], list(BY_NAME), n=1, cutoff=0.6)
    return found[0] if found else None
