"""Feed requests per second from the web server, as feed readers poll it: a 304 (the reader has
the feed) and a 200 with the gzipped feed (it has changed).

    python benchmarks/bench_web.py [--connections 32] [--seconds 10] [--db sqlite:///archive.db]

The server is the real thing: ``paperboy serve`` (uvicorn, one process) on 127.0.0.1 over the
seeds' exported site (or an existing archive with ``--db``). The load comes from a second
process (this script with ``--client``: N keep-alive HTTP/1.1 connections on asyncio streams,
each sending its next request as soon as the answer is in) for a fixed time, so the two share
the machine's cores as a server and its clients on one host would. No wrk on this machine; the
client is deliberately minimal so that it is not what is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


# --- the load generator (second process) ---------------------------------------------------


async def _connection(
    host: str, port: int, request: bytes, expect: int, until: float, latencies: list[float]
) -> int:
    reader, writer = await asyncio.open_connection(host, port)
    done = 0
    try:
        while (start := time.perf_counter()) < until:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            if status != expect:
                raise SystemExit(f"expected {expect}, got {status}: {head.decode(errors='replace')}")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            done += 1
    finally:
        writer.close()
    return done


async def _load(url: str, headers: dict[str, str], expect: int, connections: int, seconds: float) -> dict:
    host_port, _, path = url.removeprefix("http://").partition("/")
    host, _, port = host_port.partition(":")
    lines = [f"GET /{path} HTTP/1.1", f"Host: {host_port}", *(f"{k}: {v}" for k, v in headers.items())]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    latencies: list[float] = []
    started = time.perf_counter()
    until = started + seconds
    counts = await asyncio.gather(
        *(_connection(host, int(port), request, expect, until, latencies) for _ in range(connections))
    )
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": sum(counts),
        "seconds": elapsed,
        "rps": sum(counts) / elapsed,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
    }


def client(args: argparse.Namespace) -> None:
    """Runs in the second process; prints its counts as JSON."""
    headers = json.loads(args.headers)
    print(json.dumps(asyncio.run(_load(args.url, headers, args.expect, args.connections, args.seconds))))


# --- the benchmark (first process) ---------------------------------------------------------


def _site(tmp: Path, db: str | None) -> tuple[str, Path]:
    from bot.archive.parsers import ParseOptions, parse_file
    from bot.archive.store import open_archive
    from bot.channels.web.export import export_site
    from bot.config import DEFAULT_TEMPLATES
    from bot.render.environment import Templates

    url = db or f"sqlite:///{tmp}/bench.db"
    with open_archive(url) as archive:
        if not db:
            for path in sorted((ROOT / "seeds").iterdir()):
                archive.ingest(parse_file(path, ParseOptions()))
        export_site(archive, Templates(DEFAULT_TEMPLATES), tmp / "site", base_url=None, site_url="http://x")
    return url, tmp / "site"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_client(url: str, headers: dict[str, str], expect: int, args: argparse.Namespace) -> dict:
    command = [
        sys.executable, __file__, "--client", "--url", url, "--headers", json.dumps(headers),
        "--expect", str(expect), "--connections", str(args.connections), "--seconds", str(args.seconds),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return dict(json.loads(result.stdout))


def bench(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        database, site = _site(tmp, args.db)
        port = _free_port()
        env = {
            **os.environ,
            "PAPERBOY_DATABASE_URL": database,
            "PAPERBOY_DATA_DIR": str(tmp / "data"),
            "PAPERBOY_SITE_DIR": str(site),
            "PAPERBOY_PORT": str(port),
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"], env=env, cwd=ROOT, stderr=subprocess.DEVNULL
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    urllib.request.urlopen(f"{base}/healthz", timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            gzip_request = urllib.request.Request(f"{base}/feed.xml", headers={"Accept-Encoding": "gzip"})
            with urllib.request.urlopen(gzip_request) as first:
                etag, size = first.headers["ETag"], len(first.read())
            plain_size = (site / "feed.xml").stat().st_size
            runs = {
                "304 (If-None-Match)": _run_client(
                    f"{base}/feed.xml", {"If-None-Match": etag, "Accept-Encoding": "gzip"}, 304, args
                ),
                f"200 gzip ({size:,} B; {plain_size:,} B plain)": _run_client(
                    f"{base}/feed.xml", {"Accept-Encoding": "gzip"}, 200, args
                ),
            }
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
    import importlib.util

    parser = "httptools" if importlib.util.find_spec("httptools") else "h11"
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    print(
        f"/feed.xml, {args.connections} connections, {args.seconds:g} s each;"
        f" uvicorn with {parser} and {loop}; server and load generator share {os.cpu_count()} cores"
    )
    for name, run in runs.items():
        print(
            f"  {name:<40} {run['rps']:>8,.0f} req/s   p50 {run['p50_ms']:.1f} ms"
            f"   p99 {run['p99_ms']:.1f} ms   ({run['requests']:,} requests)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--db", help="an existing archive (default: the seeds in a temporary SQLite)")
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--headers", default="{}", help=argparse.SUPPRESS)
    parser.add_argument("--expect", type=int, default=200, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        client(args)
    else:
        bench(args)


if __name__ == "__main__":
    main()
