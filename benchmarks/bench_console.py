"""The operator console's pages on a large deployment: an archive (the seeds, or a COPY of the
100,000-paper archive ``bench_archive.py --keep DIR`` leaves), 100,000 subscribers and a million
deliveries over the archive's ten newest days, published (so the day preview renders one of
those days: 100 papers). Every GET page is asked through the real app in process (Starlette's
test client), logged in: the first visit is reported on its own, then p50 and p99 of the warm
visits that follow.

    .venv/bin/python -W ignore benchmarks/bench_console.py [--db /tmp/bench100k/bench.db]
        [--postgres | --database-url postgresql+psycopg://...] [--visits 50]
        [--subscribers N] [--deliveries N]

``--postgres`` starts a throwaway PostgreSQL (as the tests do), copies the same archive into it,
fills it the same way, runs ANALYZE (as autovacuum would after a bulk load; again after folding
the kept counts' per-statement deltas of the ten days) and measures it in
the same run as SQLite, so the two columns are comparable. The original ``--db`` is never
written: SQLite works on a copy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, select, text
from starlette.testclient import TestClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.archive import counts, queries  # noqa: E402
from bot.archive.parsers import ParseOptions, parse_file  # noqa: E402
from bot.archive.schema import deliveries, metadata, publications, subscriptions  # noqa: E402
from bot.archive.store import Archive, open_archive  # noqa: E402
from bot.channels.web.app import make_app  # noqa: E402
from bot.channels.web.console.passwords import hash_password, save_hash  # noqa: E402
from bot.config import Settings  # noqa: E402

DAYS = 10
#: Tables the benchmark fills itself; the archive's own tables are copied as they are.
FILLED = {"subscriptions", "deliveries", "publications", "delivery_counts"}


def pages(day: dt.date) -> list[tuple[str, str]]:
    return [
        ("Overview", ""),
        ("Deliveries (a page of the ledger)", "deliveries"),
        ("Deliveries, failed only", "deliveries?status=failed"),
        (f"Deliveries of {day}, failed", f"deliveries?day={day}&status=failed"),
        ("Subscribers, a channel's first page", "subscribers?kind=email"),
        ("Subscribers, searched (`q=user99`)", "subscribers?kind=email&q=user99"),
        ("Subscribers, tag `vq`", "subscribers?kind=email&tag=vq"),
        ("Subscribers, paused, past id 50,000", "subscribers?kind=email&status=paused&after=50000"),
        ("Day preview, Telegram", f"day?date={day}"),
        ("Day preview, Discord", f"day?date={day}&channel=discord"),
        ("Day preview, email", f"day?date={day}&channel=email"),
        ("Day preview, web tab", f"day?date={day}&channel=web"),
        ("The email itself (`/day/email`)", f"day/email?date={day}"),
        ("The web page itself (`/day/web`)", f"day/web?date={day}"),
        ("Templates", "templates"),
    ]


class NoOperations:
    async def plan(self, day: dt.date) -> str:
        return ""

    async def publish(self, day: dt.date) -> str:
        return ""

    async def retry(self, day: dt.date | None, delivery_id: int | None) -> str:
        return ""


def copy_archive(source: Archive, target: Archive) -> None:
    """The archive's tables, row for row (the target's migrations made its schema and search
    index; its triggers see every row). A table the migrations wrote rows to is left as it is."""
    for table in metadata.sorted_tables:
        with source.engine.connect() as read, target.engine.begin() as write:
            if table.name in FILLED or write.execute(select(table).limit(1)).first():
                continue  # filled below, or made by the target's migrations
            result = read.execution_options(stream_results=True).execute(select(table))
            while chunk := result.fetchmany(5000):
                write.execute(insert(table), [dict(row._mapping) for row in chunk])


def fill(archive: Archive, subscribers: int, deliveries_count: int) -> dt.date:
    """Subscribers, the ten newest days published with their own papers, and the ledger;
    the newest day."""
    now = dt.datetime.now(dt.UTC)
    days = [d.date for d in queries.days(archive)[:DAYS]]
    statuses = ["active"] * 8 + ["paused", "gone"]
    with archive.engine.begin() as conn:
        for start in range(0, subscribers, 50_000):
            conn.execute(
                insert(subscriptions),
                [
                    {
                        "kind": "email",
                        "target": f"user{i}@example.org",
                        "tags": json.dumps(["vq"] if i % 7 == 0 else []),
                        "status": statuses[i % 10],
                        "created": now,
                    }
                    for i in range(start, min(subscribers, start + 50_000))
                ],
            )
        for d in days:
            ids = [p.id for p in queries.day_papers_in(conn, d)]
            conn.execute(insert(publications), [{"day": d, "papers": json.dumps(ids), "created": now}])
        per_day = deliveries_count // len(days)
        for d in days:
            for start in range(0, per_day, 50_000):
                conn.execute(
                    insert(deliveries),
                    [
                        {
                            "day": d,
                            "subscription_id": 1 + i % subscribers,
                            "status": "failed" if i % 97 == 0 else "sent",
                            "attempts": 1,
                            "last_error": "550 no" if i % 97 == 0 else None,
                            "created": now,
                        }
                        for i in range(start, min(per_day, start + 50_000))
                    ],
                )
    print(
        f"{subscribers:,} subscribers, {per_day * len(days):,} deliveries over {len(days)} days"
        f" ({days[-1]} to {days[0]}, {len(queries.day_papers(archive, days[0]))} papers on the newest)",
        file=sys.stderr,
    )
    return days[0]


def measure(url: str, folder: Path, visits: int) -> tuple[dt.date, dict[str, tuple[float, float, float]]]:
    """Each page: (first visit, p50, p99 of the warm visits) in ms."""
    env = {"PAPERBOY_DATA_DIR": str(folder), "PAPERBOY_SECRET_KEY": "k" * 40, "PAPERBOY_DATABASE_URL": url}
    settings = Settings.from_env(env)
    save_hash(settings.data_dir, hash_password("benchmark password"))
    found: dict[str, tuple[float, float, float]] = {}
    with open_archive(url) as archive:
        day = queries.days(archive)[0].date
        app = make_app(settings, archive, console=NoOperations())
        with TestClient(app, base_url="http://127.0.0.1") as client:
            token = re.search(r'name="csrf" value="([^"]+)"', client.get("/admin/login").text)
            assert token
            client.post("/admin/login", data={"csrf": token[1], "password": "benchmark password"})
            for label, page in pages(day):
                times = []
                for _ in range(visits + 1):
                    start = time.perf_counter()
                    response = client.get(f"/admin/{page}")
                    times.append((time.perf_counter() - start) * 1000)
                    assert response.status_code == 200, (page, response.status_code)
                first, warm = times[0], sorted(times[1:])
                p99 = warm[min(len(warm) - 1, int(len(warm) * 0.99))]
                found[label] = (first, statistics.median(warm), p99)
    return day, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, help="a SQLite archive to start from (copied, never written)")
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--deliveries", type=int, default=1_000_000)
    parser.add_argument("--visits", type=int, default=50, help="warm visits a page, after the first")
    parser.add_argument("--postgres", action="store_true", help="also measure a throwaway PostgreSQL")
    parser.add_argument("--database-url", help="also measure this empty PostgreSQL database")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-console-"))
    copy = folder / "archive.db"
    if args.db:
        shutil.copy(args.db, copy)
    sqlite_url = f"sqlite:///{copy}"
    started = time.perf_counter()
    with open_archive(sqlite_url) as archive:
        if not args.db:
            for path in sorted((ROOT / "seeds").glob("*.txt")):
                archive.ingest(parse_file(path, ParseOptions(today=dt.date(2024, 12, 11))))
        fill(archive, args.subscribers, args.deliveries)
    print(f"SQLite ready in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    runs = {"SQLite": sqlite_url}
    server = None
    pg_url = args.database_url
    if args.postgres and not pg_url:
        from tests.pg_server import PostgresServer, find_bin_dir

        bin_dir = find_bin_dir()
        assert bin_dir, "no PostgreSQL server binaries (initdb, pg_ctl) on this machine"
        server = PostgresServer(bin_dir)
        pg_url = server.start()
    try:
        if pg_url:
            started = time.perf_counter()
            with open_archive(sqlite_url) as source, open_archive(pg_url) as target:
                copy_archive(source, target)
                newest = fill(target, args.subscribers, args.deliveries)
                with target.engine.connect() as conn:
                    conn.execute(text("ANALYZE"))
                    conn.commit()
                    # Inserted row by row, each delivery appended its own delta to the kept
                    # counts; the overview folds a day's on reading it. Fold them all now and
                    # analyze again, as autovacuum would after that many deleted rows.
                    counts.fold(conn, [newest - dt.timedelta(days=d) for d in range(DAYS)])
                    conn.execute(text("ANALYZE"))
                    conn.commit()
            print(f"PostgreSQL ready in {time.perf_counter() - started:.0f} s", file=sys.stderr)
            runs["PostgreSQL"] = pg_url
        results = {}
        for name, url in runs.items():
            day, results[name] = measure(url, folder / name, args.visits)
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"load average {load}; day {day}; {args.visits} warm visits")
        header = " | ".join(f"{n} first | {n} p50 | {n} p99" for n in runs)
        print(f"| page | {header} |")
        print("|---" * (1 + 3 * len(runs)) + "|")
        for label in results["SQLite"]:
            cells = " | ".join(" | ".join(f"{v:,.0f} ms" for v in results[name][label]) for name in runs)
            print(f"| {label} | {cells} |")
    finally:
        if server:
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
