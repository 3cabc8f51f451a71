"""The checkers the render tests rely on reject what Telegram and Discord reject."""

from __future__ import annotations

import pytest

from tests.platform_rules import discord_problems, telegram_problems, telegram_text


@pytest.mark.parametrize(
    ("markup", "problem"),
    [
        ("<br>", "unsupported tag <br>"),
        ("<p>x</p>", "unsupported tag <p>"),
        ("<b>x", "unclosed tags"),
        ("<b><i>x</b></i>", "does not close"),
        ("<a>x</a>", "<a> without href"),
        ('<b class="x">x</b>', "attribute 'class' on <b>"),
        ("a & b", "bare &"),
        ("a &nbsp; b", "named entity &nbsp;"),
        ("x" * 4097, "4097 characters"),
        ("🙂" * 2049, "4098 characters"),  # UTF-16: each emoji counts twice
        ("<b> </b>", "empty message"),
    ],
)
def test_telegram_rejects(markup: str, problem: str) -> None:
    assert any(problem in found for found in telegram_problems(markup)), telegram_problems(markup)


def test_telegram_accepts_what_telegram_accepts() -> None:
    markup = '<b>a &lt;0.5% &amp; b</b>\n<blockquote expandable>x</blockquote> <a href="https://x.org/?a=1&amp;b=2">l</a>'
    assert telegram_problems(markup) == []
    assert telegram_problems("&#128512; " + "x" * 4093) == []  # the emoji counts 2, the space 1
    assert telegram_text("<b>a &lt; b</b>") == "a < b"


def embed(**values: object) -> dict[str, object]:
    return {"title": "t", "description": "d", **values}


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        ({"content": "x" * 2001}, "content has 2001"),
        ({"content": "", "embeds": []}, "neither content nor embeds"),
        ({"content": "x", "embeds": [embed()] * 11}, "11 embeds"),
        ({"content": "", "embeds": [embed(title="x" * 257)]}, "title has 257"),
        ({"content": "", "embeds": [embed(description="x" * 4097)]}, "description has 4097"),
        ({"content": "", "embeds": [embed(fields=[{"name": "n", "value": "v"}] * 26)]}, "26 fields"),
        (
            {"content": "", "embeds": [embed(fields=[{"name": "n", "value": "v" * 1025}])]},
            "field_value has 1025",
        ),
        ({"content": "", "embeds": [embed(fields=[{"name": " ", "value": "v"}])]}, "empty field_name"),
        ({"content": "", "embeds": [embed(footer={"text": "f" * 2049})]}, "footer has 2049"),
        ({"content": "", "embeds": [embed(description="x" * 3000)] * 3}, "embeds hold 9003"),
        ({"content": "", "embeds": [embed(url="javascript:alert(1)")]}, "not http(s)"),
    ],
)
def test_discord_rejects(message: dict[str, object], problem: str) -> None:
    assert any(problem in found for found in discord_problems(message)), discord_problems(message)


def test_discord_accepts_a_full_message() -> None:
    message = {"content": "x" * 2000, "embeds": [embed(description="x" * 590, url="https://x.org")] * 10}
    assert discord_problems(message) == []
