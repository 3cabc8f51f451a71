"""The curator's URLs are links: ``<a href>`` with the URL as written on the web pages, in the
email's HTML part and in feed items; whole and unescaped in the text parts (email text,
Telegram, Discord), where the clients link them. Hostile text around and inside URLs changes
nothing but the text."""

from __future__ import annotations

import datetime as dt
import email
import html
import re
from email.message import EmailMessage
from email.policy import default
from html.parser import HTMLParser

import pytest

from bot.models import Paper
from bot.render.context import digest_view
from bot.render.discord import render_discord
from bot.render.environment import Templates, escape_markdown
from bot.render.links import linkify
from bot.render.telegram import render_telegram
from tests.conftest import SEEDS, CliRunner
from tests.platform_rules import telegram_problems, telegram_text
from tests.test_render_email import sent

YITAY = "https://latent.space/p/yitay"
DEEPSEEK = "https://arxiv.org/abs/2401.02954"
WIKI = "https://en.wikipedia.org/wiki/Transformer_(deep_learning_architecture)"
DAY = dt.date(2024, 9, 2)


class Anchors(HTMLParser):
    """Every tag and every ``<a>`` of some HTML, and the text outside and inside links."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.links: list[tuple[dict[str, str | None], str]] = []
        self.text = ""
        self.unlinked = ""  # the text outside links, each run of it on its own line
        self._open: tuple[dict[str, str | None], str] | None = None
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "a":
            self._open = (dict(attrs), "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open is not None:
            self.links.append(self._open)
            self._open = None
        self.unlinked += "\n"

    def handle_data(self, data: str) -> None:
        self.text += data
        if self._open is not None:
            self._open = (self._open[0], self._open[1] + data)
        else:
            self.unlinked += data


def links_in(markup: str) -> list[tuple[str | None, str]]:
    return [(attrs.get("href"), text) for attrs, text in Anchors(markup).links]


@pytest.fixture
def seeded_cli(run_cli: CliRunner) -> CliRunner:
    assert run_cli("ingest", str(SEEDS)).code == 0
    return run_cli


# --- The seed's links, as `paperboy render` shows them -------------------------------------------


def test_the_commentarys_urls_are_links_on_the_day_page(seeded_cli: CliRunner) -> None:
    page = seeded_cli("render", "2024-07-11", "--channel", "web")
    assert page.code == 0, page.err
    card = page.out.split('id="training-on-the-test-task-')[1].split("</article>")[0]
    commentary = card.split('<div class="commentary"')[1].split(">", 1)[1].split("</div>")[0]
    assert links_in(commentary) == [(DEEPSEEK, DEEPSEEK), (YITAY, YITAY)]
    # The URL the seed broke over two lines inside parentheses is joined, the parentheses outside.
    assert f'(<a href="{YITAY}" rel="noopener">{YITAY}</a>) Scaling Law' in commentary


def test_no_url_is_left_as_text_on_any_page_or_in_the_email(seeded_cli: CliRunner) -> None:
    """Every http(s) URL any seed day shows in commentary or abstract is inside a link."""
    for day in ("2024-03-15", "2024-06-18", "2024-07-11", "2025-12-11"):
        page = seeded_cli("render", day, "--channel", "web").out
        mail = email.message_from_string(seeded_cli("render", day, "--channel", "email").out, policy=default)
        assert isinstance(mail, EmailMessage)
        body = mail.get_body(("html",))
        assert body is not None
        for name, markup in (("web", page), ("email", body.get_content())):
            parsed = Anchors(markup)
            assert "://" not in parsed.unlinked, (day, name, re.findall(r"\S*://\S*", parsed.unlinked))
            for href, text in links_in(markup):
                if text.startswith("http"):
                    assert href == text, (day, name, href, text)  # the URL exactly as written


def test_the_email_html_part_links_the_curators_url(seeded_cli: CliRunner) -> None:
    message = email.message_from_string(
        seeded_cli("render", "2024-07-11", "--channel", "email").out, policy=default
    )
    assert isinstance(message, EmailMessage)
    html_part, text_part = message.get_body(("html",)), message.get_body(("plain",))
    assert html_part is not None and text_part is not None
    assert (YITAY, YITAY) in links_in(html_part.get_content())
    assert f"({YITAY}) Scaling Law" in text_part.get_content()  # text: whole, for the client to link


def test_feed_items_link_the_curators_url(seeded_cli: CliRunner) -> None:
    feed = seeded_cli("render", "2024-07-11", "--channel", "atom").out
    contents = [html.unescape(c) for c in re.findall(r"<content[^>]*>(.*?)</content>", feed, re.DOTALL)]
    assert any((YITAY, YITAY) in links_in(content) for content in contents)


def test_chat_text_keeps_the_url_whole(seeded_cli: CliRunner) -> None:
    telegram = seeded_cli("render", "2024-07-11", "--channel", "telegram", "--json").json()["messages"]
    assert any(f"({YITAY}) Scaling Law" in telegram_text(m["text"]) for m in telegram)
    discord = seeded_cli("render", "2024-07-11", "--channel", "discord", "--json").json()["messages"]
    descriptions = [e.get("description", "") for m in discord for e in m["embeds"]]
    assert any(f"({YITAY}) Scaling Law" in d for d in descriptions)


# --- Hostile and tricky text ----------------------------------------------------------------------

#: (text, the links it must get as (href, text shown))
CASES = [
    (f"팟캐스트에서 ({YITAY}) Scaling", [(YITAY, YITAY)]),
    (f"See {WIKI}.", [(WIKI, WIKI)]),
    (f"See ({WIKI}), then", [(WIKI, WIKI)]),
    ("Ends a sentence https://x.org/p. Next", [("https://x.org/p", "https://x.org/p")]),
    ("A list https://x.org/a, https://y.org/b, done", [("https://x.org/a",) * 2, ("https://y.org/b",) * 2]),
    ("한국어 문장 끝 https://x.org/p。 다음", [("https://x.org/p",) * 2]),
    ("인용 「https://x.org/p」에서", [("https://x.org/p",) * 2]),
    ("마침표 https://x.org/p.」 끝", [("https://x.org/p",) * 2]),
    ("따옴표 “https://x.org/p”라고", [("https://x.org/p",) * 2]),
    ("괄호 （https://x.org/p）안", [("https://x.org/p",) * 2]),
    ("Query https://x.org/s?a=1&b=2#top ok", [("https://x.org/s?a=1&b=2#top",) * 2]),
    (
        "Korean path https://ko.wikipedia.org/wiki/트랜스포머_(기계_학습) ok",
        [("https://ko.wikipedia.org/wiki/트랜스포머_(기계_학습)",) * 2],
    ),
    ("javascript:alert(1) and JAVASCRIPT:alert(2)", []),
    ("data:text/html,<script>alert(1)</script>", []),
    ("vbscript:msgbox ftp://x.org/f mailto:a@b.org a@b.org x.org/path //x.org/p", []),
    ('https://a.b/"onmouseover="x', [("https://a.b/%22onmouseover=%22x", 'https://a.b/"onmouseover="x')]),
    ('<a href="https://x.org/p">https://x.org/p</a>', [("https://x.org/p",) * 2] * 2),
    ("<b>https://x.org/p</b><script>alert(1)</script>", [("https://x.org/p",) * 2]),
    ("https://x.org/p<img src=x onerror=alert(1)>", [("https://x.org/p",) * 2]),
    ("https://x.org/a>b", [("https://x.org/a",) * 2]),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_linkify_links_http_urls_only_and_escapes_everything(
    text: str, expected: list[tuple[str, str]]
) -> None:
    markup = linkify(text)
    parsed = Anchors(str(markup))
    assert parsed.links == [({"href": href, "rel": "noopener"}, shown) for href, shown in expected]
    assert set(parsed.tags) <= {"a"}  # no markup but the links
    assert parsed.text == text  # every character shown, nothing added or lost


def test_rel_is_what_the_template_asks_for() -> None:
    assert 'rel="noopener nofollow"' in linkify(f"see {YITAY}", "noopener nofollow")


def test_many_urls_in_very_long_text() -> None:
    urls = [f"https://example.org/p_{n}/(v{n})?q=a*b&n={n}" for n in range(5000)]
    text = " ".join(f"문장 {n}: {url} 그리고," for n, url in enumerate(urls))
    assert len(text) > 250_000
    parsed = Anchors(str(linkify(text)))
    assert [(attrs["href"], shown) for attrs, shown in parsed.links] == [(url, url) for url in urls]
    assert parsed.text == text


# --- The channels, end to end ---------------------------------------------------------------------

HOSTILE_LINKS = Paper(
    id="links-0001",
    title="A paper whose curator links a lot",
    authors=("Ada",),
    author_count=1,
    abstract=f"We build on {WIKI}. Code: https://github.com/a/b_c.\n\njavascript:alert(1) <b>x</b>",
    commentary=(
        f"팟캐스트에서 ({YITAY}) 들었습니다. 위키 {WIKI}。 그리고 「https://x.org/p」.\n"
        'https://a.b/"onmouseover="x and data:text/html,<script>alert(1)</script> https://x.org/a_b*c_(d)'
    ),
    tags=("links",),
    links=("https://x.org/own?a=1&b=2", "javascript:alert(2)"),
    date=DAY,
)


def test_web_email_and_feed_html_link_the_same_urls(templates: Templates) -> None:
    from bot.channels.feeds import build_feed
    from bot.channels.web.site import paper_page
    from bot.render.context import paper_view

    web = paper_page(templates, paper_view(HOSTILE_LINKS, None), None)
    mail_part = sent(templates, DAY, [HOSTILE_LINKS]).get_body(("html",))
    assert mail_part is not None
    feed = build_feed(templates, [HOSTILE_LINKS], "atom", site_url="https://paperboy.example").decode()
    item = html.unescape(re.search(r"<content[^>]*>(.*?)</content>", feed, re.DOTALL)[1])  # type: ignore[index]
    commentary = [
        (YITAY, YITAY),
        (WIKI, WIKI),
        ("https://x.org/p", "https://x.org/p"),
        ("https://a.b/%22onmouseover=%22x", 'https://a.b/"onmouseover="x'),
        ("https://x.org/a_b*c_(d)", "https://x.org/a_b*c_(d)"),
    ]
    abstract = [(WIKI, WIKI), ("https://github.com/a/b_c", "https://github.com/a/b_c")]
    for name, markup in (("web", web), ("email", mail_part.get_content()), ("feed", item)):
        found = Anchors(markup)
        rels = {attrs["href"]: attrs.get("rel") for attrs, _ in found.links}
        shown = [(attrs["href"], text) for attrs, text in found.links]
        for link in commentary:
            assert link in shown, (name, link)
        for link in abstract:
            assert link in shown, (name, link)
        assert rels[YITAY] == "noopener"  # the curator's words: a link the site vouches for
        assert rels["https://github.com/a/b_c"] == "noopener nofollow"  # the authors' words
        assert ("https://x.org/own?a=1&b=2",) * 2 in shown  # the paper's own link
        assert not any(attrs.get("onmouseover") for attrs, _ in found.links)
        assert all(str(href).startswith(("http://", "https://", "../", "#")) for href, _ in shown), name
        assert "<script" not in markup and "javascript:alert(1)" in found.text
        assert "javascript:alert(2)" in found.text  # a paper's own link, but not http(s): text


def test_telegram_never_cuts_inside_a_url(templates: Templates) -> None:
    urls = [f"https://example.org/{'x' * (n % 300)}_{n}/(v{n})?q=a*b" for n in range(400)]
    commentary = " ".join(f"긴 문장 {n} {url} 그리고 이어지는 설명." for n, url in enumerate(urls))
    paper = Paper(
        id="many-links-0002",
        title="Many links",
        authors=("Ada",),
        author_count=1,
        abstract="Short.",
        commentary=commentary,
        tags=("links",),
        date=DAY,
    )
    messages = render_telegram(templates, digest_view(DAY, [paper], None))
    assert len(messages) > 10  # long enough to be cut many times
    shown: list[str] = []
    for message in messages:
        assert telegram_problems(message.text) == []
        shown += re.findall(r"https?://\S+", telegram_text(message.text))
    assert shown == urls


def test_discord_escapes_markdown_around_urls_never_inside_them(templates: Templates) -> None:
    urls = ["https://x.org/a_b*c_(d)", WIKI, "https://x.org/~u/|p|`q`", "https://x.org/a>b_c"]
    text = f"_밑줄_ *별* {urls[0]} 그리고 ({urls[1]}) 또 {urls[2]} {urls[3]} ~끝~"
    escaped = escape_markdown(text)
    assert escaped == f"\\_밑줄\\_ \\*별\\* {urls[0]} 그리고 ({urls[1]}) 또 {urls[2]} {urls[3]} \\~끝\\~"
    embeds = [e for m in render_discord(templates, digest_view(DAY, [HOSTILE_LINKS], None)) for e in m.embeds]
    description = embeds[0]["description"]
    for url in (YITAY, WIKI, "https://x.org/a_b*c_(d)"):
        assert url in description
