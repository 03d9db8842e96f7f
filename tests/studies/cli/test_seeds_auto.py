"""`--seeds auto` through the CLI, Ray Tune and MLflow on a closed-form trial with seed noise: seeds in waves only for
the comparisons still open, every variant ending with a decision against the baseline that the terminal, the parent
run and each trial run show, and the same decisions as the rule gives on the logged values."""

from __future__ import annotations

from collections import defaultdict

import pytest

from analysis.sequential import OPEN, UNDECIDED, VERDICTS, judge
from hpstudy.schema.replication_policy import Replication
from tests.studies.closed_form import ClosedForm
from tests.studies.conftest import store, study_runs

POLICY = Replication(minimum=2, maximum=4, delta=0.02, alpha=0.05, wave=1)
ARGS = ["ses_beta_sweep", "--set", "epochs=1", "--seeds", "auto",
        "--replication", "minimum=2,maximum=4,delta=0.02"]


@pytest.fixture(scope="module")
def auto(run_study, tmp_path_factory):
    cwd = tmp_path_factory.mktemp("auto")
    result = run_study(ARGS, cwd, ClosedForm(noise=0.01))
    parents, trials = study_runs(store(cwd), "ses_beta_sweep")
    return result, parents, trials


def _values(trials) -> dict[str, dict[int, float]]:
    out: dict[str, dict[int, float]] = defaultdict(dict)
    for t in trials:
        out[t.data.tags["hpstudy.config_name"]][int(t.data.tags["hpstudy.seed"])] = t.data.metrics["val/acc"]
    return out


@pytest.mark.slow  # a real sequential study end to end (~18 s): the default suite stays under 5 min
def test_seeds_come_in_waves_only_for_the_open_comparisons(auto):
    result, parents, trials = auto
    assert result.returncode == 0, result.stderr[-3000:]
    values = _values(trials)
    assert sorted(values["baseline"]) == list(range(len(values["baseline"])))  # seeds 0, 1, ... in order
    assert 2 <= len(values["baseline"]) <= POLICY.maximum
    assert len(trials) < 5 * POLICY.maximum  # not every variant took every seed
    for config, seeds in values.items():
        assert sorted(seeds) == list(range(len(seeds))), config  # a prefix of the baseline's seeds
        assert set(seeds) <= set(values["baseline"])
        if config == "baseline":
            continue
        decision = parents[0].data.tags["hpstudy.decisions"]
        # each variant stopped at its first decided look: no seed beyond the pairs its decision took
        diffs = [values[config][s] - values["baseline"][s] for s in sorted(seeds)]
        first = next((n for n in POLICY.looks() if n <= len(diffs) and judge(diffs[:n], POLICY).verdict != OPEN),
                     None)
        assert len(seeds) == (first or POLICY.maximum), (config, decision)
    assert "wave 2:" in result.stdout


@pytest.mark.slow  # a real sequential study end to end (~18 s): the default suite stays under 5 min
def test_every_variant_ends_with_a_decision_in_mlflow_and_on_the_terminal(auto):
    import json

    result, parents, trials = auto
    decisions = json.loads(parents[0].data.tags["hpstudy.decisions"])
    assert set(decisions) == {"beta=0.3", "beta=0.5", "beta=0.7", "beta=0.9"}
    values = _values(trials)
    for config, end in decisions.items():
        assert end["verdict"] in VERDICTS
        diffs = [values[config][s] - values["baseline"][s] for s in sorted(values[config])]
        expected = judge(diffs, POLICY)
        assert end["verdict"] == (UNDECIDED if expected.verdict == OPEN else expected.verdict)
        assert end["n"] == len(diffs) and f"{config}: {end['verdict']} at n={end['n']}" in result.stdout
    for t in trials:
        name = t.data.tags["hpstudy.config_name"]
        if name != "baseline":
            assert t.data.tags["hpstudy.decision"] == decisions[name]["verdict"]
            assert t.data.tags["hpstudy.decision_n"] == str(decisions[name]["n"])
    assert parents[0].data.tags["hpstudy.replication"].startswith("minimum=2, maximum=4, delta=0.02")
    assert parents[0].data.tags["hpstudy.status"] == "completed"


@pytest.fixture(scope="module")
def resumed(run_study, tmp_path_factory):
    """Ctrl-C in the second wave (the baseline's seed-2 trial, after epoch 2 of 3), then --resume."""
    from tests.studies.closed_form import baseline_at

    cwd = tmp_path_factory.mktemp("auto_resume")
    trial = ClosedForm(noise=0.01, interrupts=baseline_at(2), interrupt_epoch=2, marker=str(cwd / "ctrl-c"),
                       epoch_s=0.1)
    args = ["ses_beta_sweep", "--set", "epochs=3", "--seeds", "auto", "--replication", "minimum=2,maximum=4,delta=0.02"]
    first = run_study(args, cwd, trial)
    before = study_runs(store(cwd), "ses_beta_sweep")[1]
    again = run_study(["ses_beta_sweep", "--resume"], cwd, trial)
    parents, trials = study_runs(store(cwd), "ses_beta_sweep")
    return first, before, again, parents, trials


@pytest.mark.slow  # ~1 min: two studies of three epochs a trial, one Ctrl-C'd
def test_a_study_interrupted_in_a_wave_resumes_it_and_reaches_the_same_decisions(resumed):
    import json

    first, before, again, parents, trials = resumed
    assert first.returncode == 130, first.stderr[-3000:]
    assert "wave 2:" in first.stdout and "--resume" in first.stderr
    assert {t.data.tags["hpstudy.seed"] for t in before} >= {"0", "1", "2"}
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "wave 2: continuing seeds 2" in again.stdout
    points = [(t.data.tags["hpstudy.config_name"], t.data.tags["hpstudy.seed"]) for t in trials]
    assert len(points) == len(set(points)), "no configuration trained twice on one seed"
    assert len(parents) == 1 and {t.data.tags["hpstudy.status"] for t in trials} == {"completed"}
    decisions = json.loads(parents[0].data.tags["hpstudy.decisions"])
    values = _values(trials)
    for config, end in decisions.items():
        diffs = [values[config][s] - values["baseline"][s] for s in sorted(values[config])]
        expected = judge(diffs, POLICY)
        assert end["verdict"] == (UNDECIDED if expected.verdict == OPEN else expected.verdict)
