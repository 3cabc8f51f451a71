"""The Procfile starts the service under honcho: the web process answers, the worker runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.conftest import ROOT, run_env
from tests.test_service import free_port


def test_honcho_starts_web_and_worker(tmp_path: Path) -> None:
    port = free_port()
    env = run_env(
        f"sqlite:///{tmp_path}/procfile.db",
        tmp_path,
        PAPERBOY_PORT=str(port),
        PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    )
    honcho = subprocess.Popen(
        [sys.executable, "-m", "honcho", "-f", str(ROOT / "Procfile"), "start", "web", "worker"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        answered = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and answered is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/feed.xml", timeout=2) as response:
                    answered = response.status
            except OSError:
                time.sleep(0.5)
        assert answered == 200  # the worker ingested the inbox and exported; web serves it
    finally:
        os.killpg(honcho.pid, signal.SIGTERM)
        output, _ = honcho.communicate(timeout=30)
    assert "web.1" in output and "worker.1" in output
    assert "publishing daily at 00:00 UTC" in output
