"""What the model reads of a paper: its title, abstract and the curator's commentary, as tokens.

Two kinds of token, hashed into two separate ranges of one feature space (``features.py``):

- **English**: words of two or more characters that start with a letter, lower-cased, with
  hyphenated compounds kept whole (``vision-language``), English stop words left out, and every
  pair of neighbouring words (``vector quantization`` is a feature of its own, as in
  arxiv-sanity-lite's ``ngram_range=(1, 2)``). The title is read twice: it is the curator's
  and the authors' one-line summary. URLs are dropped: ``https arxiv org abs`` says nothing
  about a topic, and curators paste links in their commentary.
- **Korean**: every pair of neighbouring syllables in a run of Hangul (syllable bigrams, as CJK
  search engines index text). Korean glues particles to words (``코드북을``, ``코드북에``), so
  whole words would rarely match across sentences; their bigrams do (``코드``, ``드북``).

Pure Python, no scikit-learn: tokenising is a third of building the features, and the tests
read it directly.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable

URL = re.compile(r"https?://\S+|www\.\S+")
WORD = re.compile(r"[a-z][a-z0-9]+(?:-[a-z0-9]+)*")
HANGUL_RUN = re.compile(r"[\uac00-\ud7a3]+")

#: scikit-learn's English stop words (``ENGLISH_STOP_WORDS``, Glasgow's list), copied so that
#: tokenising needs no scikit-learn import; ``tests/test_suggest_text.py`` checks they agree.
_STOP_TEXT = """
    a about above across after afterwards again against all almost alone along already also although
    always am among amongst amoungst amount an and another any anyhow anyone anything anyway anywhere
    are around as at back be became because become becomes becoming been before beforehand behind being
    below beside besides between beyond bill both bottom but by call can cannot cant co con could
    couldnt cry de describe detail do done down due during each eg eight either eleven else elsewhere
    empty enough etc even ever every everyone everything everywhere except few fifteen fifty fill find
    fire first five for former formerly forty found four from front full further get give go had has
    hasnt have he hence her here hereafter hereby herein hereupon hers herself him himself his how
    however hundred i ie if in inc indeed interest into is it its itself keep last latter latterly least
    less ltd made many may me meanwhile might mill mine more moreover most mostly move much must my
    myself name namely neither never nevertheless next nine no nobody none noone nor not nothing now
    nowhere of off often on once one only onto or other others otherwise our ours ourselves out over own
    part per perhaps please put rather re same see seem seemed seeming seems serious several she should
    show side since sincere six sixty so some somehow someone something sometime sometimes somewhere
    still such system take ten than that the their them themselves then thence there thereafter thereby
    therefore therein thereupon these they thick thin third this those though three through throughout
    thru thus to together too top toward towards twelve twenty two un under until up upon us very via
    was we well were what whatever when whence whenever where whereafter whereas whereby wherein
    whereupon wherever whether which while whither who whoever whole whom whose why will with within
    without would yet you your yours yourself yourselves
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())


def paper_text(title: str, abstract: str, commentary: str) -> str:
    """One paper as the model reads it: the title twice, the abstract, the commentary."""
    return "\n".join((title, title, abstract, commentary))


def english_tokens(text: str) -> list[str]:
    """Words and neighbouring pairs of words, lower-cased, without stop words or URLs."""
    words = [w for w in WORD.findall(URL.sub(" ", text).lower()) if w not in STOP_WORDS]
    return [*words, *(f"{a} {b}" for a, b in itertools.pairwise(words))]


def korean_tokens(text: str) -> list[str]:
    """Neighbouring pairs of Hangul syllables (a one-syllable run counts as itself)."""
    return [run[i : i + 2] for run in HANGUL_RUN.findall(text) for i in range(max(1, len(run) - 1))]


def joined(parts: Iterable[str]) -> str:
    """Distinct non-empty texts in order: a paper written up twice reads each text once."""
    return "\n".join(dict.fromkeys(part for part in parts if part))
