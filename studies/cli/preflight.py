"""What must hold around a study before it starts: a writable runs folder, a readable MLflow store, a reachable
Ray cluster. Each failure is one line saying what is wrong and what to do, before anything is written.
"""

from __future__ import annotations

import socket
import sqlite3
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from hpstudy.schema.errors import BadInput

TIMEOUT_S = 5.0  # for a cluster or MLflow server to answer; Ray and MLflow would otherwise retry for minutes


class SurroundingsError(BadInput):
    """The study cannot start here; the message is one line naming the thing and the fix."""


def check_runs_dir(runs_dir: Path, flag: str = "--runs-dir") -> None:
    """A file can be written in `runs_dir`, or in the folder that would hold it; nothing is left behind."""
    existing = next(p for p in (runs_dir, *runs_dir.parents) if p.exists())
    try:
        if not existing.is_dir():
            raise NotADirectoryError(f"{existing} is a file")
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".hpstudy-write-check-"):
            pass
    except OSError as err:
        what = "runs folder" if flag == "--runs-dir" else "storage folder"
        raise SurroundingsError(f"{what} {runs_dir} is not writable ({err.strerror or err}); "
                                f"fix its permissions or choose another with {flag}") from None


def check_tracking_store(tracking_uri: str) -> None:
    """A SQLite store must be MLflow's and writable (or not exist yet); a server must answer its health check."""
    if tracking_uri.startswith("sqlite:///"):
        _check_sqlite(Path(tracking_uri[len("sqlite:///"):]))
    elif tracking_uri.startswith(("http://", "https://")):
        _check_server(tracking_uri)


def _check_sqlite(path: Path) -> None:
    if not path.exists() or path.stat().st_size == 0:
        return  # MLflow creates it
    fix = "move it aside, or choose another store with --runs-dir or --tracking-uri"
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as err:
        raise SurroundingsError(f"MLflow store {path} is not a readable SQLite database ({err}); {fix}") from None
    if not {"alembic_version", "experiments", "runs"} <= tables:
        raise SurroundingsError(f"{path} is a SQLite database but not an MLflow store (no experiments/runs tables); "
                                f"{fix}")
    try:
        with sqlite3.connect(path, timeout=TIMEOUT_S) as db:
            db.execute("BEGIN IMMEDIATE")  # takes the write lock, writes nothing
            db.rollback()
    except sqlite3.OperationalError as err:
        raise SurroundingsError(f"MLflow store {path} cannot be written ({err}); fix its permissions (and its "
                                f"folder's), or {fix.split(', ', 1)[1]}") from None


def _check_server(uri: str) -> None:
    try:
        with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=TIMEOUT_S) as response:
            response.read()
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise SurroundingsError(f"no MLflow server answers at {uri} ({reason}); start it "
                                "(mlflow server --host ...) or drop --tracking-uri to log to a local store") from None


def check_address(address: str | None) -> None:
    """A host:port (or ray://host:port) address must accept a connection; 'auto' is left to Ray."""
    if not address or address == "auto":
        return
    parsed = urlparse(address if "://" in address else f"tcp://{address}")
    host, port = parsed.hostname, parsed.port
    if not host or port is None:
        raise SurroundingsError(f"--address {address}: expected host:port, ray://host:port or auto")
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT_S):
            pass
    except OSError as err:
        raise SurroundingsError(f"--address {address}: no Ray cluster answers there ({err.strerror or err}); start "
                                "one (ray start --head) or drop --address to run on this machine") from None


def check_surroundings(runs_dir: Path, tracking_uri: str, address: str | None, storage: str | None = None) -> None:
    """`storage`: the study's --storage; a folder is checked like the runs folder, an object store is left to Ray."""
    check_address(address)
    check_runs_dir(runs_dir)
    if storage is not None and "://" not in storage:
        check_runs_dir(Path(storage), "--storage")
    check_tracking_store(tracking_uri)
