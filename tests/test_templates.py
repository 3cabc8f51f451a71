"""Templates: a deployment's overrides win file by file; a broken one names its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import DEFAULT_TEMPLATES
from bot.render.context import digest_view
from bot.render.environment import Templates, escape_markdown
from bot.render.errors import TemplateProblem
from bot.render.telegram import render_telegram
from tests.hostile import DAY, hostile_papers


def override(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / "mine" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return tmp_path / "mine"


def test_an_override_replaces_one_template_and_the_rest_stay(tmp_path: Path) -> None:
    folder = override(tmp_path, "telegram/header.html", "<b>Our lab's digest</b> for {{ digest.date }}\n")
    messages = render_telegram(
        Templates(DEFAULT_TEMPLATES, folder), digest_view(DAY, hostile_papers()[:1], None)
    )
    assert messages[0].text.startswith("<b>Our lab's digest</b> for 2024-09-01")
    assert "<blockquote expandable>" in messages[0].text  # the shipped paper template still renders


def test_a_syntax_error_names_file_and_line_when_loading(tmp_path: Path) -> None:
    folder = override(tmp_path, "telegram/paper.html", "<b>{{ paper.title }}</b>\n{% if %}\n")
    with pytest.raises(TemplateProblem) as caught:
        Templates(DEFAULT_TEMPLATES, folder)
    assert caught.value.path == str(folder / "telegram" / "paper.html")
    assert caught.value.line == 2
    assert str(caught.value).startswith(f"{folder / 'telegram' / 'paper.html'}:2: ")


def test_a_rendering_error_names_file_and_line(tmp_path: Path) -> None:
    folder = override(tmp_path, "telegram/header.html", "line one\n{{ digest.no_such_field }}\n")
    templates = Templates(DEFAULT_TEMPLATES, folder)
    with pytest.raises(TemplateProblem) as caught:
        render_telegram(templates, digest_view(DAY, hostile_papers()[:1], None))
    assert (caught.value.path, caught.value.line) == (str(folder / "telegram" / "header.html"), 2)
    assert "no_such_field" in caught.value.message


def test_a_missing_overrides_folder_is_reported(tmp_path: Path) -> None:
    with pytest.raises(TemplateProblem, match="the templates folder does not exist"):
        Templates(DEFAULT_TEMPLATES, tmp_path / "nope")


def test_every_shipped_template_compiles() -> None:
    names = Templates(DEFAULT_TEMPLATES).names()
    for expected in (
        "telegram/paper.html",
        "discord/description.md",
        "email/digest.html",
        "email/digest.txt",
        "feed/item.html",
        "web/day.html",
        "web/paper.html",
        "web/tag.html",
        "web/tags.html",
    ):
        assert expected in names


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("*a* _b_ ~c~ `d` |e|", "\\*a\\* \\_b\\_ \\~c\\~ \\`d\\` \\|e\\|"),
        ("> quote\n# heading\n- item", "\\> quote\n\\# heading\n\\- item"),
        ("a > b - c # d", "a > b - c # d"),  # only at the start of a line do these mean anything
        ("see https://x.org/a_b*c", "see https://x.org/a_b*c"),
        ("[text](https://evil.example)", "\\[text\\](https://evil.example)"),
    ],
)
def test_escape_markdown(text: str, escaped: str) -> None:
    assert escape_markdown(text) == escaped
