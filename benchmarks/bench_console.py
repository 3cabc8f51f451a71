"""The operator console's pages on a large deployment: 100,000 subscribers and a million
deliveries over ten published days (SQLite, the embedded default, or an empty PostgreSQL
database), each page asked 30 times through the real app in process (Starlette's test client),
logged in. Prints the first visit (the templates page compiles every template then, and keeps
the result while the files are unchanged), p50 and p99 (of all 30, the first included).

    .venv/bin/python benchmarks/bench_console.py [--subscribers N] [--deliveries N]
        [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert
from starlette.testclient import TestClient

from bot.archive.parsers import ParseOptions, parse_file
from bot.archive.schema import deliveries, publications, subscriptions
from bot.archive.store import open_archive
from bot.channels.web.app import make_app
from bot.channels.web.console.passwords import hash_password, save_hash
from bot.config import Settings

ROOT = Path(__file__).resolve().parents[1]
PAGES = [
    "",
    "deliveries",
    "deliveries?status=failed",
    "subscribers?kind=email",
    "subscribers?kind=email&q=user99",
    "subscribers?kind=email&status=paused&after=50000",
    "day?date=2024-06-18",
    "templates",
]


class NoOperations:
    async def plan(self, day: dt.date) -> str:
        return ""

    async def publish(self, day: dt.date) -> str:
        return ""

    async def retry(self, day: dt.date | None, delivery_id: int | None) -> str:
        return ""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--deliveries", type=int, default=1_000_000)
    parser.add_argument(
        "--database-url", help="an empty PostgreSQL database (default: SQLite in a temp folder)"
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    env = {"PAPERBOY_DATA_DIR": str(folder), "PAPERBOY_SECRET_KEY": "k" * 40}
    if args.database_url:
        env["PAPERBOY_DATABASE_URL"] = args.database_url
    settings = Settings.from_env(env)
    save_hash(settings.data_dir, hash_password("benchmark password"))
    now = dt.datetime.now(dt.UTC)
    with open_archive(settings.database_url) as archive:
        for path in sorted((ROOT / "seeds").glob("*.txt")):
            archive.ingest(parse_file(path, ParseOptions(today=dt.date(2024, 12, 11))))
        statuses = ["active"] * 8 + ["paused", "gone"]
        with archive.engine.begin() as conn:
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
                    for i in range(args.subscribers)
                ],
            )
            days = [dt.date(2024, 6, 18) - dt.timedelta(days=d) for d in range(10)]
            conn.execute(insert(publications), [{"day": d, "papers": "[]", "created": now} for d in days])
            per_day = args.deliveries // len(days)
            for d in days:
                conn.execute(
                    insert(deliveries),
                    [
                        {
                            "day": d,
                            "subscription_id": 1 + i % args.subscribers,
                            "status": "failed" if i % 97 == 0 else "sent",
                            "attempts": 1,
                            "last_error": "550 no" if i % 97 == 0 else None,
                            "created": now,
                        }
                        for i in range(per_day)
                    ],
                )
        print(f"{args.subscribers:,} subscribers, {per_day * len(days):,} deliveries over {len(days)} days")
        app = make_app(settings, archive, console=NoOperations())
        with TestClient(app, base_url="http://127.0.0.1") as client:
            token = re.search(r'name="csrf" value="([^"]+)"', client.get("/admin/login").text)
            assert token
            client.post("/admin/login", data={"csrf": token[1], "password": "benchmark password"})
            for page in PAGES:
                times = []
                for _ in range(30):
                    start = time.perf_counter()
                    response = client.get(f"/admin/{page}")
                    times.append((time.perf_counter() - start) * 1000)
                    assert response.status_code == 200, (page, response.status_code)
                times_in_order = list(times)
                times.sort()
                p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
                print(
                    f"/admin/{page:<50} first {times_in_order[0]:7.1f} ms"
                    f"  p50 {statistics.median(times):7.1f} ms  p99 {p99:7.1f} ms"
                )


if __name__ == "__main__":
    main()
