"""Start and stop the HTTP servers the benchmarks measure (gunicorn on 127.0.0.1 only)."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from bench.common import ROOT

HOST = "127.0.0.1"


def django_env(**extra: str) -> dict[str, str]:
    """Environment of a benchmark Django server: the benchmark database, production-like, unthrottled."""
    from django.db import connection

    return {
        "INCIDENTS_PG_DB": connection.settings_dict["NAME"],
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "bench-only-not-a-secret",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_STATIC_MANIFEST": "0",
        "INCIDENTS_API_ANON_RATE": "none",
        **extra,
    }


def wait_until_up(port: int, path: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, http.client.HTTPException):
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", path)
            if conn.getresponse().status < 500:
                return
        time.sleep(0.3)
    raise RuntimeError(f"the server on port {port} did not answer {path} within {timeout:.0f} s")


@contextlib.contextmanager
def gunicorn(
    app: str, port: int, *, python: Path, env: dict[str, str], ready_path: str, log: Path, workers: int = 1
) -> Iterator[None]:
    """Run ``app`` under ``workers`` synchronous gunicorn workers (one: the same for every server compared)."""
    command = [str(python), "-m", "gunicorn", app, "--bind", f"{HOST}:{port}", "--workers", str(workers),
               "--timeout", "120", "--log-level", "warning"]  # fmt: skip
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **env}, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            wait_until_up(port, ready_path)
            yield
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def get(port: int, path: str) -> tuple[int, bytes]:
    """One GET over a fresh connection; returns the status and the whole body."""
    conn = http.client.HTTPConnection(HOST, port, timeout=120)
    conn.request("GET", path, headers={"Accept-Encoding": "identity"})
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    return response.status, payload


def timed_get(port: int, path: str) -> tuple[float, bytes]:
    """One GET that must answer 200 (see :func:`get`); returns its time in milliseconds and the body."""
    started = time.perf_counter()
    status, payload = get(port, path)
    elapsed = (time.perf_counter() - started) * 1000
    assert status == 200, (path, status, payload[:300])
    return elapsed, payload
