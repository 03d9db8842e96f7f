"""Loading a study from MLflow: which parent run, which trials, final vs best metrics, typed params, errors."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import AnalysisError, find_study_run, load_history, load_trials


def test_find_study_run_picks_the_most_recent_parent(store):
    assert find_study_run("ses_beta_sweep", tracking_uri=store.uri).info.run_id == store.parent
    assert find_study_run(parent_run_id=store.old_parent, tracking_uri=store.uri).info.run_id == store.old_parent


def test_unknown_study_lists_the_studies_on_one_line(store):
    with pytest.raises(AnalysisError) as err:
        find_study_run("nope", tracking_uri=store.uri)
    msg = str(err.value)
    assert "\n" not in msg and "'nope'" in msg
    assert "lr_search" in msg and "ses_beta_sweep" in msg and "Default" not in msg


def test_unknown_or_non_study_run_id_is_one_line(store):
    with pytest.raises(AnalysisError, match="no run 'deadbeef'") as err:
        find_study_run(parent_run_id="deadbeef", tracking_uri=store.uri)
    assert "\n" not in str(err.value)
    with pytest.raises(AnalysisError, match="not a study run"):
        find_study_run(parent_run_id=store.trials["baseline_0"], tracking_uri=store.uri)


def test_every_trial_of_the_invocation_is_kept_and_marked(trials, store):
    assert len(trials) == 14  # 4 configs, 12 completed + early-stopped + failed; not the older invocation's trial
    assert set(trials["run_id"]) == set(store.trials.values())
    assert trials["status"].value_counts().to_dict() == {"completed": 12, "early_stopped": 1, "failed": 1}
    failed = trials.set_index("trial_id").loc["beta=0.3_3"]
    assert failed["stop_reason"] == "RuntimeError: CUDA out of memory" and failed["stop_epoch"] == 1
    assert trials.attrs["baseline"] == "baseline" and trials.attrs["parent_run_id"] == store.parent


def test_columns_and_types(trials):
    assert list(trials.columns[:7]) == ["run_id", "trial_id", "config", "seed", "status", "stop_reason", "stop_epoch"]
    assert pd.api.types.is_integer_dtype(trials["seed"]) and set(trials["seed"]) == {0, 1, 2, 3, 4}
    assert pd.api.types.is_bool_dtype(trials["param.ses.enabled"])
    assert pd.api.types.is_float_dtype(trials["param.ses.beta"])
    assert pd.api.types.is_integer_dtype(trials["param.epochs"])
    assert set(trials["param.model.name"]) == {"small_cnn"}
    assert set(trials["param.sched.milestones"]) == {"(20, 35, 45)"}  # not numeric: stays the string MLflow kept
    derived = {"gap", "sys/epoch_s/mean", "sys/trial_s"}
    assert {"val/acc", "val/acc_best", "train/loss", "lr", *derived} <= set(trials.columns)
    assert "val/acc/best" not in trials.columns  # one name for the best val/acc: the trainer's


def test_final_is_the_last_step_and_best_the_max(trials, store):
    for _, row in trials.iterrows():
        accs = store.val_acc(row["config"], row["seed"])[: row["stop_epoch"]]
        assert row["val/acc"] == pytest.approx(accs[-1])
        assert row["val/acc_best"] == pytest.approx(max(accs))
        assert row["train/loss"] == pytest.approx(1.0 / row["stop_epoch"])


def test_derived_metrics(trials, store):
    """gap from the final epoch, cost metrics reduced over the epochs the trial ran, trial time from run info."""
    epoch_s = [1.1, 1.0, 0.9]
    for _, row in trials.iterrows():
        n, cost = row["stop_epoch"], store.cost(row["config"])
        assert row["gap"] == pytest.approx(store.gap(row["seed"]))
        assert row["sys/epoch_s/mean"] == pytest.approx(cost * sum(epoch_s[:n]) / n)
        assert row["sys/samples_per_s/mean"] == pytest.approx(sum(1000 / (cost * s) for s in epoch_s[:n]) / n)
        assert row["sys/peak_mem_mb/max"] == pytest.approx(500 * cost)
        assert row["sys/trial_s"] == pytest.approx(10.0 * n)
        assert row["sys/epochs"] == n  # the epochs it trained: what it cost a search


def test_config_label_falls_back_to_varying_params(store):
    search = load_trials("lr_search", tracking_uri=store.uri)
    # seed varies too but is never part of a config; epochs is constant
    assert list(search["config"]) == ["optim.lr=0.1", "optim.lr=0.01", "optim.lr=0.01"]
    # no status tag: MLflow's own run status stands in
    assert list(search["status"]) == ["completed", "completed", "failed"]
    assert search.attrs["baseline"] is None


def test_one_label_over_different_params_is_split_by_those_params(store):
    tpe = load_trials("tpe_search", tracking_uri=store.uri)
    # same tag, different optim.lr: not one config; the seed alone never splits one
    assert list(tpe["config"]) == ["lr=0.0123 [optim.lr=0.01234]", "lr=0.0123 [optim.lr=0.01226]",
                                   "lr=0.0123 [optim.lr=0.01234]"]


def test_history_is_long_and_sorted_by_step(trials, store):
    rid = store.trials["baseline_1"]
    hist = load_history([rid], ["val/acc", "lr"], tracking_uri=store.uri)
    assert list(hist.columns) == ["run_id", "key", "step", "value"]
    acc = hist[hist["key"] == "val/acc"]
    assert list(acc["step"]) == [1, 2, 3]
    assert list(acc["value"]) == pytest.approx(store.val_acc("baseline", 1))
    assert len(hist[hist["key"] == "lr"]) == 3
    assert load_history(rid, "val/acc", tracking_uri=store.uri).equals(acc.reset_index(drop=True))


def test_unknown_run_in_history_is_an_error(store):
    with pytest.raises(AnalysisError, match="no run 'nope'"):
        load_history(["nope"], "val/acc", tracking_uri=store.uri)


def test_trials_span_search_pages(store, monkeypatch):
    import analysis.load

    monkeypatch.setattr(analysis.load, "_PAGE", 5)  # 14 trials over 3 pages
    assert len(load_trials(parent_run_id=store.parent, tracking_uri=store.uri)) == 14


def test_a_tasks_own_metrics_get_their_unit_and_direction_from_the_parent_run(store):
    from analysis.formats import metric_direction, metric_unit
    from analysis.load import metric_table_of
    from analysis.report_content import build_report
    from hpstudy.schema.metrics import METRICS

    search = load_trials("lr_search", tracking_uri=store.uri)
    assert [s.name for s in search.attrs["metric_specs"]] == ["p_true"]
    own = metric_table_of(search)
    assert metric_unit("val/p_true", own)[1] == "%" and metric_direction("val/p_true", own) == "max"
    assert metric_direction("val/p_true_best", own) == "max" and metric_unit("test/p_true", own)[1] == "%"
    assert metric_table_of(search[search["status"] == "completed"]) is own, "the table travels with the trials"
    report = build_report(search, metrics=["val/p_true"])
    assert "val/p_true (%)" in report.main_table() and "41.00" in report.main_table()  # 0.4 + lr 0.01, in %
    assert "val/p_true" not in METRICS, "loading a study changes no process-wide table"
    tpe = load_trials("tpe_search", tracking_uri=store.uri)
    assert tpe.attrs["metric_specs"] == () and metric_table_of(tpe) is METRICS  # logged without the tag


def test_a_bad_metric_specs_tag_is_one_line(tmp_path):
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path}/m.db"
    client = MlflowClient(tracking_uri=uri)
    exp = client.create_experiment("bad")
    client.create_run(exp, tags={"hpstudy.role": "study", "hpstudy.study": "bad", "hpstudy.metric_specs": "{oops"})
    with pytest.raises(AnalysisError, match="hpstudy.metric_specs is not a JSON list"):
        load_trials("bad", tracking_uri=uri)
