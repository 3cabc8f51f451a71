"""How long ``/metrics`` takes to answer on a large archive: the ledger's backlog is counted at
each scrape, and the counts of every process are added up from their files.

    python benchmarks/bench_metrics.py [--db /tmp/bench100k/bench.db] [--deliveries 1000000]
                                       [--scrapes 200]

The archive is copied (the original is never written), then given 100,000 subscribers and
``--deliveries`` rows in the ledger over ten days (96 % sent, 2 % pending, 1 % waiting for a
retry, 1 % failed). ``paperboy serve`` (uvicorn, one process) answers; two other processes
have counted deliveries, 429s and latencies of every channel into the shared directory, as a
worker and a ``paperboy publish`` would. The scrapes come one after another from this process,
each on a new connection as Prometheus makes them; the figure is their latency.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TOKEN = "bench-metrics-token-0123456789"
SUBSCRIBERS = 100_000
DAYS = 10
COUNTER = """
import os, random
from pathlib import Path
from bot import metrics
metrics.count_in(Path(os.environ["DIR"]))
for channel in ("telegram", "discord", "discord-webhook", "email"):
    for outcome in ("sent", "deferred", "failed", "gone"):
        for _ in range(50):
            metrics.delivered(channel, outcome)
    for _ in range(1000):
        metrics.send_took(channel, random.random())
    metrics.rate_limited(channel, 3.0)
metrics.publish_took(42.0)
"""


def fill(url: str, deliveries_count: int) -> None:
    from sqlalchemy import delete, insert

    from bot.archive.schema import deliveries, publications, subscriptions
    from bot.archive.store import open_archive

    now = dt.datetime.now(dt.UTC)
    kinds = ("telegram", "discord", "email")
    with open_archive(url) as archive, archive.engine.begin() as conn:
        conn.execute(delete(deliveries))
        conn.execute(delete(subscriptions))
        subs = [
            {
                "id": n + 1,
                "kind": kinds[n % 3],
                "target": f"{n}@example.org" if n % 3 == 2 else str(10_000 + n),
                "tags": "[]",
                "status": "active",
                "created": now - dt.timedelta(days=400),
            }
            for n in range(SUBSCRIBERS)
        ]
        conn.execute(insert(subscriptions), subs)
        days = [dt.date(2026, 1, 1) + dt.timedelta(days=d) for d in range(DAYS)]
        for day in days:
            conn.execute(
                insert(publications).prefix_with("OR IGNORE"), [{"day": day, "papers": "[]", "created": now}]
            )
        batch: list[dict[str, object]] = []
        for n in range(deliveries_count):
            share = n % 100
            status, not_before = "sent", None
            if share < 2:
                status = "pending"
            elif share < 3:
                status, not_before = "pending", now + dt.timedelta(hours=1)
            elif share < 4:
                status = "failed"
            batch.append(
                {
                    "day": days[n // SUBSCRIBERS % DAYS],
                    "subscription_id": n % SUBSCRIBERS + 1,
                    "status": status,
                    "attempts": 1,
                    "not_before": not_before,
                    "created": now,
                    "sent_at": now if status == "sent" else None,
                }
            )
            if len(batch) == 50_000:
                conn.execute(insert(deliveries), batch)
                batch = []
        if batch:
            conn.execute(insert(deliveries), batch)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def scrape(url: str) -> tuple[float, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {TOKEN}"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as answer:
        body = answer.read()
    return time.perf_counter() - started, body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="/tmp/bench100k/bench.db", help="a SQLite archive (copied)")
    parser.add_argument("--deliveries", type=int, default=1_000_000)
    parser.add_argument("--scrapes", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="make the filled copy here, or reuse the one made there")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-metrics-") as tmp:
        folder = Path(tmp)
        copy = (args.keep or folder) / "archive.db"
        url = f"sqlite:///{copy}"
        if not copy.exists():
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(args.db, copy)
            started = time.perf_counter()
            fill(url, args.deliveries)
            took = time.perf_counter() - started
            print(f"ledger of {args.deliveries:,} deliveries in {took:.0f} s", file=sys.stderr)
        port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("PAPERBOY_", "PROMETHEUS_"))},
            "PAPERBOY_DATABASE_URL": url,
            "PAPERBOY_DATA_DIR": str(folder / "data"),
            "PAPERBOY_SITE_DIR": str(folder / "site"),
            "PAPERBOY_PORT": str(port),
            "PAPERBOY_METRICS_TOKEN": TOKEN,
        }
        server = subprocess.Popen([sys.executable, "-m", "bot", "serve"], env=env, cwd=ROOT)
        try:
            metrics_url = f"http://127.0.0.1:{port}/metrics"
            for _ in range(600):
                try:
                    scrape(metrics_url)
                    break
                except OSError:
                    time.sleep(0.2)
            for _ in range(2):  # a worker and a `paperboy publish`, both done by now
                counter_env = {**env, "DIR": str(folder / "data" / "metrics")}
                subprocess.run([sys.executable, "-c", COUNTER], env=counter_env, cwd=ROOT, check=True)
            for _ in range(5):
                scrape(metrics_url)
            times = []
            body = b""
            for _ in range(args.scrapes):
                took, body = scrape(metrics_url)
                times.append(took * 1000)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    times.sort()
    sent = [line for line in body.decode().splitlines() if line.startswith("paperboy_deliveries_total")]
    print(
        json.dumps(
            {
                "deliveries": args.deliveries,
                "scrapes": args.scrapes,
                "p50_ms": round(statistics.median(times), 1),
                "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 1),
                "max_ms": round(times[-1], 1),
                "bytes": len(body),
                "series_of_deliveries": len(sent),
                "backlog": [
                    line for line in body.decode().splitlines() if line.startswith("paperboy_ledger_backlog")
                ],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
