"""`--confirm K` through the CLI, Ray Tune and MLflow on a closed-form trial: after a TPE search, its K best
configurations and the base config are retrained on fresh seeds and paired; the closing report leads with that
table and shows the gap between the search's best value and its confirmation."""

from __future__ import annotations

import statistics

import pytest

from tests.studies.closed_form import ClosedForm
from tests.studies.conftest import store, study_runs

ARGS = ["lr_warmup_dropout", "--profile", "local", "--set", "epochs=2", "--num-samples", "4", "--confirm", "2"]


@pytest.fixture(scope="module")
def confirmed(run_study, tmp_path_factory):
    cwd = tmp_path_factory.mktemp("confirm")
    result = run_study(ARGS, cwd, ClosedForm(noise=0.005))
    parents, trials = study_runs(store(cwd), "lr_warmup_dropout")
    return result, parents, trials


@pytest.mark.slow  # a real study end to end (~13-19 s): the default suite stays under 5 min
def test_the_best_configurations_are_retrained_on_fresh_seeds_against_the_base_config(confirmed):
    result, parents, trials = confirmed
    assert result.returncode == 0, result.stderr[-3000:]
    search = [t for t in trials if "hpstudy.phase" not in t.data.tags]
    confirm = [t for t in trials if t.data.tags.get("hpstudy.phase") == "confirm"]
    assert len(search) == 4 and len(confirm) == 3 * 3  # baseline + 2 best, 3 fresh seeds each
    assert {t.data.tags["hpstudy.seed"] for t in search} == {"0"}
    assert {t.data.tags["hpstudy.seed"] for t in confirm} == {"1", "2", "3"}
    means = {}
    for t in search:
        if t.data.tags["hpstudy.status"] == "completed":
            means.setdefault(t.data.tags["hpstudy.config_name"], []).append(t.data.metrics["val/acc"])
    ranked = sorted(means, key=lambda c: -statistics.fmean(means[c]))
    names = {t.data.tags["hpstudy.config_name"] for t in confirm}
    assert names == {"baseline", f"#1 {ranked[0]}", f"#2 {ranked[1]}"}
    by_name = {t.data.tags["hpstudy.config_name"]: t for t in confirm}
    best = next(t for t in search if t.data.tags["hpstudy.config_name"] == ranked[0])
    for key in ("optim.lr", "sched.warmup_epochs", "model.drop_rate"):  # the sampled values, exactly
        assert by_name[f"#1 {ranked[0]}"].data.params[key] == best.data.params[key]
    assert parents[0].data.tags["hpstudy.status"] == "completed"


@pytest.mark.slow  # a real study end to end (~13-19 s): the default suite stays under 5 min
def test_the_closing_report_leads_with_the_confirmation_and_its_gap(confirmed):
    result, _, _ = confirmed
    out = result.stdout
    assert "confirmation on fresh seeds" in out, out[-4000:]
    lead = out.index("confirmation on fresh seeds")
    assert lead < out.index("the search's own table")
    assert "| baseline | 3 |" in out[lead:out.index("the search's own table")]
    assert "the search's best, " in out and "gap " in out


@pytest.mark.slow  # ~1 min: a search Ctrl-C'd in its confirmation, then resumed
def test_a_study_interrupted_in_its_confirmation_resumes_it(run_study, tmp_path):
    from tests.studies.closed_form import baseline_at

    trial = ClosedForm(noise=0.005, interrupts=baseline_at(2), interrupt_epoch=2, marker=str(tmp_path / "ctrl-c"),
                       epoch_s=0.1)
    args = [a if a != "epochs=2" else "epochs=3" for a in ARGS]
    first = run_study(args, tmp_path, trial)
    assert first.returncode == 130, first.stderr[-3000:]
    again = run_study(["lr_warmup_dropout", "--resume"], tmp_path, trial)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    _, trials = study_runs(store(tmp_path), "lr_warmup_dropout")
    points = [(t.data.tags["hpstudy.config_name"], t.data.tags["hpstudy.seed"]) for t in trials]
    assert len(points) == len(set(points)) == 4 + 9, "no configuration trained twice on one seed"
    assert {t.data.tags["hpstudy.status"] for t in trials} <= {"completed", "early_stopped"}
    assert "confirmation on fresh seeds" in again.stdout
