"""Small text rules shared by the parsers and the lookups: tags, paper ids, scripts, URLs."""

from __future__ import annotations

import hashlib
import re
import unicodedata

HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")
BARE_URL_LINE = re.compile(r"https?://\S+")
URL = re.compile(r"https?://[^\s<>\"'()]+")
# An entry's own arXiv id, from a link such as https://arxiv.org/abs/2406.11837v2.
ARXIV_LINK = re.compile(
    r"arxiv\.org/(?:abs|pdf|html)/(\d{4}\.\d{4,5}|[a-z][a-z.-]*/\d{7})(?:v\d+)?", re.IGNORECASE
)
TAG_BODY = re.compile(r"[^\W_](?:[\w-]*[^\W_])?")
MAX_TAG_LENGTH = 64
# Invisible characters that sneak into pasted text and chat commands.
INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
# Control characters (NUL, ESC, ...): never meaningful in a lookup, and NUL ends a C string.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


# Where Latin letters or digits meet Hangul: Korean particles attach to English words too.
SCRIPT_BOUNDARY = re.compile(
    r"(?<=[A-Za-z0-9])(?=[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3])"
    r"|(?<=[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3])(?=[A-Za-z0-9])"
)


def split_scripts(text: str | None) -> str | None:
    """``Latent를`` -> ``Latent 를``: the word and its particle become two tokens for search.

    Registered as a SQL function, so the search index, its triggers and queries agree.
    """
    if text is None or not HANGUL.search(text):
        return text
    return SCRIPT_BOUNDARY.sub(" ", text)


_UNSTORABLE = re.compile("\x00|[\ud800-\udfff]")


def storable(text: str) -> str:
    """Text a database accepts: no NUL (PostgreSQL refuses it), no lone surrogate (neither
    SQLite nor PostgreSQL can encode one; it becomes U+FFFD). Decoded files never hold
    either; this guards digests built by other code."""
    if not _UNSTORABLE.search(text):
        return text
    return _UNSTORABLE.sub(lambda m: "" if m.group(0) == "\x00" else "\ufffd", text)


def has_hangul(text: str) -> bool:
    return HANGUL.search(text) is not None


def normalize_tag(raw: str) -> str:
    """``#VQ``, ``vq`` and ``＃Vq`` are one tag: ``vq``. Hyphens stay (``vision-language``).

    Raises ``ValueError`` with a readable reason for anything that is not a tag.
    """
    text = INVISIBLE.sub("", unicodedata.normalize("NFKC", raw)).strip().lstrip("#").lower()
    if not text:
        raise ValueError(f"{raw!r} is not a tag: it is empty")
    if len(text) > MAX_TAG_LENGTH:
        raise ValueError(f"tag {raw[:20]!r}... is longer than {MAX_TAG_LENGTH} characters")
    if not TAG_BODY.fullmatch(text):
        raise ValueError(
            f"{raw!r} is not a tag: use letters, digits and inner '-' or '_' (like #vision-language)"
        )
    return text


def title_key(title: str) -> str:
    """The title with case, punctuation and spacing folded away: two spellings of one paper match."""
    folded = unicodedata.normalize("NFKC", title).casefold()
    return " ".join(re.findall(r"[^\W_]+", folded))


def arxiv_id(links: list[str] | tuple[str, ...]) -> str | None:
    for link in links:
        match = ARXIV_LINK.search(link)
        if match:
            return match.group(1).lower()
    return None


def paper_id(title: str, *, arxiv: str | None = None, salt: str = "") -> str:
    """A stable, readable id: ``arxiv-2406.11837`` when the entry states its arXiv id, else a
    slug of the title plus a hash of its normalised form (``scaling-the-codebook-size-3f2a1c9b``).

    ``salt`` distinguishes papers whose titles are our own guess (bare abstracts).
    """
    if arxiv:
        return "arxiv-" + arxiv.replace("/", "_")
    key = title_key(title)
    ascii_key = unicodedata.normalize("NFKD", key).encode("ascii", "ignore").decode()
    slug = ""
    for word in re.findall(r"[a-z0-9]+", ascii_key):
        if len(slug) + len(word) + 1 > 40:
            break
        slug = f"{slug}-{word}" if slug else word
    digest = hashlib.sha1((key + "\x00" + salt).encode()).hexdigest()[:8]
    return f"{slug}-{digest}" if slug else digest


def clean_query_text(text: str) -> str:
    """User-typed text with compatibility forms folded, invisible characters removed and
    control characters turned into spaces."""
    return CONTROL.sub(" ", INVISIBLE.sub("", unicodedata.normalize("NFKC", text))).strip()


def like_escape(text: str) -> str:
    """``text`` with LIKE's wildcards escaped (for ``... LIKE ... ESCAPE '\\'``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
