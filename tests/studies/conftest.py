"""Run the study CLI the way a user does: `python -m studies.run ...` in a fresh folder, as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

TINY = ["--set", "data.limit_train=512", "--set", "epochs=3"]  # ~1 s per epoch on one core


def cli(args: list[str], cwd: Path, timeout: float = 600, **popen) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "studies.run", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PYTHONUNBUFFERED": "1"}, **popen)


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
