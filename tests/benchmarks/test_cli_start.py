"""benchmarks.cli_start without running a study: its input checks and its reading of a store being written."""

from __future__ import annotations

import sqlite3

from benchmarks import cli_start


def test_a_folder_that_is_not_a_checkout_is_refused_in_one_line(tmp_path, capsys):
    assert cli_start.main(["--repo", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and str(tmp_path) in err


def test_the_store_is_read_only_once_it_holds_the_row(tmp_path):
    db = tmp_path / "mlflow.db"
    assert cli_start._query(db, cli_start.FIRST_EPOCH) is None  # no store yet
    with sqlite3.connect(db) as con:
        con.execute("create table metrics (key text, timestamp integer)")
    assert cli_start._query(db, cli_start.FIRST_EPOCH) is None  # no epoch yet
    with sqlite3.connect(db) as con:
        con.executemany("insert into metrics values (?, ?)", [("train/loss", 2500), ("val/acc", 1000)])
    assert cli_start._query(db, cli_start.FIRST_EPOCH) == 2.5  # seconds, from MLflow's milliseconds
