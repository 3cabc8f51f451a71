"""The console as an operator starts it: ``paperboy admin set-password --stdin`` in a shell, then
``paperboy run``; the login page answers over real HTTP, a wrong password is refused, the right
one opens the overview (which lists the day ``run`` just published), and logging out ends it."""

from __future__ import annotations

import datetime as dt
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import run_env
from tests.test_service import free_port

PASSWORD = "a long enough passphrase"


def token(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found[1]


def test_run_with_a_password_set_answers_admin_login(tmp_path: Path) -> None:
    port = free_port()
    env = run_env(
        f"sqlite:///{tmp_path}/archive.db",
        tmp_path,
        PAPERBOY_DATA_DIR=str(tmp_path / "data"),
        PAPERBOY_PORT=str(port),
        PAPERBOY_BASE_URL=f"http://127.0.0.1:{port}",
    )
    env.pop("PAPERBOY_ADMIN_PASSWORD_HASH", None)
    stored = subprocess.run(
        [sys.executable, "-m", "bot", "admin", "set-password", "--stdin"],
        input=PASSWORD + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert stored.returncode == 0, stored.stderr
    assert PASSWORD not in stored.stdout + stored.stderr
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            login = None
            for _ in range(600):
                try:
                    login = http.get("/admin/login")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            assert login is not None and login.status_code == 200
            assert 'type="password"' in login.text
            assert http.get("/admin/").status_code == 303  # no session yet: to the login page

            wrong = http.post("/admin/login", data={"csrf": token(login), "password": "not it at all"})
            assert wrong.status_code == 401 and "paperboy_admin" not in wrong.cookies

            right = http.post(
                "/admin/login", data={"csrf": token(http.get("/admin/login")), "password": PASSWORD}
            )
            assert right.status_code == 303 and right.headers["location"].endswith("/admin/")
            cookie = right.headers["set-cookie"]
            assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
            # ``run`` published today from the seeds as it started: the overview lists the day.
            today = dt.datetime.now(dt.UTC).date().isoformat()
            sent = re.compile(rf"<tr><td>{today}</td>")
            for _ in range(600):
                overview = http.get("/admin/")
                if sent.search(overview.text):
                    break
                time.sleep(0.1)
            assert overview.status_code == 200 and "Next publish" in overview.text
            assert sent.search(overview.text), overview.text

            out = http.post("/admin/logout", data={"csrf": token(overview)})
            assert out.status_code == 303
            assert http.get("/admin/").status_code == 303  # the session is over
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, output.decode()
    assert PASSWORD not in output.decode()
