"""Telegram and Discord output for every seed day and for hostile papers: valid for the
platform, inside its limits, and nothing lost (title, whole commentary, tags, links)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from bot.models import Paper
from bot.render.context import DigestView, clean, digest_view
from bot.render.discord import render_discord
from bot.render.environment import Templates
from bot.render.telegram import render_telegram
from tests.hostile import DAY, forty_paper_day, hostile_papers, render_cases
from tests.platform_rules import discord_problems, discord_visible, telegram_problems, telegram_text

BASE = "https://paperboy.example"
CASES = render_cases()


def compact(text: str) -> str:
    """Every visible character in order, whitespace gone: cuts between messages don't matter."""
    return re.sub(r"\s+", "", text)


def digest(day: dt.date, papers: list[Paper], base: str | None = BASE) -> DigestView:
    return digest_view(day, papers, base)


def assert_nothing_lost(shown: str, papers: list[Paper], *, abstracts: bool) -> None:
    everything = compact(shown)
    for paper in papers:
        assert compact(clean(paper.title)) in everything, paper.id
        assert compact(clean(paper.commentary)) in everything, paper.id
        for tag in paper.tags:
            assert f"#{tag}" in everything
        for link in paper.links:
            assert compact(link) in everything
        if abstracts:
            assert compact(clean(paper.abstract)) in everything, paper.id


@pytest.mark.parametrize(("name", "day", "papers"), CASES, ids=[c[0] for c in CASES])
def test_telegram_messages_are_valid_and_whole(
    templates: Templates, name: str, day: dt.date, papers: list[Paper]
) -> None:
    messages = render_telegram(templates, digest(day, papers))
    for message in messages:
        assert message.parse_mode == "HTML" and message.link_preview is False
        assert telegram_problems(message.text) == [], message.text[:200]
    assert_nothing_lost(" ".join(telegram_text(m.text) for m in messages), papers, abstracts=True)
    assert messages[0].text.startswith("<b>📰 Paperboy")


def test_telegram_keeps_papers_whole_and_in_order(templates: Templates) -> None:
    papers = forty_paper_day()
    messages = render_telegram(templates, digest(DAY, papers))
    assert len(messages) > 5
    shown = " ".join(telegram_text(m.text) for m in messages)
    positions = [shown.index(clean(p.title)) for p in papers[:23]]  # the seeds' papers, each once
    assert positions == sorted(positions)
    # A paper that fits in one message is never cut: each title's message holds its commentary.
    for paper in papers[:23]:
        holder = next(m for m in messages if clean(paper.title) in telegram_text(m.text))
        assert compact(clean(paper.commentary)) in compact(telegram_text(holder.text))


def test_telegram_cuts_a_long_entry_at_sentences_and_reopens_tags(templates: Templates) -> None:
    long_commentary, long_abstract = hostile_papers()[1], hostile_papers()[3]
    messages = render_telegram(templates, digest(DAY, [long_commentary]))
    assert len(messages) >= 2 and "Writer" in telegram_text(messages[0].text)  # starts beside the header
    cut = [telegram_text(m.text).rstrip() for m in messages[:-1]]
    assert all(text.endswith(".") for text in cut), [t[-20:] for t in cut]  # at paragraphs or sentences
    messages = render_telegram(templates, digest(DAY, [long_abstract]))
    quoted = [m.text for m in messages if "Abstract sentence number one" in m.text]
    assert len(quoted) >= 2  # the abstract alone is longer than a message
    for text in quoted:  # every piece of it is inside its own expandable quote
        inside = re.findall(r"<blockquote expandable>(.*?)</blockquote>", text, re.DOTALL)
        assert inside and "Abstract sentence number one" in "".join(inside)


def test_the_long_commentary_is_over_six_thousand_characters() -> None:
    assert len(hostile_papers()[1].commentary) > 6000


def test_telegram_escapes_user_text(templates: Templates) -> None:
    text = render_telegram(templates, digest(DAY, hostile_papers()[:1]))[0].text
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "&lt;0.5%" in text and "a &lt; b &amp; c &gt; d" in text


@pytest.mark.parametrize(("name", "day", "papers"), CASES, ids=[c[0] for c in CASES])
def test_discord_messages_are_valid_and_whole(
    templates: Templates, name: str, day: dt.date, papers: list[Paper]
) -> None:
    messages = render_discord(templates, digest(day, papers))
    for message in messages:
        assert discord_problems({"content": message.content, "embeds": message.embeds}) == []
    embeds = [e for m in messages for e in m.embeds]
    bodies = " ".join(
        " ".join([e.get("description", ""), *(f["value"] for f in e.get("fields", []))]) for e in embeds
    )
    shown = discord_visible(bodies) + " " + " ".join(e["title"] for e in embeds)
    assert_nothing_lost(shown, [p for p in papers if len(clean(p.title)) <= 256], abstracts=False)
    for paper in papers:  # a title too long for an embed's title is repeated whole below it
        assert compact(clean(paper.title)) in compact(shown)


def test_discord_links_each_title_and_folds_only_the_abstract(templates: Templates) -> None:
    papers = hostile_papers()
    messages = render_discord(templates, digest(DAY, papers))
    firsts = [e for m in messages for e in m.embeds if "url" in e]
    assert [e["url"] for e in firsts] == [f"{BASE}/papers/{p.id}.html" for p in papers]
    every = [e for m in messages for e in m.embeds]
    start = every.index(next(e for e in firsts if e["url"].endswith("long-everything-0004.html")))
    own = " ".join(e.get("description", "") for e in every[start:])
    assert f"[full abstract]({BASE}/papers/long-everything-0004.html)" in own
    without_base = render_discord(templates, digest(DAY, papers[:1], base=None))
    assert "url" not in without_base[0].embeds[0]  # no web archive, no arXiv id: no link to invent


def test_discord_escapes_markdown_but_not_links(templates: Templates) -> None:
    embed = render_discord(templates, digest(DAY, hostile_papers()[:1]))[0].embeds[0]
    description = embed["description"]
    assert "\\> not a quote" in description and "\\# not a heading" in description
    assert "\\*\\*not bold\\*\\*" in description and "\\[not\\](a link)" in description
    assert "\\*stars\\*" not in embed["title"]  # titles are plain text on Discord
    links = next(f["value"] for f in embed["fields"] if f["name"] == "Links")
    assert "https://example.org/path_(with)_parens" in links.splitlines()


def test_discord_packs_at_most_ten_embeds_a_message(templates: Templates) -> None:
    messages = render_discord(templates, digest(DAY, forty_paper_day()))
    assert [len(m.embeds) <= 10 for m in messages] == [True] * len(messages)
    assert sum(len(m.embeds) for m in messages) >= 40
    assert messages[0].content.startswith("**📰 Paperboy · 2024\\-09\\-01**") or messages[
        0
    ].content.startswith("**📰 Paperboy · 2024-09-01**")
