"""A throwaway PostGIS cluster in a temporary folder, for tests that stop or restart the server.

Like scripts/pg-local.sh: initdb as the ``postgres`` system user when run as root, trust
authentication, a Unix socket in the cluster's own folder and no TCP at all, so it never
collides with the test database's cluster or any other.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

import psycopg

USER = "cityincidents"


def pg_bin() -> Path:
    for version in (17, 16, 15):
        candidate = Path(f"/usr/lib/postgresql/{version}/bin")
        if (candidate / "pg_ctl").exists():
            return candidate
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    raise RuntimeError("no pg_ctl found: install postgresql (scripts/setup.sh does it)")


class ThrowawayCluster:
    def __init__(self, name: str = "faults", port: int = 5432):
        self.root = Path(tempfile.mkdtemp(prefix="cityincidents-pg-"))
        self.data = self.root / "data"
        self.socket = self.root / "run"
        self.log = self.root / "postgresql.log"
        self.port = port
        self.name = name
        self.bin = pg_bin()
        self.as_root = os.getuid() == 0

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed:\n{result.stdout}{result.stderr}\n{self._log_tail()}")

    def _log_tail(self) -> str:
        try:
            return "\n".join(self.log.read_text().splitlines()[-20:])
        except OSError:
            return ""

    def start(self) -> ThrowawayCluster:
        self.socket.mkdir()
        if self.as_root:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.socket, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", USER, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\nlisten_addresses = ''\nport = {self.port}\nunix_socket_directories = '{self.socket}'\n"
                "fsync = off\nmax_connections = 50\n"
            )
        self.pg_ctl("start")
        with psycopg.connect(**self.params("postgres"), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{self.name}"')
        with psycopg.connect(**self.params(), autocommit=True) as connection:
            connection.execute("CREATE EXTENSION postgis")
        return self

    def pg_ctl(self, action: str) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-m", "fast", "-w", "-t", "60", action)

    def params(self, dbname: str | None = None) -> dict:
        return {"host": str(self.socket), "port": self.port, "user": USER, "dbname": dbname or self.name}

    @property
    def url(self) -> str:
        return f"postgis://{USER}@{quote(str(self.socket), safe='')}:{self.port}/{self.name}"

    def query(self, sql: str) -> list[tuple]:
        with psycopg.connect(**self.params()) as connection:
            return connection.execute(sql).fetchall()

    def remove(self) -> None:
        with contextlib.suppress(RuntimeError):  # already stopped
            self.pg_ctl("stop")
        shutil.rmtree(self.root, ignore_errors=True)
