"""A throwaway PostgreSQL cluster on a free loopback port, for the relational CDM tests and benchmarks.

Debian's ``postgresql`` package puts ``initdb`` and ``pg_ctl`` under ``/usr/lib/postgresql/<version>/bin``; as
root (which ``initdb`` refuses) the cluster runs as the ``postgres`` user through ``setpriv``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.processes import free_port


class Unavailable(RuntimeError):
    """PostgreSQL cannot be started here (binaries, psycopg or a way to leave root are missing); says why."""


def _as_postgres_user() -> list[str]:
    """How to run the cluster's commands: as ourselves, or (as root) as ``postgres`` through setpriv."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise Unavailable("running as root without setpriv: cannot start PostgreSQL as another user")
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        user = pwd.getpwnam("nobody")
    return [setpriv, f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]


def pg_binary(name: str) -> str | None:
    """A PostgreSQL server binary: on PATH, else where Debian's ``postgresql`` puts it (the newest version)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]))
    return str(candidates[-1]) if candidates else None


@contextmanager
def cluster() -> Iterator[str]:
    """Start a cluster; yields the URL of its ``postgres`` database (user ``cdm``, trust on loopback)."""
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise Unavailable("PostgreSQL needs psycopg (pip install 'psycopg[binary]')") from exc
    initdb, pg_ctl = pg_binary("initdb"), pg_binary("pg_ctl")
    if not initdb or not pg_ctl:
        raise Unavailable("PostgreSQL binaries (initdb, pg_ctl) are not on PATH; .ci/run installs Debian's postgresql")
    prefix = _as_postgres_user()
    # outside pytest's root-only temporary directory, so the cluster's user can reach it
    root = Path(tempfile.mkdtemp(prefix="hyperontology-pg-"))
    data = root / "data"
    data.mkdir(mode=0o700)
    if prefix:
        uid = int(prefix[1].split("=")[1])
        for path in (root, data):
            os.chown(path, uid, pwd.getpwuid(uid).pw_gid)
        root.chmod(0o755)
    port = free_port()
    try:
        subprocess.run([*prefix, initdb, "-D", str(data), "-U", "cdm", "-A", "trust", "--no-sync"], check=True,
                       capture_output=True, cwd=root)
        options = f"-p {port} -k {root} -h 127.0.0.1 -F"
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"],
                       check=True, capture_output=True, cwd=root)
        yield f"postgresql://cdm@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True, cwd=root)
        shutil.rmtree(root, ignore_errors=True)


def new_database(url: str, name: str) -> str:
    """Create database ``name`` in the cluster of ``url``; its URL."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return url.rsplit("/", 1)[0] + "/" + name
