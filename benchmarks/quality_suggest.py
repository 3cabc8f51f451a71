"""How good the suggested tags are: leave-one-out over the curator's tagged papers.

    python benchmarks/quality_suggest.py [--db sqlite:///path/to/archive.db] [--papers N]

Without ``--db``, on the seeds (ingested into a throwaway SQLite archive). Each tagged paper in
turn is taken out, every tag's classifier is trained on the others exactly as the refresh
trains it, and the tags the model would suggest for the paper are compared with the curator's
(``bot/suggest/quality.py``). Prints precision and recall at the suggestion threshold, overall
and per tag, and the tags the rules keep silent. ``--db`` measures another archive (copied,
never changed), on its first ``--papers`` tagged papers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.archive.parsers import ParseOptions, parse_file  # noqa: E402
from bot.archive.store import open_archive  # noqa: E402
from bot.suggest.model import MIN_AUC, MIN_EXAMPLES  # noqa: E402
from bot.suggest.quality import leave_one_out  # noqa: E402


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.0f} %"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="a SQLite archive to measure instead of the seeds")
    parser.add_argument("--papers", type=int, help="leave out only the first N tagged papers")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="paperboy-quality-"))
    url = f"sqlite:///{work}/archive.db"
    if args.db:
        shutil.copyfile(Path(args.db.removeprefix("sqlite:///")), work / "archive.db")
    began = time.perf_counter()
    with open_archive(url) as archive:
        if not args.db:
            for path in sorted((ROOT / "seeds").iterdir()):
                archive.ingest(parse_file(path, ParseOptions(today=dt.date(2026, 1, 1))))
        quality = leave_one_out(archive, work / "archive.db.suggest", args.papers)
    print(
        f"leave-one-out over {quality.papers} tagged papers ({quality.given} tags given;"
        f" {quality.learnable} of a tag with {MIN_EXAMPLES} other papers or more),"
        f" {time.perf_counter() - began:.1f} s"
    )
    print(
        f"precision {percent(quality.precision)}"
        f" ({quality.hits} of {quality.hits + quality.wrong} suggested),"
        f" recall {percent(quality.recall)} ({quality.hits} of {quality.given}),"
        f" recall over learnable tags {percent(quality.recall_learnable)}"
    )
    print(f"{'tag':<24} {'found':>5} {'wrong':>5} {'missed':>6}")
    for tag, (hits, wrong, missed) in sorted(quality.per_tag.items(), key=lambda item: -sum(item[1])):
        if hits or wrong or missed:
            print(f"#{tag:<23} {hits:>5} {wrong:>5} {missed:>6}")
    for paper, tag in quality.wrong_pairs:
        print(f"suggested #{tag} for {paper}, which the curator tagged otherwise")
    print(f"(a tag suggests with {MIN_EXAMPLES} papers or more and an out-of-fold AUC of {MIN_AUC} or more)")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
