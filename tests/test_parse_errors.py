"""Malformed input is refused with FILE:LINE: what is wrong, never a traceback or a guess."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.archive.parsers import Document, parse_document, read_document
from bot.errors import ParseError


def error_of(text: str, name: str = "post.txt") -> ParseError:
    with pytest.raises(ParseError) as caught:
        parse_document(Document(name, text))
    return caught.value


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("2024년 2월 30일\nT\n(A)\nabs\n코멘트\n#x\n", 1, "impossible date '2024년 2월 30일'"),
        ("2023년 13월 1일\nT\n(A)\nabs\n#x\n", 1, "impossible date"),
        ("2024년 3월 1일\nA Title\n", 2, "entry 'A Title' is cut short: nothing follows its title"),
        ("2024년 3월 1일\nA Title\nno parentheses here\n", 3, "expected the authors in parentheses"),
        ("2024년 3월 1일\nA Title\n(A, B)\nabstract\n코멘트\n", 2, "the file ends before its line of #tags"),
        ("2024년 3월 1일\nA Title\n(A, B)\n#x\n", 4, "entry 'A Title' has no abstract"),
        ("2024년 3월 1일\n#x\n", 2, "a line of #tags with no paper before it"),
        ("2024년 3월 1일\n", 1, "a date but no papers"),
        ("2024년 3월 1일\nT\n(A)\nabs\n코멘트\n#ok #bad!tag\n", 6, "'#bad!tag' is not a tag"),
        (
            "2024년 3월 1일\nFirst\n(A)\nabs one\n코멘트\nSecond Title\n(B, C)\nabs two\n코멘트\n#x\n",
            6,
            "entry 'First' (line 2) has no line of #tags before the next paper 'Second Title'",
        ),
    ],
)
def test_daily_post_problems(text: str, line: int, words: str) -> None:
    error = error_of(text)
    assert error.line == line
    assert words in error.message
    assert str(error).startswith(f"post.txt:{line}: ")


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (
            "Daily Papers\nDec 11\nA Title\n\nabstract\n• 3 authors\n·\nFeb 30, 2023\n",
            8,
            "impossible date 'Feb 30, 2023'",
        ),
        ("Daily Papers\nDec 11\nA Title\n• 3 authors\n·\nOct 4, 2023\n", 4, "has no abstract"),
        (
            "Daily Papers\nDec 11\nA Title\nabstract\n• 3 authors\n·\nnot a date\n",
            7,
            "expected the date of 'A Title'",
        ),
        ("Daily Papers\nDec 11\nA Title\nabstract\n• 3 authors\n·\nOct 4, 2023\nCut Title\n", 8, "cut short"),
        ("Daily Papers\n• 3 authors\n·\n", 1, "without its page date"),
    ],
)
def test_listing_problems(text: str, line: int, words: str) -> None:
    error = error_of(text)
    assert (error.line, words in error.message) == (line, True), error.message


def test_unknown_format() -> None:
    error = error_of("Dear diary,\ntoday I read papers.\n")
    assert error.line == 1 and "unknown format" in error.message


def test_abstract_marker_without_text() -> None:
    error = error_of("Abstract: We present X.\nAbstract:   \n")
    assert (error.line, error.message) == (2, "'Abstract:' with no text after it")


def test_same_paper_twice_in_one_post() -> None:
    text = "2024년 3월 1일\nSame\n(A)\nabs\n코멘트\n#x\nsame\n(A)\nabs\n코멘트\n#x\n"
    error = error_of(text)
    assert error.line == 7 and "appears twice in this document (first at line 2)" in error.message


@pytest.mark.parametrize(
    ("content", "line", "words"),
    [
        (b"", 1, "the file is empty"),
        (b"  \n\n\t\n", 1, "the file is empty"),
        (b"2024\xeb\x85\x84 line one\nline two \xff\xfe\n", 2, "not UTF-8 text (byte 0xff"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 3, "binary content"),
    ],
)
def test_files_that_are_not_text_posts(tmp_path: Path, content: bytes, line: int, words: str) -> None:
    path = tmp_path / "input.txt"
    path.write_bytes(content)
    with pytest.raises(ParseError) as caught:
        read_document(path)
    assert caught.value.line == line and words in caught.value.message
    assert str(caught.value).startswith(f"{path}:{line}: ")


def test_windows_line_endings_and_a_bom_are_read(tmp_path: Path) -> None:
    path = tmp_path / "post.txt"
    path.write_bytes("\ufeff2024년 3월 1일\r\nT\r\n(A)\r\nabs\r\n코멘트\r\n#x\r\n".encode())
    digest = parse_document(read_document(path))
    assert digest.entries[0].title == "T" and digest.entries[0].tags == ("x",)
