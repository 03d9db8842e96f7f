"""Kill a study anywhere, resume it, and get the same study: a grid of a deterministic training function of one's own
(checkpointing every epoch) run through the real CLI in a process of its own, interrupted at random moments by
SIGKILL of the driver and every process under it, SIGKILL of a trial's process, SIGINT and SIGTERM, and resumed each
time. Afterwards every trial's metric history must be exactly the uninterrupted one's (computed here in closed form),
every epoch in MLflow once, no run left RUNNING, one parent run; the long version also checks the final seed table
against an uninterrupted run's. The short version (SIGKILL of the driver, then of a trial) is in the default suite; the long one (`-m slow`,
20 interruptions) has its figures in docs/benchmarks.md."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from tests.studies.conftest import store, study_runs

ROOT = Path(__file__).resolve().parents[3]
LRS, SEEDS, EPOCHS = (0.1, 0.2, 0.3), (0, 1), 4  # the long version's grid; the short one trains less
STUDY = '''
    import time

    from hpstudy import Grid, Study


    def train(config, trial):
        state = trial.checkpoint() or {"epoch": 0, "acc": 0.0}
        acc = state["acc"]
        for epoch in range(state["epoch"] + 1, config["epochs"] + 1):
            time.sleep(config["epoch_s"])
            acc += config["lr"] * (1.0 - acc) * (1.0 + 0.01 * trial.seed)
            trial.report(epoch, {"val/acc": acc, "train/loss": 1.0 - acc}, checkpoint={"epoch": epoch, "acc": acc})


    def get_study(profile):
        return Study(profile=profile, base={"lr": 0.1, "epochs": EPOCHS, "epoch_s": EPOCH_S},
                     space={"lr": Grid(LRS), "seed": Grid(SEEDS)}, train=train, metric="val/acc")
'''


def study_file(folder: Path, lrs: tuple[float, ...], epochs: int, epoch_s: float) -> Path:
    path = folder / "chaos_grid.py"
    path.write_text(f"LRS, SEEDS, EPOCHS, EPOCH_S = {lrs!r}, {SEEDS!r}, {epochs}, {epoch_s}\n"
                    + textwrap.dedent(STUDY))
    return path
ACTIONS = ("kill_driver", "kill_trial", "sigint", "sigterm")


def expected(lr: float, seed: int, epochs: int) -> list[float]:
    acc, out = 0.0, []
    for _ in range(epochs):
        acc += lr * (1.0 - acc) * (1.0 + 0.01 * seed)
        out.append(acc)
    return out


def _start(study: Path, runs: Path, out: Path, resume: bool) -> subprocess.Popen:
    with open(out, "a") as o:
        o.write(f"\n=== session ({'--resume' if resume else 'first'}) ===\n")
        o.flush()
        return subprocess.Popen([sys.executable, "-m", "studies.run", str(study), "--runs-dir", str(runs),
                                 *(["--resume"] if resume else [])], cwd=study.parent, stdout=o,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"})


def _trial_processes(driver: int) -> list[psutil.Process]:
    try:
        children = psutil.Process(driver).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    found = []
    for p in children:
        try:
            if p.cmdline()[:1] and p.cmdline()[0].startswith("ray::ImplicitFunc.train"):
                found.append(p)
        except psutil.Error:
            continue
    return found


def _kill_all(driver: int) -> None:
    """SIGKILL of the driver and every process under it (its Ray included), as the OOM killer or a lost node would."""
    try:
        procs = [psutil.Process(driver), *psutil.Process(driver).children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    for p in procs:
        try:
            p.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(procs, timeout=30)


def _running(out: Path) -> bool:
    """The session's trials have started (its progress line is out)."""
    text = out.read_text(errors="replace")
    return "trials " in text[text.rfind("=== session"):]


def run_chaos(tmp_path: Path, interruptions: int, seed: int, plan: tuple[str, ...] = (), max_wait_s: float = 2.5,
              lrs: tuple[float, ...] = LRS, epochs: int = EPOCHS, epoch_s: float = 0.4) -> tuple[list[str], str]:
    """Interrupt the study `interruptions` times at random moments (by the actions of `plan` in turn, or drawn at
    random), resuming after each; then resume until it ends. (the actions taken, the last session's output)."""
    rng = random.Random(seed)
    study = study_file(tmp_path, lrs, epochs, epoch_s)
    runs, out = tmp_path / "hpstudy_runs", tmp_path / "out.txt"
    taken: list[str] = []
    proc = _start(study, runs, out, resume=False)
    trial_kills = 0
    try:
        while len(taken) < interruptions:
            deadline = time.monotonic() + 120
            while not _running(out) and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(rng.uniform(0.0, max_wait_s))
            if proc.poll() is not None:  # it ended before this interruption: start it again, resumed
                if _finished(proc, out):
                    break
                proc = _start(study, runs, out, resume=True)
                continue
            # a trial is killed at most twice in all: Tune retries a trial twice (FailureConfig), and a victim may be
            # the same trial both times
            action = (plan[len(taken)] if plan else
                      rng.choice(ACTIONS if trial_kills < 2 else ACTIONS[:1] + ACTIONS[2:]))
            if action == "kill_trial":  # Tune retries it from its checkpoint: the session goes on
                victims = _trial_processes(proc.pid)
                if not victims:
                    continue
                victims[0].kill()
                trial_kills += 1
                taken.append(action)
                continue
            taken.append(action)
            if action == "kill_driver":
                _kill_all(proc.pid)
            else:
                proc.send_signal(signal.SIGINT if action == "sigint" else signal.SIGTERM)
            proc.wait(timeout=180)
            proc = _start(study, runs, out, resume=True)
        for _ in range(3):  # the rest of the study, uninterrupted
            proc.wait(timeout=600)
            if _finished(proc, out):
                break
            proc = _start(study, runs, out, resume=True)
    finally:
        if proc.poll() is None:
            _kill_all(proc.pid)
    text = out.read_text(errors="replace")
    assert _finished(proc, out), f"after {taken}: {text[-4000:]}"
    sessions = text.split("=== session")
    last = next(s for s in reversed(sessions) if "| config |" in s)  # the one that closed the study
    return taken, last


def _finished(proc: subprocess.Popen, out: Path) -> bool:
    """The study ended: this session exited 0, or an interruption fell after it had closed the study (between its
    closing report and its exit), so a resume finds nothing left to resume (exit 2)."""
    text = out.read_text(errors="replace")
    session = text[text.rfind("=== session"):]
    return proc.returncode == 0 or (proc.returncode == 2 and "nothing to resume" in session
                                    and "| config |" in text)


def check_same_study(tmp_path: Path, lrs: tuple[float, ...] = LRS, epochs: int = EPOCHS) -> None:
    client = store(tmp_path)  # tests/studies/conftest: TMP_PATH/hpstudy_runs/mlflow.db
    parents, trials = study_runs(client, "chaos_grid")
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    points = sorted((float(t.data.params["lr"]), int(t.data.tags["hpstudy.seed"])) for t in trials)
    assert points == sorted((lr, s) for lr in lrs for s in SEEDS), points  # one run per configuration and seed
    for t in trials:
        assert t.info.status == "FINISHED" and t.data.tags["hpstudy.status"] == "completed", t.data.tags
        lr, s = float(t.data.params["lr"]), int(t.data.tags["hpstudy.seed"])
        history = sorted((m.step, m.value) for m in client.get_metric_history(t.info.run_id, "val/acc"))
        assert [step for step, _ in history] == list(range(1, epochs + 1)), (lr, s, history)  # each epoch once
        assert [v for _, v in history] == pytest.approx(expected(lr, s, epochs), rel=0, abs=1e-12), (lr, s, history)


def test_killed_outright_then_a_trial_killed_it_resumes_to_the_same_study(tmp_path, empty_store):
    # the two interruptions nothing else in the default suite makes, at random moments; SIGINT and SIGTERM are in the
    # long version and tests/studies/cli/test_interrupt_resume.py
    (tmp_path / "hpstudy_runs").mkdir()
    shutil.copyfile(empty_store, tmp_path / "hpstudy_runs" / "mlflow.db")  # MLflow's migrations done: ~7 s saved
    taken, _ = run_chaos(tmp_path, interruptions=2, seed=1, plan=("kill_driver", "kill_trial"), max_wait_s=1.0,
                         lrs=LRS[:2], epochs=3, epoch_s=0.3)
    assert taken == ["kill_driver", "kill_trial"]
    check_same_study(tmp_path, LRS[:2], epochs=3)


@pytest.mark.slow
def test_interrupted_twenty_times_it_ends_with_the_uninterrupted_runs_table(tmp_path):
    reference = tmp_path / "reference"
    reference.mkdir()
    study = study_file(reference, LRS, 10, 0.5)
    done = subprocess.run([sys.executable, "-m", "studies.run", str(study), "--runs-dir",
                           str(reference / "hpstudy_runs")],
                          cwd=reference, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    chaos = tmp_path / "chaos"
    chaos.mkdir()
    started = time.monotonic()
    taken, last = run_chaos(chaos, interruptions=20, seed=7, max_wait_s=1.2, epochs=10, epoch_s=0.5)
    print(f"chaos: {len(taken)} interruptions ({', '.join(f'{a} x{taken.count(a)}' for a in ACTIONS)}) in "
          f"{time.monotonic() - started:.0f} s")
    assert len(taken) == 20
    check_same_study(chaos, LRS, epochs=10)

    def table(text: str) -> list[str]:
        return [line for line in text.splitlines() if line.startswith("|")]

    assert table(last) and table(last) == table(done.stdout)
