"""The shipped Procfile under honcho, as people run it: ``honcho start`` and no process names.

The runner gives each process a PORT (the base for the first, +100 for the next), the web
process listens there on every interface, the worker publishes, both stay up, and a SIGTERM to
the runner stops everything cleanly.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.config import Settings
from tests.conftest import ROOT, run_env
from tests.test_service import free_port

UP_FOR = 30.0  # seconds the processes must stay up and answering
STOP_WITHIN = 10.0
METRICS_TOKEN = "procfile-metrics-" + "t" * 20


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_honcho_start_runs_every_process_of_the_procfile(tmp_path: Path) -> None:
    port = free_port()
    env = run_env(
        f"sqlite:///{tmp_path}/procfile.db",
        tmp_path,
        PORT=str(port),  # as a platform sets it; honcho takes it as its base port
        PAPERBOY_DATA_DIR=str(tmp_path / "data"),
        PAPERBOY_METRICS_TOKEN=METRICS_TOKEN,
        PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    )
    for explicit in ("PAPERBOY_PORT", "PAPERBOY_HOST", "PAPERBOY_BASE_URL"):
        env.pop(explicit, None)
    log = tmp_path / "honcho.log"
    with log.open("w") as out:
        honcho = subprocess.Popen(
            [sys.executable, "-m", "honcho", "-f", str(ROOT / "Procfile"), "start"],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    web = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and honcho.poll() is None:
            try:
                if get(f"{web}/")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        assert honcho.poll() is None, log.read_text()

        # Up, and serving the archive the worker published, for UP_FOR seconds.
        checks = 0
        until = time.monotonic() + UP_FOR
        while time.monotonic() < until:
            assert honcho.poll() is None, f"a process stopped:\n{log.read_text()}"
            assert get(f"{web}/healthz") == (200, "ok\n")
            status, index = get(f"{web}/")
            assert status == 200 and 'href="days/2024-07-11.html"' in index
            status, day = get(f"{web}/days/2024-07-11.html")
            assert status == 200 and "PaliGemma" in day
            status, found = get(f"{web}/search?q=codebook")
            assert status == 200 and "VQGAN" in found
            checks += 1
            time.sleep(1)
        assert checks >= 10

        # The web process's /metrics adds up the worker's counts: the worker published, not it.
        scrape = urllib.request.Request(
            f"{web}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
        )
        with urllib.request.urlopen(scrape, timeout=5) as response:
            families = {f.name: f for f in text_string_to_metric_families(response.read().decode())}
        published = families["paperboy_publish_duration_seconds"].samples
        assert [s.value for s in published if s.name.endswith("_count")] == [1.0]

        # Every interface, not only loopback: 127.0.0.2 reaches 0.0.0.0, never 127.0.0.1.
        assert get(f"http://127.0.0.2:{port}/healthz")[0] == 200
        # Links name the address people open, not the wildcard the server is bound to.
        opml = get(f"{web}/feeds.opml")[1]
        assert f'xmlUrl="http://localhost:{port}/feed.xml"' in opml and "0.0.0.0" not in opml
        output = log.read_text()
        assert re.search(r"worker\.1 +\| .*published \d{4}-\d{2}-\d{2}: \d+ papers", output), output
        # The worker's own PORT serves nothing: it says which links it writes, and how to fix them.
        assert f"emails link http://localhost:{port + 100}, where this process serves nothing" in output
        pids = [int(pid) for pid in re.findall(r"(?:web|worker)\.1 started \(pid=(\d+)\)", output)]
        assert len(pids) == 2
    finally:
        honcho.send_signal(signal.SIGTERM)  # as a terminal's Ctrl-C or a supervisor would
        started = time.monotonic()
        try:
            honcho.wait(timeout=STOP_WITHIN)
        finally:
            if honcho.poll() is None:
                os.killpg(honcho.pid, signal.SIGKILL)
    stopped_in = time.monotonic() - started
    output = log.read_text()
    assert stopped_in < STOP_WITHIN, output
    assert "Traceback" not in output and "SIGKILL" not in output, output
    assert re.search(r"web\.1 stopped", output) and re.search(r"worker\.1 stopped", output)
    # Each process ran in a session of its own (honcho's): nothing of either is left behind.
    time.sleep(0.5)
    assert [pid for pid in pids if group_alive(pid)] == []
    with pytest.raises(urllib.error.URLError):  # the port is closed: the web process is gone
        get(f"{web}/healthz")


def test_a_runners_port_means_every_interface_and_the_explicit_settings_win() -> None:
    assert (Settings.from_env({}).host, Settings.from_env({}).port) == ("127.0.0.1", 8000)
    platform = Settings.from_env({"PORT": "5000"})
    assert (platform.host, platform.port) == ("0.0.0.0", 5000)
    assert platform.site_url == "http://localhost:5000"  # a link people can open, not the wildcard
    explicit = Settings.from_env({"PORT": "5000", "PAPERBOY_PORT": "9000", "PAPERBOY_HOST": "10.0.0.2"})
    assert (explicit.host, explicit.port, explicit.site_url) == ("10.0.0.2", 9000, "http://10.0.0.2:9000")
    based = Settings.from_env({"PORT": "5000", "PAPERBOY_BASE_URL": "https://papers.example.org/"})
    assert based.site_url == "https://papers.example.org"
