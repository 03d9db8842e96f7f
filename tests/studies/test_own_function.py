"""A study whose trials run a training function of one's own (`Study(train=...)`, a dict of defaults), from a study
file outside the package, through the same path as hpstudy's trainer: TPE + ASHA over 3 seeds, Ctrl-C'd by one of its
trials and resumed, ending with the seed table, the report, and one MLflow parent with every trial nested and every
epoch logged once. The function is a closed form (no torch), so the Ray path is what takes the time."""

from __future__ import annotations

import os
import sys
import textwrap

import pytest

from tests.studies.conftest import store, study_runs

STUDY = '''
    """A search over a training function of my own."""
    import os
    import signal
    import time

    from hpstudy import Asha, Grid, LogUniform, Study

    DESCRIPTION = "my own training function"


    def train(config, trial):
        state = trial.checkpoint() or {"epoch": 0, "acc": 0.0}
        acc = state["acc"]
        for epoch in range(state["epoch"] + 1, config["epochs"] + 1):
            acc += config["lr"] * (1.0 - acc) * (1.0 + 0.01 * trial.seed)
            trial.report(epoch, {"val/acc": acc, "train/loss": 1.0 - acc}, checkpoint={"epoch": epoch, "acc": acc})
            if epoch == config["interrupt_at"] and config["marker"] and not os.path.exists(config["marker"]):
                open(config["marker"], "x").close()
                os.kill(config["driver"], signal.SIGINT)  # Ctrl-C to the study, from inside a trial
                time.sleep(60)


    def get_study(profile):
        defaults = {"lr": 0.1, "epochs": 3, "interrupt_at": 0, "marker": "", "driver": 0}
        return Study(profile=profile, base=defaults, space={"lr": LogUniform(0.05, 0.5), "seed": Grid((0, 1, 2))},
                     search="tpe", num_samples=2, asha=Asha(grace_period=1, reduction_factor=2), train=train,
                     metric="val/acc")
'''


@pytest.fixture
def own(tmp_path):
    folder = tmp_path / "research"
    folder.mkdir()
    (folder / "my_search.py").write_text(textwrap.dedent(STUDY))
    yield folder / "my_search.py"
    sys.modules.pop("my_search", None)
    if str(folder) in sys.path:
        sys.path.remove(str(folder))


@pytest.mark.slow  # ~28 s; the default suite's tests/studies/cli/test_chaos.py interrupts and resumes a function of one's own
def test_a_training_function_of_ones_own_is_searched_interrupted_and_resumed(own, run_study, tmp_path):
    cwd = tmp_path / "work"
    cwd.mkdir()
    dry = run_study([str(own), "--dry-run"], cwd, None)
    assert dry.returncode == 0 and "tpe search: 2 configurations sampled while it runs x 3 seeds" in dry.stdout
    assert "data: the training function's own" in dry.stdout and "  lr=0.1" in dry.stdout
    sets = ["--set", "interrupt_at=2", "--set", f"marker={cwd / 'ctrl-c'}", "--set", f"driver={os.getpid()}"]
    first = run_study([str(own), *sets], cwd, None)
    assert first.returncode == 130, first.stderr[-3000:]
    resumed = run_study([str(own), "--resume"], cwd, None)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "my_search (full): 6 trials:" in resumed.stdout and "| val/acc (%) |" in resumed.stdout
    assert "report: " in resumed.stdout
    parents, trials = study_runs(store(cwd), "my_search")
    assert len(parents) == 1 and len(trials) == 6
    client = store(cwd)
    for run in trials:
        assert run.data.tags["mlflow.parentRunId"] == parents[0].info.run_id
        assert run.data.params["lr"] and run.data.params["epochs"] == "3"  # its config, as params
        steps = [m.step for m in client.get_metric_history(run.info.run_id, "val/acc")]
        assert steps == sorted(set(steps)) and steps[0] == 1  # every epoch it reached, once
    completed = [r for r in trials if r.data.tags["hpstudy.status"] == "completed"]
    assert completed and all(len(client.get_metric_history(r.info.run_id, "val/acc")) == 3 for r in completed)


@pytest.mark.slow  # ~7-14 s: the default suite stays under 5 min on 2 cores
def test_a_function_that_raises_or_breaks_the_contract_fails_its_trial_in_one_line(tmp_path, run_study):
    path = tmp_path / "broken_fn.py"
    path.write_text(textwrap.dedent('''
        from hpstudy import Grid, Study

        def train(config, trial):
            if trial.seed == 0:
                raise ValueError("my own bug, before any report")
            trial.report(1, {"val/accuracy": 0.5})  # not the metric the study optimizes

        def get_study(profile):
            return Study(profile=profile, base={"epochs": 1}, space={"seed": Grid((0, 1))}, train=train,
                         metric="val/acc")
    '''))
    cwd = tmp_path / "work"
    cwd.mkdir()
    done = run_study([str(path)], cwd, None)
    sys.modules.pop("broken_fn", None)
    assert done.returncode == 3, done.stderr[-2000:]
    assert "2 of 2 trials failed:" in done.stderr
    assert "ValueError: my own bug, before any report" in done.stderr
    assert ("TrialError: trial.report: the study optimizes val/acc, which the first report (epoch 1) does not "
            "have; it reported val/accuracy") in done.stderr
    parents, trials = study_runs(store(cwd), "broken_fn")
    assert len(parents) == 1 and {t.data.tags["hpstudy.status"] for t in trials} == {"failed"}
