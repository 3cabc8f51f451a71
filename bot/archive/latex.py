"""LaTeX in titles and abstracts shown as a reader expects (``$\\mu$P`` -> ``μP``).

Only the LaTeX-bearing spans go through pylatexenc: converting a whole abstract would read a
bare ``90%`` as a comment and ``a & b`` as an alignment tab, dropping text, and costs ~5 ms per
abstract; spans are few, repeat across papers, and are cached.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import Any

_SPAN = re.compile(
    r"""
      (?P<url>https?://\S+)                            # links pass through untouched
    | \$\$[^$]+\$\$                                   # display math
    | \$(?=\S)[^$\n]+?(?<=\S)\$                       # inline math: $\mu$, not "$5 and $10"
    | \\[A-Za-z]+\*?(?:\[[^\]\n]*\])?(?:\{[^{}\n]*\})* # \command[opt]{arg}
    | \\['`^"~=.uvHc](?:\{[A-Za-z]?\}|[A-Za-z])       # accents: \'e, \"{o}
    | \\[%&\#_${}]                                    # escaped specials: 41\%
    | ``|''                                           # TeX quotes
    | (?<!-)-{2,3}(?!-)                               # -- and --- (en and em dash)
    """,
    re.VERBOSE,
)


@cache
def _converter() -> Any:
    from pylatexenc.latex2text import LatexNodes2Text

    return LatexNodes2Text()


@lru_cache(maxsize=4096)
def _convert_span(span: str) -> str:
    return str(_converter().latex_to_text(span))


#: Every LaTeX span contains one of these; most abstracts contain none and skip the regex scan.
_MARKERS = ("\\", "$", "``", "''", "--")


def to_text(text: str) -> str:
    """Render the LaTeX in ``text`` as Unicode, leaving everything else untouched."""
    if not any(marker in text for marker in _MARKERS):
        return text
    return _SPAN.sub(_replace, text)


def _replace(match: re.Match[str]) -> str:
    return match.group(0) if match.group("url") else _convert_span(match.group(0))
