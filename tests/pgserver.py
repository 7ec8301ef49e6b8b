"""A private PostgreSQL server for the test suite, started from the installed binaries.

``initdb`` and ``postgres`` refuse to run as root, and the suite runs as root here and on CI,
so as root the server runs as the ``postgres`` OS user that the Debian package creates (through
``runuser``); as anyone else it runs as that user. It lives in a temporary folder, listens on a
free loopback port with password (SCRAM) authentication, and is stopped and removed at the end.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The superuser the tests connect as (not the OS user, so its name is not "postgres").
USER = "batchsql_test"
#: Where the Debian package puts each major version's binaries.
DEBIAN_BINDIRS = Path("/usr/lib/postgresql")


def find_bindir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``: $BATCHSQL_PG_BINDIR, the newest Debian
    version, or the PATH."""
    explicit = os.environ.get("BATCHSQL_PG_BINDIR")
    if explicit:
        return Path(explicit) if (Path(explicit) / "initdb").exists() else None
    versions = sorted((p for p in DEBIAN_BINDIRS.glob("*/bin") if (p / "initdb").exists()),
                      key=lambda p: int(re.sub(r"\D", "", p.parent.name) or 0))
    if versions:
        return versions[-1]
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    """A running server: where it listens and how to log in."""

    host: str
    port: int
    user: str
    password: str = field(repr=False)
    folder: Path
    bindir: Path
    _prefix: list[str] = field(default_factory=list, repr=False)

    def connect(self, dbname: str = "postgres") -> Any:
        import psycopg

        return psycopg.connect(host=self.host, port=self.port, user=self.user,
                               password=self.password, dbname=dbname, autocommit=True)

    def create_database(self) -> str:
        """A fresh, empty database; its name."""
        name = f"t_{uuid.uuid4().hex[:16]}"
        with self.connect() as con:
            con.execute(f'create database "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        """Drop a database, ending sessions a killed test process may have left behind."""
        with self.connect() as con:
            con.execute(f'drop database if exists "{name}" with (force)')

    def stop(self) -> None:
        subprocess.run([*self._prefix, str(self.bindir / "pg_ctl"), "stop", "-D",
                        str(self.folder / "data"), "-m", "immediate", "-w"],
                       capture_output=True, check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


def start(bindir: Path) -> PgServer:
    """initdb a temporary cluster and start it on a free port; raises RuntimeError with the
    server's log when it cannot."""
    prefix: list[str] = []
    owner = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            raise RuntimeError("running as root, and there is no 'postgres' OS user to run the "
                               "server as (the Debian package 'postgresql' makes it)") from None
        prefix = ["runuser", "-u", "postgres", "--"]
    folder = Path(tempfile.mkdtemp(prefix="batchsql-pg-"))
    password = secrets.token_urlsafe(18)
    (folder / "pw").write_text(password)
    if owner is not None:
        for path in (folder, folder / "pw"):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    try:
        initdb = subprocess.run(
            [*prefix, str(bindir / "initdb"), "-D", str(folder / "data"), "-U", USER,
             f"--pwfile={folder / 'pw'}", "--auth-local=trust", "--auth-host=scram-sha-256",
             "-E", "UTF8", "--locale=C", "--no-sync"],
            capture_output=True, text=True, check=False, cwd=folder)
        if initdb.returncode != 0:
            raise RuntimeError(f"initdb failed: {initdb.stderr.strip()[-2000:]}")
        (folder / "pw").unlink()
        for _attempt in range(3):  # another process may take the free port first
            port = _free_port()
            options = (f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                       "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
            started = subprocess.run(
                [*prefix, str(bindir / "pg_ctl"), "start", "-D", str(folder / "data"), "-w",
                 "-t", "60", "-l", str(folder / "server.log"), "-o", options],
                capture_output=True, text=True, check=False)
            if started.returncode == 0:
                return PgServer("127.0.0.1", port, USER, password, folder, bindir, prefix)
        log = (folder / "server.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"pg_ctl start failed: {started.stderr.strip()}\n{log}")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise

