"""Bad surroundings are one line naming the thing and the fix, found in seconds, with nothing written."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from studies.cli.preflight import SurroundingsError, check_address, check_runs_dir, check_tracking_store


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@contextmanager
def read_only(folder: Path):
    """`folder` unwritable even for root (chattr +i), or for the user running the tests (chmod)."""
    immutable = subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0
    if not immutable:
        folder.chmod(0o555)
    try:
        probe = folder / "probe"
        try:
            probe.touch()
        except OSError:
            pass
        else:
            probe.unlink()
            pytest.skip("cannot make a folder read-only here (root without chattr)")
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o755)


def test_a_corrupted_store_is_named(tmp_path):
    db = tmp_path / "mlflow.db"
    db.write_bytes(b"this is not a database" * 100)
    with pytest.raises(SurroundingsError, match=f"{db} is not a readable SQLite database"):
        check_tracking_store(f"sqlite:///{db}")


def test_a_sqlite_file_that_is_not_mlflows_is_named(tmp_path):
    db = tmp_path / "mlflow.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE notes (x)")
    with pytest.raises(SurroundingsError, match="not an MLflow store"):
        check_tracking_store(f"sqlite:///{db}")


def test_a_missing_store_is_fine(tmp_path):
    check_tracking_store(f"sqlite:///{tmp_path / 'new' / 'mlflow.db'}")


def test_a_read_only_runs_folder_is_named(tmp_path):
    runs = tmp_path / "hpstudy_runs"
    runs.mkdir()
    with read_only(runs), pytest.raises(SurroundingsError, match="not writable.*--runs-dir"):
        check_runs_dir(runs)
    check_runs_dir(tmp_path / "not" / "yet" / "made")  # its nearest existing folder is writable
    assert not (tmp_path / "not").exists(), "the check writes nothing"


def test_an_address_where_no_cluster_listens_is_refused_in_seconds():
    start = time.monotonic()
    with pytest.raises(SurroundingsError, match="127.0.0.1:1: no Ray cluster answers there"):
        check_address("127.0.0.1:1")
    with pytest.raises(SurroundingsError, match="ray://127.0.0.1:1"):
        check_address("ray://127.0.0.1:1")
    with pytest.raises(SurroundingsError, match="expected host:port"):
        check_address("headnode")
    assert time.monotonic() - start < 10


def test_an_mlflow_server_that_does_not_answer_is_named():
    with pytest.raises(SurroundingsError, match="no MLflow server answers at http://127.0.0.1:1"):
        check_tracking_store("http://127.0.0.1:1")


# Through the CLI's `main`, as a user meets them: exit 2, one line, the store untouched, Ray never started (conftest's
# `cli_here`; tests/studies/cli/test_cli_errors.py runs one bad input in a subprocess, as a user does).

def _one_line(result) -> str:
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_cli_corrupted_store(tmp_path, cli_here):
    (tmp_path / "hpstudy_runs").mkdir()
    db = tmp_path / "hpstudy_runs" / "mlflow.db"
    db.write_bytes(b"\x00garbage" * 512)
    before = _sha(db)
    line = _one_line(cli_here(["ses_beta_sweep"]))
    assert "mlflow.db" in line and "not a readable SQLite database" in line
    assert _sha(db) == before and sorted(p.name for p in db.parent.iterdir()) == ["mlflow.db"]


def test_cli_read_only_runs_folder(tmp_path, cli_here):
    runs = tmp_path / "hpstudy_runs"
    runs.mkdir()
    with read_only(runs):
        line = _one_line(cli_here(["ses_beta_sweep"]))
    assert "not writable" in line and list(runs.iterdir()) == []


def test_cli_unreachable_address(tmp_path, cli_here):
    start = time.monotonic()
    line = _one_line(cli_here(["ses_beta_sweep", "--address", "127.0.0.1:1"]))
    assert "127.0.0.1:1" in line and time.monotonic() - start < 60
    assert not (tmp_path / "hpstudy_runs").exists()
