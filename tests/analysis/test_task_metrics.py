"""Two studies whose tasks give one metric name opposite directions and different units, reported in one process:
each report, and the paper over both, reads the metric with its own study's table (analysis.load.metric_table_of)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from mlflow.entities import Param
from mlflow.tracking import MlflowClient

from analysis.paper import make_paper
from analysis.report import make_report
from tests.analysis.conftest import T0, _trial, ses_tags

# the study -> (its task's `score`: [name, direction, unit, meaning], its line in seed 001)
TASKS = {"score_up": ('[["score", "max", "fraction", "higher is better"]]', "Exp 2"),
         "score_down": ('[["score", "min", "nats", "lower is better"]]', "Exp 12")}
VAL = {"hi": 0.80, "lo": 0.60}  # final val/score of seed 0; each seed adds 0.01
TEST = {"hi": 0.70, "lo": 0.50}  # test/score of seed 0, on the weights of epoch 2; each seed adds 0.01
TRAIN = 0.90  # train/score of every epoch
EPOCH_S = {"hi": 2.0, "lo": 1.0}  # "hi" costs twice as much: on the front only where a higher score is better
SEEDS = (0, 1, 2)


def _study(client, root, study: str) -> str:
    specs, experiment = TASKS[study]
    exp = client.create_experiment(study, artifact_location=(root / study).as_uri())
    tags = {"hpstudy.role": "study", "hpstudy.study": study, "hpstudy.profile": "local", "hpstudy.status": "completed",
            "hpstudy.metric_specs": specs, **ses_tags(experiment)}
    parent = client.create_run(exp, start_time=T0, tags=tags).info.run_id
    client.log_batch(parent, params=[Param("study.metric", "val/score")])
    t = T0 + 1
    for config in VAL:
        for seed in SEEDS:
            epoch = {"train/score": TRAIN, "sys/epoch_s": EPOCH_S[config]}
            extra = [{**epoch, "val/score": VAL[config] + 0.01 * seed - 0.1},
                     {**epoch, "val/score": VAL[config] + 0.01 * seed, "test/score": TEST[config] + 0.01 * seed,
                      "test/epoch": 2}]
            _trial(client, exp, parent, t, params={"seed": seed, "variant": config, "epochs": 2}, accs=[0.5, 0.6],
                   extra=extra, tags={"hpstudy.trial_id": f"{config}_{seed}", "hpstudy.seed": str(seed),
                                      "hpstudy.config_name": config, "hpstudy.status": "completed"})
            t += 1
    client.set_terminated(parent, "FINISHED")
    return parent


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """Both studies' reports and the paper over both, in this one process."""
    root = tmp_path_factory.mktemp("tasks")
    uri = f"sqlite:///{root}/mlflow.db"
    client = MlflowClient(tracking_uri=uri)
    for study in TASKS:
        _study(client, root, study)
    reports = {s: make_report(s, tracking_uri=uri, metrics=["val/score"], out=root / s, log=False).report
               for s in TASKS}  # as `python -m analysis.report STUDY --metrics val/score` does
    out, sections, runs, _ = make_paper(uri, root / "paper")
    return SimpleNamespace(reports=reports, md=(out / "paper.md").read_text(),
                           sections={s.run.entry.name: s for s in sections})


def test_each_study_ranks_its_configs_by_its_own_direction(both):
    up, down = both.reports["score_up"], both.reports["score_down"]
    assert up.configs == ["hi", "lo"] and down.configs == ["lo", "hi"]  # best first
    assert "**81.00 ± 1.00**" in up.markdown() and "**0.610 ± 0.010**" in down.markdown()  # the best mean bold


def test_each_study_shows_the_metric_in_its_own_unit(both):
    up, down = both.reports["score_up"].main_table(), both.reports["score_down"].main_table()
    assert "val/score (%)" in up and "| 81.00 ± 1.00 |" in up  # a fraction, in %
    assert "val/score (%)" not in down and "| 0.810 ± 0.010 |" in down  # nats, as logged


def test_each_pareto_front_follows_its_own_direction(both):
    up, down = both.reports["score_up"].pareto_markdown(), both.reports["score_down"].pareto_markdown()
    assert up.splitlines()[0] == "Pareto front over mean per config (val/score ↑, sys/epoch_s/mean ↓): hi, lo"
    assert down.splitlines()[0] == "Pareto front over mean per config (val/score ↓, sys/epoch_s/mean ↓): lo"


def test_the_paper_reads_each_study_with_its_own_table(both):
    up, down = both.sections["score_up"], both.sections["score_down"]
    assert up.table.metric_table.direction("val/score") == "max"
    assert down.table.metric_table.direction("val/score") == "min"
    assert "| configuration | n | score (%) | Gap (pp) |" in both.md
    assert "| configuration | n | score | Gap |" in both.md
    # the train - test gap, sign-flipped where lower is better, so that a positive gap is overfitting in both
    gap = [TRAIN - TEST["hi"] - 0.01 * s for s in SEEDS]
    assert np.isclose(up.table.rows.loc["hi", "gap"], np.mean(gap))
    assert np.isclose(down.table.rows.loc["hi", "gap"], -np.mean(gap))
