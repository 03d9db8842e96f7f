"""Run the study CLI the way a user does: `python -m studies.run ...` in a fresh folder, as a subprocess; or in this
process with a closed-form trial (tests/studies/closed_form.py) on one Ray shared by the session."""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

TINY = ["--set", "data.limit_train=512", "--set", "epochs=3"]  # ~1 s per epoch on one core


def cli(args: list[str], cwd: Path, timeout: float = 600, **popen) -> subprocess.CompletedProcess:
    """The study CLI in its own session; on timeout the whole session goes (the driver and the Ray it started),
    so a stuck study cannot slow the tests after it."""
    cmd = [sys.executable, "-m", "studies.run", *args]
    with subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}, **popen) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            raise subprocess.TimeoutExpired(cmd, timeout, output=out, stderr=err) from None
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def run_main(args: list[str], cwd: Path, trial_factory) -> subprocess.CompletedProcess:
    """`python -m studies.run ARGS --runs-dir CWD/hpstudy_runs` in this process, each trial `trial_factory`'s."""
    from studies.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main([*args, "--runs-dir", str(cwd / "hpstudy_runs")], trial_factory=trial_factory)
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def store(cwd: Path) -> MlflowClient:
    return MlflowClient(tracking_uri=f"sqlite:///{cwd / 'hpstudy_runs' / 'mlflow.db'}")


def study_runs(client: MlflowClient, study: str):
    """(parent runs, trial runs) of `study` in the store."""
    exp = client.get_experiment_by_name(study)
    assert exp is not None, f"no MLflow experiment {study!r}"
    runs = client.search_runs([exp.experiment_id], max_results=1000)
    parents = [r for r in runs if r.data.tags.get("hpstudy.role") == "study"]
    trials = [r for r in runs if r.data.tags.get("hpstudy.role") == "trial"]
    return parents, trials


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def cli_here(workdir, monkeypatch, capsys):
    """`python -m studies.run ARGS` in `workdir`, in this process, for input refused before Ray starts (the same code
    path up to the exit code as `cli`, without ~7 s of imports per case): a CompletedProcess-like result. Starting
    Ray fails the test: bad input must be refused first."""
    from studies.cli.main import main
    from studies.tune import cluster

    def no_ray(*args, **kwargs):
        raise AssertionError("Ray was started: the input should have been refused before")

    monkeypatch.chdir(workdir)
    monkeypatch.setattr(cluster, "connect", no_ray)

    def run(args: list[str]) -> subprocess.CompletedProcess:
        code = main(args)
        out = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out.out, out.err)

    return run


@pytest.fixture(scope="session")
def empty_store(tmp_path_factory) -> Path:
    """An MLflow SQLite store with its tables made: a new one runs MLflow's migrations, ~7 s on 2 cores."""
    path = tmp_path_factory.mktemp("empty_store") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture(scope="session")
def shared_ray():
    """One local Ray for the session's in-process studies (Ray's start is ~10 s on 2 cores): each `main` gets it from
    `studies.tune.cluster.connect` and leaves it running; it stops when the session ends."""
    from studies.tune import cluster as ray_cluster

    cluster = ray_cluster.connect(None)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(ray_cluster, "connect", lambda address, worker_groups=True, code_dirs=None: cluster)
            patch.setattr(ray_cluster, "shutdown", lambda: None)
            yield cluster
    finally:
        ray_cluster.shutdown()


@pytest.fixture(scope="session")
def run_study(shared_ray, empty_store):
    """`run_study(ARGS, CWD, trial_factory)`: `run_main` on the module's Ray, its store a copy of `empty_store`."""
    def run(args: list[str], cwd: Path, trial_factory) -> subprocess.CompletedProcess:
        db = cwd / "hpstudy_runs" / "mlflow.db"
        if not db.exists():  # a --resume finds the first run's
            db.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(empty_store, db)
        return run_main(args, cwd, trial_factory)

    return run


@pytest.fixture(scope="session")
def interrupted_sweep(run_study, tmp_path_factory):
    """`ses_beta_sweep --seeds 0` with its storage at a file:// URI, Ctrl-C'd by the third variant's seed-0 trial
    after it checkpointed epoch 2; then `--resume --storage` again (refused: the resume state records the storage);
    then `--resume`. One scenario, read for two concerns: tests/studies/tune/test_tuner_resume.py (what a resume keeps and
    continues) and test_storage.py (where the checkpoints and the resume state went)."""
    import time
    from types import SimpleNamespace

    from tests.studies.closed_form import ClosedForm, ses_beta_is

    cwd = tmp_path_factory.mktemp("interrupted")
    uri = f"file://{cwd / 'shared'}"
    trial = ClosedForm(interrupts=ses_beta_is(0.5, seed=0), interrupt_epoch=2, marker=str(cwd / "ctrl-c"), epoch_s=0.1)
    first = run_study(["ses_beta_sweep", "--seeds", "0", "--storage", uri], cwd, trial)  # resume keeps the seeds
    parents, trials = study_runs(store(cwd), "ses_beta_sweep")
    again = run_study(["ses_beta_sweep", "--resume", "--storage", uri], cwd, trial)
    resumed_at_ms = int(time.time() * 1000)
    resumed = run_study(["ses_beta_sweep", "--resume"], cwd, trial)
    return SimpleNamespace(cwd=cwd, uri=uri, first=first, parent_before=parents[0], trials_before=trials, again=again,
                           resumed=resumed, resumed_at_ms=resumed_at_ms)
