"""The shared contract: every key the trainer reports has a row in the metric table, directions say which way is
better, a task's own metrics expand on every split, statuses map onto MLflow's, and the package needs nothing but
the standard library."""

from __future__ import annotations

import copy
import subprocess
import sys

import pytest

from hpstudy.schema import metrics, params, statuses, tags
from hpstudy.schema.metrics import METRICS, MetricSpec, direction, on_split, split_metrics, split_of
from trainables import loop
from trainables.config import TrainConfig
from trainables.config.overrides import apply_overrides
from trainables.watch.stops import REASONS

TINY = {"data.name": "digits", "data.limit_train": 128, "data.batch_size": 64, "num_threads": 1}
# Every optional feature that reports metrics of its own: SES, EMA, robustness, learned loss weights, the final
# test on best and last weights. Without a validation split: the test split every epoch, and its gap.
FEATURES = {"epochs": 2, "ses.enabled": True, "ema.enabled": True, "rob.enabled": True, "rob.max_images": 16,
            "rob.severities": "1", "rob.corruptions": "gaussian_noise,fog", "checkpoint.keep": "both",
            "loss_weighting": "uncertainty", "eval.test": "end"}
NO_VAL = {"epochs": 1, "data.val_fraction": 0.0}


class _Sink:
    def __init__(self):
        self.reports = []

    def restore(self):
        return None

    def report(self, report, state):
        self.reports.append(dict(report))


def _reported_metrics(overrides: dict) -> set[str]:
    """The numeric keys a short real run reports, less the axes (MLflow's step): what lands in MLflow."""
    sink = _Sink()
    loop.run(apply_overrides(TrainConfig(), {**TINY, **overrides}), sink)
    return {k for r in sink.reports for k, v in r.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and k not in ("epoch", "step")}


@pytest.mark.parametrize("overrides", [FEATURES, NO_VAL], ids=["every-feature", "no-validation-split"])
def test_every_key_the_trainer_reports_is_in_the_table(overrides):
    reported = _reported_metrics(overrides)
    assert {"train/loss", "sys/epoch_s"} <= reported
    missing = sorted(k for k in reported if k not in METRICS)
    assert not missing, f"reported but not in hpstudy.schema.metrics: {missing}"
    assert all(not METRICS[k].derived for k in reported), "a logged key must not read as one the analysis derives"


def test_directions_say_which_way_is_better():
    assert [direction(k) for k in ("val/acc", "test/acc_ema", "val/acc_best", "rob/acc/fog")] == ["max"] * 4
    assert {direction(k) for k in ("val/loss", "sys/epoch_s", "sys/epoch_s/mean", "sys/peak_mem_mb/max")} == {"min"}
    assert direction("sys/samples_per_s") == "max" and direction("best/val/acc") == "max"
    # a smaller train-val gap is less overfitting, or underfitting: no side is better on its own
    assert direction("gap/train_val_acc") is None and direction("gap") is None
    assert direction("lr") is None and direction("ses/entropy/blocks.3") is None and direction("trials/failed") is None


def test_an_unknown_key_is_an_error_that_lists_the_known_ones():
    with pytest.raises(KeyError, match="unknown metric 'val/nope'") as err:
        direction("val/nope")
    assert all(k in str(err.value) for k in ("val/acc", "sys/epoch_s/mean", "rob/acc/<corruption>"))
    assert METRICS.find("val/nope") is None and "val/nope" not in METRICS


def test_a_task_contributes_its_metrics_on_every_split():
    fscore = MetricSpec(name="fscore", direction="max", unit="fraction")
    keys = {m.key for m in split_metrics([fscore])}
    assert {"train/fscore", "val/fscore", "test/fscore", "gap/train_val_fscore", "val/fscore_best"} <= keys
    assert direction("val/fscore", [fscore]) == "max" and direction("gap/train_val_fscore", [fscore]) is None
    assert METRICS.with_specs([fscore])["test/fscore_ema"].unit == "fraction"
    with pytest.raises(KeyError):
        direction("val/fscore")  # the default table knows only the platform's and classification's


def test_a_metric_without_direction_has_no_best_or_gap():
    keys = {m.key for m in split_metrics([MetricSpec("calibration_bins", None, "1")])}
    assert "val/calibration_bins" in keys and not any("best" in k or k.startswith("gap/") for k in keys)


def test_derived_names_never_shadow_a_logged_one():
    """A per-trial reduction is <key>/<reduction>: no row the trainer logs matches it (val/acc_best is the
    trainer's, and the one name for the best val/acc)."""
    logged = metrics.MetricTable(r for r in METRICS.rows if not r.derived)
    assert all(logged.find(r.key) is None for r in metrics.DERIVED)
    assert "val/acc/best" not in METRICS and "time/epoch_s" not in METRICS
    assert METRICS["sys/epoch_s/mean"].derived and not METRICS["val/acc_best"].derived


def test_splits():
    assert split_of("val/acc") == "val" and split_of("sys/epoch_s") is None and split_of("lr") is None
    assert on_split("val/acc_best", "test") == "test/acc_best"
    with pytest.raises(ValueError, match="'lr'"):
        on_split("lr", "test")


def test_statuses_map_onto_mlflow_run_statuses():
    assert {statuses.mlflow_status(s) for s in statuses.RESULTS} == {"FINISHED"}
    assert statuses.mlflow_status("failed") == "FAILED" and statuses.mlflow_status("interrupted") == "KILLED"
    assert set(REASONS) <= statuses.RESULTS, "every labelled stop of the trainer is a status"
    assert statuses.from_mlflow("KILLED") == "interrupted" and statuses.from_mlflow("SCHEDULED") is None
    with pytest.raises(KeyError, match="'done'.*completed"):
        statuses.mlflow_status("done")


def test_tag_keys_are_namespaced_and_distinct():
    keys = [v for k, v in vars(tags).items() if k.isupper() and str(v).startswith(("hpstudy.", "mlflow."))]
    assert len(keys) == len(set(keys)) and len(keys) >= 20
    assert {"hpstudy.stop_reason", "hpstudy.failed_trials", "hpstudy.best"} <= set(keys)
    assert params.RUN_SPECIFIC == {"seed", "device", "num_threads"}


def test_the_package_imports_only_the_standard_library():
    code = ("import sys; before = set(sys.modules); import hpstudy.schema.tags, hpstudy.schema.statuses, "
            "hpstudy.schema.metrics, hpstudy.schema.params, hpstudy.schema.errors, hpstudy.schema.locations; "
            "print(sorted({m.split('.')[0] for m in set(sys.modules) - before} - set(sys.stdlib_module_names)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60).stdout
    assert out.strip() == "['hpstudy']"  # hpstudy's own __init__ loads its API lazily: nothing of it here


def test_each_tasks_table_is_its_own_and_the_built_in_one_never_changes():
    """Two tasks that give one metric name opposite directions and units each get a table of their own; nothing
    writes into METRICS (the analysis hands a study's table along with its trials)."""
    rows = METRICS.rows
    up = METRICS.with_specs([MetricSpec("p_true", "max", "fraction")])
    down = METRICS.with_specs([MetricSpec("p_true", "min", "nats")])
    assert (up.direction("val/p_true"), up["test/p_true"].unit) == ("max", "fraction")
    assert (down.direction("val/p_true"), down["test/p_true"].unit) == ("min", "nats")
    assert "val/p_true" not in METRICS and METRICS.rows is rows
    assert copy.deepcopy(up) is up  # pandas deep-copies a frame's attrs on every operation; the table never changes
