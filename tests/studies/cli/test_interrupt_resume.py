"""Ctrl-C saves the study and exits non-zero; --resume finishes it with no duplicate runs and none left RUNNING
(slow: ~7 min on 2 cores, a real Ctrl-C or SIGTERM to a CLI subprocess training real trials)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.studies.conftest import TINY, cli, store, study_runs

EPOCHS = 3


def _interrupt_after_first_epoch(cwd, how: str) -> tuple[int, str, str]:
    """Start the sweep as a terminal would (its own process group) and, once a trial has reported, press Ctrl-C
    (SIGINT to the whole group) or evict it as Kubernetes does (SIGTERM to the study's process)."""
    out, err = cwd / "out.txt", cwd / "err.txt"
    with open(out, "w") as o, open(err, "w") as e:
        proc = subprocess.Popen([sys.executable, "-m", "studies.run", "ses_beta_sweep", "-v", *TINY], cwd=cwd,
                                stdout=o, stderr=e, start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.time() + 300
        while f"epoch 1/{EPOCHS}" not in out.read_text() and time.time() < deadline and proc.poll() is None:
            time.sleep(0.2)
        if how == "ctrl-c":
            os.killpg(proc.pid, signal.SIGINT)
        else:
            os.kill(proc.pid, signal.SIGTERM)
        code = proc.wait(timeout=180)
    return code, out.read_text(), err.read_text()


# The tuner's side (Ctrl-C, the saved state, --resume) runs in seconds in test_tuner_resume.py on a closed-form trial;
# this one adds a terminal's Ctrl-C to the whole process group (or a SIGTERM) and the checkpoints of real training.
@pytest.mark.slow
@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_interrupt_then_resume(tmp_path, how):
    code, _, err = _interrupt_after_first_epoch(tmp_path, how)
    assert code == 130, err[-3000:]
    assert "interrupted" in err and "python -m studies.run ses_beta_sweep --resume" in err

    client = store(tmp_path)
    parents, trials = study_runs(client, "ses_beta_sweep")
    assert parents[0].data.tags["hpstudy.status"] == "interrupted" and parents[0].info.status == "KILLED"
    assert all(t.info.status != "RUNNING" for t in trials), "an interrupted study leaves no run RUNNING"
    done_before = {t.data.tags["hpstudy.trial_id"] for t in trials if t.data.tags["hpstudy.status"] == "completed"}

    result = cli(["ses_beta_sweep", "--resume", "-v"], tmp_path)  # -v: a line per epoch, with the trial id
    assert result.returncode == 0, result.stderr[-3000:]
    parents, trials = study_runs(client, "ses_beta_sweep")
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    assert len(trials) == 10 and len({t.data.tags["hpstudy.trial_id"] for t in trials}) == 10, "no duplicate runs"
    assert {t.data.tags["hpstudy.status"] for t in trials} == {"completed"}
    assert all(t.info.status == "FINISHED" for t in trials)
    for trial in trials:
        steps = [m.step for m in client.get_metric_history(trial.info.run_id, "val/acc")]
        # Interrupted trials continue from their checkpoint: a restart from scratch would log epoch 1 twice.
        assert steps == list(range(1, EPOCHS + 1)), (trial.data.tags["hpstudy.trial_id"], steps)
    for trial_id in done_before:  # finished trials were not rerun
        assert f"[{trial_id}]" not in result.stdout
    assert "| baseline | 2 |" in result.stdout
