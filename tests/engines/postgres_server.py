"""A throwaway PostgreSQL server on loopback for the tests that audit a real database.

The Debian ``postgresql`` package provides the binaries (``make test`` installs it when missing).
:func:`start` creates a fresh cluster in a temporary folder, starts it on 127.0.0.1 on a free
port with password authentication, and returns the connection details; :func:`stop` shuts it down
and removes the folder. PostgreSQL refuses to run as root, so under root the server runs as the
``postgres`` system user the package creates.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Server:
    folder: Path
    port: int
    user: str
    password: str
    database: str
    run_as: list[str]
    bin_dir: Path

    def url(self, password: str | None = None) -> str:
        secret = self.password if password is None else password
        return f"postgresql://{self.user}:{secret}@127.0.0.1:{self.port}/{self.database}"


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise RuntimeError(
        "PostgreSQL is not installed: run `make setup` (it installs the Debian package "
        "postgresql) or `apt-get install postgresql`."
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(user: str = "auditor", database: str = "acme", settings: str = "") -> Server:
    """A running server; ``settings`` adds server options (e.g. ``-c log_statement=all``)."""
    bin_dir = _bin_dir()
    folder = Path(tempfile.mkdtemp(prefix="pilot2prod-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    password = secrets.token_urlsafe(16)
    data = folder / "data"
    pwfile = folder / "pw"
    pwfile.write_text(password)
    if run_as:
        shutil.chown(pwfile, "postgres", "postgres")
    subprocess.run(
        [
            *run_as,
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            user,
            f"--pwfile={pwfile}",
            "--auth=scram-sha-256",
            "--encoding=UTF8",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
    )
    pwfile.unlink()
    port = _free_port()
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off {settings}"
    subprocess.run(
        [
            *run_as,
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(folder / "server.log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    server = Server(folder, port, user, password, database, run_as, bin_dir)
    env = {**os.environ, "PGPASSWORD": password}
    deadline = time.monotonic() + 30
    while True:
        created = subprocess.run(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                user,
                "-d",
                "postgres",
                "-c",
                f"CREATE DATABASE {database}",
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        if created.returncode == 0:
            return server
        if time.monotonic() > deadline:
            stop(server)
            raise RuntimeError(f"PostgreSQL did not come up: {created.stderr.strip()}")
        time.sleep(0.5)


def psql(server: Server, sql: str) -> str:
    """Run SQL as the cluster owner (set-up only: the audit itself never writes)."""
    out = subprocess.run(
        [
            "psql",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-p",
            str(server.port),
            "-U",
            server.user,
            "-d",
            server.database,
            "-q",
            "-c",
            sql,
        ],
        env={**os.environ, "PGPASSWORD": server.password},
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout


def stop(server: Server) -> None:
    subprocess.run(
        [
            *server.run_as,
            str(server.bin_dir / "pg_ctl"),
            "-D",
            str(server.folder / "data"),
            "-m",
            "immediate",
            "stop",
        ],
        capture_output=True,
    )
    shutil.rmtree(server.folder, ignore_errors=True)


def copy_frame(cursor, table: str, frame, types: dict[str, str]) -> None:  # noqa: ANN001
    """Create ``table`` with the frame's columns (text unless ``types`` says otherwise) and
    load the frame with COPY."""
    import io

    def quoted(name: str) -> str:
        return '"' + str(name).replace('"', '""') + '"'

    columns = ", ".join(f"{quoted(c)} {types.get(c, 'text')}" for c in frame.columns)
    cursor.execute(f"CREATE TABLE {quoted(table)} ({columns})")
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False)
    with cursor.copy(f'COPY "{table}" FROM STDIN WITH (FORMAT csv)') as copy:
        copy.write(buffer.getvalue())
