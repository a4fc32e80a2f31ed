"""`warmline serve --workers 2` serves the --database from two processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

EMAIL = "director@brookside-pt.example"
PASSWORD = "a long enough password"


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.extend(int(child) for child in text)
    return found


def test_serve_two_workers_database_option(tmp_path):
    database = f"sqlite:///{tmp_path / 'chosen.db'}"
    environ = {
        **os.environ,
        # --database must win over the environment, in the workers too.
        "WARMLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'other.db'}",
        "WARMLINE_WEB_SESSION_KEY": "",
        "WARMLINE_WEB_SESSION_KEY_FILE": str(tmp_path / "web.key"),
        "WARMLINE_WEB_PASSWORD": PASSWORD,
        "WARMLINE_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "warmline.cli", "--database", database]
    for args in (["init"], ["users", "add", EMAIL, "--role", "admin"]):
        subprocess.run(
            [*command, *args], env=environ, cwd=tmp_path, check=True, timeout=60
        )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [*command, "serve", "--port", str(port), "--workers", "2"],
        env=environ,
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(base + "/signin", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, "warmline serve exited"
                assert time.monotonic() < deadline, "warmline serve did not start"
                time.sleep(0.2)
        workers = children(server.pid)
        with httpx.Client(base_url=base, timeout=10) as client:
            signed_in = client.post(
                "/api/session", json={"email": EMAIL, "password": PASSWORD}
            )
            # Both workers must accept the cookie: one key file, made once.
            statuses = {client.get("/api/sources").status_code for _ in range(20)}
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)

    assert len(workers) >= 2
    assert signed_in.status_code == 200
    assert statuses == {200}
    assert not (tmp_path / "other.db").exists()
    # The workers log at WARMLINE_LOG_LEVEL, so the sign-in is not logged.
    assert "signed in" not in errors
