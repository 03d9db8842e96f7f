"""A team's MLflow tracking server, here on one machine: PostgreSQL (Debian's `postgresql` package) and `mlflow
server` on it, both on loopback only, in a scratch folder; what docs/deploy/cluster.md describes for a real one.

    python -m benchmarks.tracking_server          # prints the tracking URI, serves until Ctrl-C

`postgres_mlflow(folder)` is the same as a context manager (the database itself in a folder of its own under /tmp) (the tracking-server test and `benchmarks.driver_scale
--tracking-server` use it). PostgreSQL refuses to run as root, so as root its server runs as the `postgres` user
the package creates. Trust authentication, on 127.0.0.1 only: a local test's, never a team's (cluster.md).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

HOST = "127.0.0.1"
USER = "hpstudy"  # the database role the MLflow server connects as
DATABASE = "mlflow"


class Unavailable(RuntimeError):
    """PostgreSQL or psycopg is not installed: what to install, in one line."""


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    if shutil.which("initdb"):
        return Path(shutil.which("initdb")).parent
    raise Unavailable("PostgreSQL is not installed: apt-get install postgresql")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _wait(url: str, seconds: float, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"mlflow server exited ({server.returncode}): {log.read_text()[-2000:]}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        time.sleep(0.5)
    raise RuntimeError(f"mlflow server did not answer {url} in {seconds:.0f} s: {log.read_text()[-2000:]}")


@contextlib.contextmanager
def postgres_mlflow(folder: Path, *, workers: int = 2) -> Iterator[str]:
    """Start PostgreSQL and an MLflow server on it under `folder`; yield the server's http:// tracking URI."""
    try:
        import psycopg  # noqa: F401 (the server's driver: postgresql+psycopg://)
    except ImportError:
        raise Unavailable("psycopg is not installed: pip install -c constraints.txt -e '.[server]'") from None
    bin_dir = _pg_bin()
    folder.mkdir(parents=True, exist_ok=True)
    # The database in a folder of its own under /tmp: as root, the `postgres` user must reach it, and `folder`'s
    # parents (a mkdtemp's 0700) may not let it.
    pg_root = Path(tempfile.mkdtemp(prefix="hpstudy_pg_"))
    data, sockets = pg_root / "data", pg_root / "sock"
    run_as = None
    if os.geteuid() == 0:  # initdb refuses root: the package's own user runs the database
        run_as = "postgres"
        os.chmod(pg_root, 0o711)  # traversable by it, listable by nobody else
        for d in (data, sockets):
            d.mkdir()
            shutil.chown(d, run_as, run_as)
    pg_port, port = _free_port(), _free_port()
    pg = [str(bin_dir / "pg_ctl"), "-D", str(data)]
    subprocess.run([str(bin_dir / "initdb"), "-D", str(data), "-U", USER, "-A", "trust", "--no-sync",
                    "-E", "UTF8"], check=True, capture_output=True, user=run_as)
    subprocess.run([*pg, "-l", str(data / "server.log"), "-w", "-o",
                    f"-h {HOST} -p {pg_port} -k {sockets} -F", "start"], check=True, capture_output=True,
                   user=run_as)
    server = None
    try:
        subprocess.run([str(bin_dir / "createdb"), "-h", HOST, "-p", str(pg_port), "-U", USER, DATABASE],
                       check=True, capture_output=True, user=run_as)
        log = folder / "mlflow-server.log"
        store = f"postgresql+psycopg://{USER}@{HOST}:{pg_port}/{DATABASE}"
        with open(log, "w") as out:
            server = subprocess.Popen(
                [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", store,
                 "--artifacts-destination", str(folder / "artifacts"), "--host", HOST, "--port", str(port),
                 "--workers", str(workers)],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        uri = f"http://{HOST}:{port}"
        _wait(f"{uri}/health", 180, server, log)  # a new store's schema migration: ~10-30 s
        yield uri
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        subprocess.run([*pg, "-m", "fast", "stop"], capture_output=True, user=run_as, check=False)
        shutil.rmtree(pg_root, ignore_errors=True)


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="hpstudy_mlflow_server_"))
    try:
        with postgres_mlflow(folder) as uri:
            print(f"tracking URI: {uri} (PostgreSQL and the server's files under {folder}); Ctrl-C stops both",
                  flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                signal.pause()
    except Unavailable as why:
        print(f"error: {why}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
