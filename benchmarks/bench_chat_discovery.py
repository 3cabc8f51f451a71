"""What discovery costs a chat reply, on the seeds analysed by ``bot.suggest.refresh``.

    python benchmarks/bench_chat_discovery.py [--runs 50]

Times, in process, the work behind a reply (the platforms' own round trips are
``bench_telegram_replies.py``'s): ``/tag vision-language`` (the curator's papers then the
suggested ones), ``/similar simvlg`` through the ``SimilarIndex`` a bot keeps open, the tags the
model offers for one text (``tagger.tags_for``: its first call in a process, which loads the
model, then the next ones) and a curator's preview with its offers (the 2024-07-11 seed post,
six papers, dated anew).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.archive.parsers import ParseOptions, parse_file  # noqa: E402
from bot.archive.store import open_archive  # noqa: E402
from bot.commands import answer  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.desk import Desk  # noqa: E402
from bot.suggest.refresh import refresh  # noqa: E402
from bot.suggest.similar import SimilarIndex  # noqa: E402
from bot.suggest.store import folder_for  # noqa: E402
from bot.suggest.tagger import tags_for  # noqa: E402


def timed(work: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median and slowest of ``runs`` calls, in ms."""
    took = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        took.append((time.perf_counter() - start) * 1000)
    return statistics.median(took), max(took)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        folder = folder_for(url, Path(tmp))
        with open_archive(url) as archive:
            for path in sorted((ROOT / "seeds").iterdir()):
                archive.ingest(parse_file(path, ParseOptions()))
            refresh(archive, folder)
            text = ("SimVLG", "Vision-language pretraining with a frozen large language model.", "")
            start = time.perf_counter()
            tags_for(folder, [text])
            print(f"tags_for, first call after refresh: {(time.perf_counter() - start) * 1000:.0f} ms")
            report("tags_for, later calls", timed(functools.partial(tags_for, folder, [text]), runs))
            index = SimilarIndex(folder)
            for name, arg in (("tag", "vision-language"), ("similar", "simvlg")):
                work = functools.partial(answer, archive, name, arg, index=index)
                report(f"/{name} {arg}", timed(work, runs))
            env = {"PAPERBOY_DATABASE_URL": url, "PAPERBOY_DATA_DIR": tmp, "PAPERBOY_TIMEZONE": "UTC"}
            desk = Desk(archive, Settings.from_env(env))
            post = (ROOT / "seeds" / "daily-2024-07-11.txt").read_text()
            post = post.replace("2024년 7월 11일", "2026년 8월 1일", 1)
            report(
                "preview of a 6-paper post, with offers",
                timed(functools.partial(desk.receive_text, "b", post), 10),
            )


def report(label: str, figures: tuple[float, float]) -> None:
    print(f"{label}: median {figures[0]:.1f} ms, max {figures[1]:.1f} ms")


if __name__ == "__main__":
    main()
