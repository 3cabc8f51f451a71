"""The URLs in the curator's text, as links in HTML (web pages, the email's HTML part, feed items).

linkify-it-py finds them, with the rules markdown-it uses: parentheses a URL opens and closes
stay in it (``…/wiki/Transformer_(deep_learning_architecture)``), punctuation that closes a
sentence or a parenthesis after it does not (``(https://latent.space/p/yitay).``). It counts
CJK punctuation and typographic quotes as characters a URL may hold, which Korean text after a
URL shows to be wrong (``https://x.org/p。``, ``「https://x.org/p」``): no URL is written with
them, so here they end one. Only URLs written with ``http://`` or ``https://`` become links; bare
domains, e-mail addresses, ``javascript:`` and ``data:`` stay text. All text is escaped by
markupsafe, so the curator's text can never add markup of its own.

The chat and plain-text channels print the text as it is: their clients link URLs themselves.
"""

from __future__ import annotations

import re

from linkify_it import LinkifyIt
from markupsafe import Markup, escape

_FINDER = LinkifyIt(
    {"mailto:": None, "ftp:": None, "//": None},  # http: and https: are all that is left
    {"fuzzy_link": False, "fuzzy_email": False, "fuzzy_ip": False},
)
#: Characters that end a URL in text although linkify-it would go on: CJK and full-width
#: punctuation and brackets, and typographic quotes and ellipsis.
_ENDS_URL = re.compile("[\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65‘’“”…]")
#: ASCII a URL cannot hold as it is (WHATWG URL: a browser percent-encodes it, the HTML checker
#: reports it), and a ``%`` that starts no escape.
_NOT_IN_URL = re.compile(r"[\x00-\x20\"<>\\^`{|}\[\]\x7f]|%(?![0-9A-Fa-f]{2})")


def url_spans(text: str) -> list[tuple[int, int]]:
    """Where the http(s) URLs in ``text`` are, as ``(start, end)`` offsets, in order."""
    if "://" not in text:  # most paragraphs: no need to run the finder
        return []
    spans: list[tuple[int, int]] = []
    for found in _FINDER.match(text) or ():
        start, end = found.index, found.last_index
        if found.schema.lower() not in ("http:", "https:"):
            continue
        cut = _ENDS_URL.search(text, start, end)
        if cut:  # what is left before it, ended by linkify-it's own rules (a '.' before '」')
            again = _FINDER.match(text[start : cut.start()])
            if not again or again[0].index != 0:
                continue
            end = start + again[0].last_index
        spans.append((start, end))
    return spans


def href(url: str) -> str:
    """``url`` as an href: as written, with only the characters no URL may hold percent-encoded
    (as a browser encodes them when following it), so the checker and every browser agree."""
    scheme, separator, rest = url.partition("://")
    authority = re.match(r"[^/?#]*", rest)
    host = authority.group(0) if authority else ""
    tail = rest[len(host) :]
    before, hash_mark, fragment = tail.partition("#")
    tail = before + hash_mark + fragment.replace("#", "%23")
    return (
        scheme + separator + host + _NOT_IN_URL.sub(lambda m: "%" + m.group(0).encode().hex().upper(), tail)
    )


def linkify(text: str, rel: str = "noopener") -> Markup:
    """``text`` escaped for HTML, each http(s) URL in it an ``<a href>`` with ``rel``."""
    parts: list[str] = []
    last = 0
    for start, end in url_spans(text):
        url = text[start:end]
        parts.append(escape(text[last:start]))
        parts.append(Markup('<a href="{}" rel="{}">{}</a>').format(href(url), rel, url))
        last = end
    parts.append(escape(text[last:]))
    return Markup("").join(parts)
