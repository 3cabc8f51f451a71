"""Bare abstracts: ``Abstract:`` runs with no title and no date, several possibly on one line.

They join the undated queue and are published on a later day. Each gets a readable title: the
name the abstract introduces ("We present MAGMA - …" gives "MAGMA"), else its first words.
"""

from __future__ import annotations

import re

from bot.archive import latex
from bot.archive.parsers._base import Document, ParseOptions, Parser
from bot.archive.text import paper_id, title_key
from bot.models import Digest, Paper

MARKER = re.compile(r"Abstract:", re.IGNORECASE)
# "We present", "this study introduces", "we propose" ... up to the end of the sentence.
INTRO = re.compile(
    r"\b(?:we|this (?:paper|study|work|report))\s+"
    r"(?:present|propose|introduce|release|describe)s?\b(?P<rest>[^.!?]*(?:\.(?=\S)[^.!?]*)*)",
    re.IGNORECASE,
)
ARTICLES = {"a", "an", "the", "our", "new", "novel"}
FIRST_WORDS = 8


class AbstractsParser(Parser):
    name = "abstracts"

    def sniff(self, doc: Document) -> bool:
        return MARKER.match(doc.text.lstrip()) is not None

    def parse(self, doc: Document, options: ParseOptions) -> Digest:
        marks = list(MARKER.finditer(doc.text))
        entries: list[Paper] = []
        for mark, nxt in zip(marks, [*marks[1:], None], strict=True):
            end = nxt.start() if nxt else len(doc.text)
            line = doc.text.count("\n", 0, mark.start()) + 1
            text = "\n".join(
                part.strip() for part in doc.text[mark.end() : end].strip().split("\n") if part.strip()
            )
            if not text:
                raise doc.error(line, "'Abstract:' with no text after it")
            abstract = latex.to_text(text)
            title = readable_title(abstract)
            entries.append(
                Paper(
                    # The title is our guess, so the abstract itself keeps two guesses apart.
                    id=paper_id(title, salt=title_key(abstract)),
                    title=title,
                    abstract=abstract,
                    source=doc.source,
                    line=line,
                )
            )
        return Digest(None, doc.source, self.name, tuple(entries))


def readable_title(abstract: str) -> str:
    """The name an abstract introduces, else its first words."""
    for intro in INTRO.finditer(abstract):
        name = _introduced_name(intro["rest"])
        if name:
            return name
    words = abstract.split()
    head = " ".join(words[:FIRST_WORDS]).rstrip(",;:.")
    return head + ("…" if len(words) > FIRST_WORDS else "")


def _introduced_name(clause: str) -> str | None:
    """The first name-like word of the clause after "we present": ``MAGMA``, ``M-VADER``,
    ``u-μP``; a parenthesised acronym keeps its expansion: "Divergent Token metrics (DTMs)"."""
    words = clause.split()
    for k, word in enumerate(words):
        bare = word.strip(",;:()")
        if not _is_name(bare):
            continue
        if word.startswith("(") and k > 0:
            expansion = [w.strip(",;:") for w in words[:k]]
            while expansion and expansion[0].lower() in ARTICLES:
                expansion.pop(0)
            if expansion and "," not in " ".join(words[:k]):
                return f"{' '.join(expansion)} ({bare})"
        return bare
    return None


def _is_name(word: str) -> bool:
    """Coined names carry capitals past their first letter: MAGMA, MultiFusion, u-μP, GPT-4."""
    letters = [c for c in word if c.isalpha()]
    return len(word) >= 2 and len(letters) >= 1 and any(c.isupper() for c in word[1:])
