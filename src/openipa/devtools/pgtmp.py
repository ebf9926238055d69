"""A throw-away PostgreSQL server started from the machine's binaries, for tests and benchmarks.

    with temporary_postgres() as url:   # postgres://postgres@127.0.0.1:PORT/openipa
        ...

The server lives in a fresh temporary directory, listens on 127.0.0.1 on a free port and on a unix socket
inside that directory, trusts every local connection, and runs without fsync: nothing in it is meant to
survive. It is stopped and the directory deleted when the block ends, also on an error or Ctrl-C.
PostgreSQL refuses to run as root, so under root the server runs as the ``postgres`` system user.

It never touches a PostgreSQL service already running on the machine. Imports nothing from Django.

    python -m openipa.devtools.pgtmp                 # start one, print its URL, stop on Ctrl-C
    python -m openipa.devtools.pgtmp -- CMD ARGS...  # run CMD with DATABASE_URL set to it
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pwd
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType

SERVER_USER = "postgres"  # the system user the server runs as under root, and the database superuser
REQUIRED_BINARIES = ("initdb", "pg_ctl", "postgres")

# Settings for a server whose data may be lost at any moment: durability off, nothing else changed.
DEFAULT_SETTINGS: dict[str, str] = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "100",
    "shared_buffers": "128MB",
    "max_wal_size": "1GB",
    "log_min_messages": "warning",
    "logging_collector": "off",
}


class PostgresUnavailableError(RuntimeError):
    """The PostgreSQL binaries are missing or the server would not start; the message says why."""


def _version_key(path: Path) -> tuple[int, str]:
    name = path.parent.name
    return (int(name), name) if name.isdigit() else (-1, name)


def _has_binaries(directory: Path) -> bool:
    return all(os.access(directory / name, os.X_OK) for name in REQUIRED_BINARIES)


def find_bindir() -> Path:
    """The directory holding initdb, pg_ctl and postgres: from PATH, else `pg_config --bindir`, else
    the newest /usr/lib/postgresql/*/bin."""
    candidates: list[Path] = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates += [Path(on_path).parent, Path(on_path).resolve().parent]
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10
            ).stdout.strip()
            if out:
                candidates.append(Path(out))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    for directory in candidates:
        if _has_binaries(directory):
            return directory
    raise PostgresUnavailableError(
        "initdb, pg_ctl and postgres not found (looked on PATH, in `pg_config --bindir` and in "
        "/usr/lib/postgresql/*/bin); install PostgreSQL's server package (Debian: postgresql)"
    )


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (the kernel's pick for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _as_server_user(cmd: Sequence[str]) -> list[str]:
    """The command to run `cmd` as the server's user: itself unless we are root."""
    if os.geteuid() != 0:
        return list(cmd)
    if shutil.which("runuser"):
        return ["runuser", "-u", SERVER_USER, "--", *cmd]
    return ["su", SERVER_USER, "-s", "/bin/sh", "-c", shlex.join(cmd)]


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


def _run(cmd: Sequence[str], *, cwd: Path, output: Path, timeout: float, new_session: bool = False) -> int:
    """Run a server command with its output going to a file (never a pipe: the server it starts would
    keep a pipe open); returns the exit code."""
    with output.open("ab") as out:
        try:
            return subprocess.run(
                _as_server_user(cmd),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                start_new_session=new_session,
                check=False,
            ).returncode
        except subprocess.TimeoutExpired:
            return -1
        except OSError as exc:
            raise PostgresUnavailableError(f"could not run {cmd[0]}: {exc}") from exc


def _prepare_directory(root: Path) -> None:
    if os.geteuid() != 0:
        return
    try:
        user = pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise PostgresUnavailableError(
            f"running as root and there is no {SERVER_USER!r} system user to run the server as "
            "(PostgreSQL refuses to run as root)"
        ) from None
    os.chown(root, user.pw_uid, user.pw_gid)


def _initdb(bindir: Path, root: Path, data: Path) -> None:
    log = root / "initdb.log"
    base = [str(bindir / "initdb"), "-D", str(data), "-U", SERVER_USER, "-A", "trust", "-E", "UTF8", "-N"]
    # C.UTF-8 gives Unicode-aware upper()/lower() like a production locale; plain C is the fallback.
    for locale in ("C.UTF-8", "C"):
        if _run([*base, f"--locale={locale}"], cwd=root, output=log, timeout=120) == 0:
            return
        shutil.rmtree(data, ignore_errors=True)
    raise PostgresUnavailableError(f"initdb failed:\n{_tail(log)}")


def _write_settings(data: Path, socket_dir: Path, settings: Mapping[str, str]) -> None:
    values = {**DEFAULT_SETTINGS, "unix_socket_directories": f"'{socket_dir}'", **settings}
    lines = [f"{key} = {value}" for key, value in values.items()]
    with (data / "postgresql.conf").open("a") as conf:
        conf.write("\n# openipa.devtools.pgtmp: a throw-away server\n" + "\n".join(lines) + "\n")


def _start(bindir: Path, root: Path, data: Path) -> int:
    """Start the server on a free port and return the port; retries when another process took the port
    between our pick and the server's bind."""
    log = root / "server.log"
    for attempt in range(3):
        port = free_port()
        cmd = [str(bindir / "pg_ctl"), "start", "-D", str(data), "-l", str(log), "-w", "-t", "60"]
        cmd += ["-o", f"-p {port}"]
        # A new session: Ctrl-C in the terminal reaches our process, not the server; we stop it ourselves.
        code = _run(cmd, cwd=root, output=root / "pg_ctl.log", timeout=90, new_session=True)
        if code == 0:
            return port
        _stop(bindir, root, data)
        if "could not bind" not in _tail(log, 40) or attempt == 2:
            break
    raise PostgresUnavailableError(f"the server did not start:\n{_tail(log) or _tail(root / 'pg_ctl.log')}")


def _stop(bindir: Path, root: Path, data: Path) -> None:
    pid_file = data / "postmaster.pid"
    if not pid_file.exists():
        return
    cmd = [str(bindir / "pg_ctl"), "stop", "-D", str(data), "-m", "immediate", "-w", "-t", "30"]
    with contextlib.suppress(PostgresUnavailableError):
        _run(cmd, cwd=root, output=root / "pg_ctl.log", timeout=45)
    if not pid_file.exists():
        return
    # Still there (pg_ctl missing or hung): kill the postmaster; its children follow it.
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int(pid_file.read_text().splitlines()[0])
        os.kill(pid, signal.SIGKILL)
        for _ in range(50):
            os.kill(pid, 0)
            time.sleep(0.1)


def _create_database(port: int, dbname: str) -> None:
    import psycopg
    from psycopg import sql

    try:
        with psycopg.connect(
            host="127.0.0.1", port=port, user=SERVER_USER, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    except psycopg.Error as exc:
        raise PostgresUnavailableError(f"could not create database {dbname!r}: {exc}") from exc


@contextlib.contextmanager
def temporary_postgres(
    dbname: str = "openipa", *, settings: Mapping[str, str] | None = None
) -> Iterator[str]:
    """Start a throw-away PostgreSQL server with an empty database `dbname` and yield its URL.

    `settings` are extra postgresql.conf lines (values written as they are, so quote strings: "'x'").
    Raises PostgresUnavailableError, before yielding, when the binaries are missing or the server would
    not start. The server is stopped and its directory deleted when the block ends.
    """
    bindir = find_bindir()
    root = Path(tempfile.mkdtemp(prefix="openipa-pg-"))
    data = root / "data"
    try:
        _prepare_directory(root)
        _initdb(bindir, root, data)
        _write_settings(data, root, settings or {})
        try:
            port = _start(bindir, root, data)
            _create_database(port, dbname)
            yield f"postgres://{SERVER_USER}@127.0.0.1:{port}/{dbname}"
        finally:
            _stop(bindir, root, data)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def raise_keyboard_interrupt_on_sigterm() -> None:
    """Make SIGTERM unwind like Ctrl-C, so `finally` blocks stop servers and delete their directories."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    command: list[str] = []
    if "--" in args:
        command = args[args.index("--") + 1 :]
        args = args[: args.index("--")]
    parser = argparse.ArgumentParser(
        prog="python -m openipa.devtools.pgtmp",
        description="Start a throw-away PostgreSQL server; print its URL, or run a command with "
        "DATABASE_URL set to it (after --).",
    )
    parser.add_argument("--dbname", default="openipa")
    options = parser.parse_args(args)
    raise_keyboard_interrupt_on_sigterm()
    try:
        with temporary_postgres(options.dbname) as url:
            if command:
                return subprocess.run(
                    command, env={**os.environ, "DATABASE_URL": url}, check=False
                ).returncode
            print(f"DATABASE_URL={url}", flush=True)
            print("Ctrl-C stops the server and deletes its data.", flush=True)
            while True:
                time.sleep(3600)
    except PostgresUnavailableError as exc:
        print(f"PostgreSQL not available: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
