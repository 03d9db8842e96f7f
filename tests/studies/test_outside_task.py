"""A study of a task defined outside the package: the Train worker imports the user's module by its path."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import store, study_runs

EXAMPLE = Path(__file__).parents[2] / "examples" / "tasks" / "focal.py"


@pytest.mark.slow  # ~70 s through Ray; the same task without Ray: tests/trainables/tasks/test_own_task.py
def test_a_study_runs_a_task_from_the_users_own_module(tmp_path):
    own = tmp_path / "own_code"
    own.mkdir()
    # Its lead metric moved first: the study must then optimize val/p_true, the task's, not classification's.
    text = EXAMPLE.read_text()
    first = 'MetricSpec("acc", "max", "fraction", "top-1 accuracy"),'
    second = 'MetricSpec("p_true", "max", "fraction", "mean softmax probability of the true class")'
    (own / "user_tasks.py").write_text(text.replace(f"({first}\n               {second})", f"({second}, {first})"))
    assert (own / "user_tasks.py").read_text() != text
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "PYTHONUNBUFFERED": "1",
           "PYTHONPATH": os.pathsep.join([str(own), os.environ.get("PYTHONPATH", "")])}
    args = ["lr_warmup_dropout", "--profile", "local", "--num-samples", "1", "--set", "epochs=1",
            "--set", "data.limit_train=256", "--set", "task.module=user_tasks:FocalClassification"]
    done = subprocess.run([sys.executable, "-m", "studies.run", *args], cwd=work, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    parents, trials = study_runs(store(work), "lr_warmup_dropout")
    assert len(parents) == 1 and len(trials) == 1
    trial = trials[0]
    assert {"val/p_true", "train/loss_ce", "test/p_true"} <= set(trial.data.metrics)
    assert parents[0].data.params["study.metric"] == "val/p_true"
    # the task's metric table rides on the parent run, so the report knows p_true is a fraction, higher better
    assert '["p_true", "max", "fraction"' in parents[0].data.tags["hpstudy.metric_specs"]
    assert "val/p_true (%)" in done.stdout, done.stdout[-2000:]
    shutil.rmtree(own)  # nothing of it stays behind in the study's folder
    assert not (work / "user_tasks.py").exists()
