"""The tracker's writer (studies.tracking.writer): a thread or a process, the same contract: writes in order, a run's
Future standing in for its id, a failure raised once at the next flush; the process ignores Ctrl-C and stops when
the driver is gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from studies.tracking.writer import PROCESS, THREAD, make_writer

ROOT = Path(__file__).resolve().parents[3]


def append(client, path: str, line: str) -> str:  # a write: module-level, so it travels to the process by name
    with open(path, "a") as f:
        f.write(line + "\n")
    return line


def pause(client, seconds: float) -> None:
    time.sleep(seconds)


def fail(client, message: str) -> None:
    raise OSError(28, message)


@pytest.fixture(params=[THREAD, PROCESS])
def writer(request, tmp_path):
    made = make_writer(request.param, f"sqlite:///{tmp_path / 'mlflow.db'}", lambda: None)
    yield made
    made.close()


def test_writes_run_in_order_and_a_future_stands_in_for_its_result(writer, tmp_path):
    log = str(tmp_path / "log.txt")
    created = writer.defer(append, log, "run-1", keep=True)  # as a trial's run: its epochs queued before it exists
    writer.defer(append, log, created)
    writer.defer(append, log, "epoch 2")
    writer.flush()
    assert Path(log).read_text().splitlines() == ["run-1", "run-1", "epoch 2"]
    assert created.result() == "run-1"
    writer.defer(append, log, created)  # its result known by now: passed as it is
    writer.flush()
    assert Path(log).read_text().splitlines()[-1] == "run-1"


def test_a_failed_write_is_raised_once_and_what_needs_it_fails_with_it(writer, tmp_path):
    log = str(tmp_path / "log.txt")
    created = writer.defer(fail, "No space left on device", keep=True)
    needs = writer.defer(append, log, created)
    writer.defer(append, log, "after")
    with pytest.raises(OSError, match="No space left"):
        writer.flush()
    writer.flush()  # once
    assert isinstance(needs.exception(), OSError)
    assert Path(log).read_text().splitlines() == ["after"]  # the writes after a failure still run


def test_a_value_that_cannot_travel_fails_its_write_at_the_flush_not_in_tunes_loop(tmp_path):
    writer = make_writer(PROCESS, f"sqlite:///{tmp_path / 'mlflow.db'}", lambda: None)
    try:
        log = str(tmp_path / "log.txt")
        writer.defer(append, log, lambda: "a researcher's config may hold one")  # returns: Tune's loop goes on
        writer.defer(append, log, "after")
        with pytest.raises(Exception, match="pickle"):
            writer.flush()
        assert Path(log).read_text() == "after\n"
    finally:
        writer.close()


def test_the_writer_process_ignores_ctrl_c_and_leaves_the_driver_s_process_group(tmp_path):
    writer = make_writer(PROCESS, f"sqlite:///{tmp_path / 'mlflow.db'}", lambda: None)
    try:
        child = writer._process.pid
        assert os.getpgid(child) != os.getpgid(0)  # a Ctrl-C at the terminal reaches the driver alone
        assert b"mlflow.db" not in Path(f"/proc/{child}/cmdline").read_bytes()  # a URI may hold a password
        writer.flush()  # started and serving
        os.kill(child, signal.SIGINT)
        log = str(tmp_path / "log.txt")
        writer.defer(append, log, "after ctrl-c")
        writer.flush()
        assert Path(log).read_text() == "after ctrl-c\n"
    finally:
        writer.close()
    assert writer._process.returncode == 0


def test_a_writer_process_that_dies_fails_the_flush_and_the_tracker_goes_on_with_a_thread(tmp_path):
    from studies.tracking.tracker import StudyTracker

    tracker = StudyTracker(f"sqlite:///{tmp_path / 'mlflow.db'}", "died", tmp_path / "mlartifacts", writer_kind=PROCESS)
    tracker.start_study("died-1", {}, {})
    tracker.trial_started("t0", name="a", seed=0, params={"seed": 0})
    tracker.flush()
    tracker._writer._process.kill()
    tracker._writer._reader.join(timeout=30)
    tracker.trial_metrics("t0", {"train/loss": 0.5}, 1)
    with pytest.raises(RuntimeError, match="writer process exited"):
        tracker.flush()
    tracker.trial_metrics("t0", {"train/loss": 0.4}, 2)  # on a thread now
    tracker.trial_ended("t0", "completed", "", 2)
    run = tracker.client.get_run(tracker.run_id("t0"))
    assert run.data.tags["hpstudy.status"] == "completed"
    assert [m.step for m in tracker.client.get_metric_history(run.info.run_id, "train/loss")] == [2]
    tracker.close()


@pytest.mark.parametrize("kind", [THREAD, PROCESS])
def test_a_driver_that_exits_without_closing_still_writes_what_it_queued(kind, tmp_path):
    log = tmp_path / "log.txt"
    driver = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from studies.tracking.writer import make_writer
from tests.studies.tracking.test_writer import append, pause
w = make_writer({kind!r}, "sqlite:///{tmp_path / 'mlflow.db'}", lambda: None)
w.defer(pause, 0.5)
for i in range(3):
    w.defer(append, {str(log)!r}, f"queued {{i}}")
"""
    out = subprocess.run([sys.executable, "-c", driver], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert log.read_text().splitlines() == ["queued 0", "queued 1", "queued 2"]


def test_the_writer_process_stops_writing_when_the_driver_is_killed(tmp_path):
    # A driver killed outright: its writer process writes nothing it had not started (as a thread would not have),
    # so a --resume that reads the store finds it settled; and it exits.
    log = tmp_path / "log.txt"
    driver = f"""
import os, sys, time
sys.path.insert(0, {str(ROOT)!r})
from studies.tracking.writer import make_writer
from tests.studies.tracking.test_writer import append, pause
w = make_writer("process", "sqlite:///{tmp_path / 'mlflow.db'}", lambda: None)
w.defer(append, {str(log)!r}, "written").result()
print(w._process.pid, flush=True)
w.defer(pause, 1.0)  # busy when the driver dies ...
for i in range(50):
    w.defer(append, {str(log)!r}, f"queued {{i}}")  # ... with these queued
os._exit(9)
"""
    out = subprocess.run([sys.executable, "-c", driver], capture_output=True, text=True, timeout=120)
    child = int(out.stdout.split()[0])
    deadline = time.monotonic() + 30
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(child)
    assert log.read_text().splitlines() == ["written"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[1].startswith("Z"))
