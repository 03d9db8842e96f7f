"""A real trial's process killed mid-trial (as the scale issue's probe did) is retried from its last checkpoint:
the study completes with exit 0, the retry is on the trial's run, and every epoch reaches MLflow once
(slow: ~1 min on 2 cores; the same on a closed-form trial runs by default in test_trial_retry.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.studies.conftest import TINY, store, study_runs

EPOCHS = 3


def _parent(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2:].split()[1])


def _descends(pid: int, root: int) -> bool:
    for _ in range(32):
        if pid in (0, 1):
            return False
        if pid == root:
            return True
        pid = _parent(pid)
    return False


def _trial_processes(root: int) -> list[int]:
    """Tune's trial actors running a trial (an idle, reusable one is titled ray::ImplicitFunc) under `root`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if (entry.name.isdigit() and (entry / "cmdline").read_bytes().startswith(b"ray::ImplicitFunc.train")
                    and _descends(int(entry.name), root)):
                found.append(int(entry.name))
        except OSError:  # gone meanwhile
            continue
    return found


def run_killing_a_trial(args: list[str], cwd: Path, after: str) -> tuple[int, str]:
    """`python -m studies.run ARGS` in `cwd`; once its output shows `after`, one running trial process is killed.
    (exit code, output)."""
    out = cwd / "out.txt"
    with open(out, "w") as o:
        proc = subprocess.Popen([sys.executable, "-m", "studies.run", *args], cwd=cwd, stdout=o,
                                stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.time() + 300
        while after not in out.read_text() and time.time() < deadline and proc.poll() is None:
            time.sleep(0.2)
        victims = _trial_processes(proc.pid)
        assert victims, out.read_text()[-2000:]
        os.kill(victims[0], signal.SIGKILL)
        code = proc.wait(timeout=600)
    return code, out.read_text()


@pytest.mark.slow
def test_a_killed_trial_process_is_retried_and_the_study_completes(tmp_path):
    code, text = run_killing_a_trial(["ses_beta_sweep", "--seeds", "0", "-v", *TINY], tmp_path, "epoch 1/")
    assert code == 0, text[-3000:]
    assert ": retried " in text  # after its last epoch, or before its first: the victim is whichever ran
    client = store(tmp_path)
    _, trials = study_runs(client, "ses_beta_sweep")
    assert len(trials) == 5 and {t.data.tags["hpstudy.status"] for t in trials} == {"completed"}
    assert sum(t.data.tags.get("hpstudy.retries") == "1" for t in trials) == 1
    for trial in trials:
        steps = [m.step for m in client.get_metric_history(trial.info.run_id, "val/acc")]
        assert steps == list(range(1, EPOCHS + 1)), (trial.data.tags["hpstudy.config_name"], steps)
