"""The driver-scale benchmark: its per-hundred arithmetic and ratio from known timelines, the profile's areas, bad
arguments; and (slow) a small run of both sides, whose printed buckets add up to its totals."""

import json
import math
import subprocess
import sys

import pytest

from benchmarks import driver_scale as ds
from benchmarks import driver_scale_profile as prof
from benchmarks.driver_scale_trial import PEAK_LR, accuracy


def _side(start, ends, returned=None):
    return {"start": start, "ends": ends, "returned": returned or ends[-1] + 1.0}


def test_buckets_run_from_the_start_to_every_size_th_end_and_sum_to_the_total():
    ends = [12.0, 11.0, 15.0, 20.0, 26.0]  # unsorted: trials end out of order
    assert ds.per_bucket(10.0, ends, 2) == [2.0, 8.0, 6.0]  # to the 2nd end (12), the 4th (20), the last (26)
    assert ds.per_bucket(10.0, ends[:4], 2) == [2.0, 8.0]  # no partial bucket when it divides
    assert math.isclose(sum(ds.per_bucket(10.0, ends, 3)), 26.0 - 10.0)


def test_the_ratio_is_of_the_same_runs_buckets_and_totals():
    sides = {"hpstudy": _side(0.0, [1.0, 4.0, 6.0, 12.0], returned=20.0), "tune": _side(100.0, [101, 102, 103, 104])}
    fig = ds.figures(sides, 2)
    assert fig["buckets"] == {"hpstudy": [4.0, 8.0], "tune": [2.0, 2.0]} and fig["ratios"] == [2.0, 4.0]
    assert fig["totals"] == {"hpstudy": 12.0, "tune": 4.0} and fig["ratio"] == 3.0
    assert fig["walls"] == {"hpstudy": 20.0, "tune": 5.0}
    lines = ds.table(fig)
    assert lines[2] == "| 1–2 | 4.0 | 2.0 | 2.0 |" and lines[3] == "| 3–4 | 8.0 | 2.0 | 4.0 |"
    assert lines[4].endswith("| 12.0 | 4.0 | 3.0 |") and lines[5].endswith("| 20.0 | 5.0 | 4.0 |")


def test_the_closed_form_peaks_at_its_lr_and_rises_with_epochs():
    assert accuracy(PEAK_LR, 0.0, 0, 2) > accuracy(PEAK_LR * 3, 0.0, 0, 2) > 0.1
    assert accuracy(0.01, 0.1, 1, 1) < accuracy(0.01, 0.1, 1, 10) < 0.95


def test_the_profile_counts_an_areas_nested_calls_once():
    key = ("/x/ray/tune/execution/experiment_state.py", 1, "sync_up_experiment_state")
    assert prof.area_of(key) == "Tune experiment-state snapshot"
    assert prof.area_of(("/x/site-packages/mlflow/tracking/client.py", 1, "log_batch")).startswith("MLflow")
    assert prof.area_of(("/x/site-packages/optuna/study/study.py", 1, "tell")) == "Optuna"
    assert prof.area_of(("/x/studies/cli/execute.py", 1, "run")) is None
    # a fake stats table: main -> snapshot (2 s) -> its inner call (1.5 s); main -> MLflow (1 s) -> json (0.4 s, of no
    # area: MLflow's); main's own 0.5 s is other's. The areas are exclusive and sum to the total own time.
    outer, snap, inner = ("/a/main.py", 1, "run"), key, ("/x/ray/tune/execution/experiment_state.py", 9, "save")
    mlflow, helper = ("/x/mlflow/store/sqlalchemy_store.py", 1, "log_batch"), ("/lib/encoder.py", 1, "encode")
    stats = type("S", (), {"stats": {
        outer: (1, 1, 0.5, 4.0, {}),
        snap: (1, 1, 0.5, 2.0, {outer: (1, 1, 0.5, 2.0)}),
        inner: (1, 1, 1.5, 1.5, {snap: (1, 1, 1.5, 1.5)}),
        mlflow: (1, 1, 0.6, 1.0, {outer: (1, 1, 0.6, 1.0)}),
        helper: (1, 1, 0.4, 0.4, {mlflow: (1, 1, 0.4, 0.4)}),
    }})()
    summary = prof.summarize(stats)
    assert summary["total_s"] == 3.5 and summary["areas"]["Tune experiment-state snapshot"] == 2.0
    assert math.isclose(summary["areas"]["MLflow (its SQLite store included)"], 1.0) and summary["other_s"] == 0.5
    assert any("experiment-state" in line for line in prof.lines(summary))


def test_bad_sizes_are_refused_with_their_values():
    result = subprocess.run([sys.executable, "-m", "benchmarks.driver_scale", "--trials", "0"],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "args.trials=0" in result.stderr
    assert ds.parse(["--large"]).trials == ds.LARGE and ds.parse(["--quick"]).trials == ds.QUICK
    assert ds.parse([]).trials == ds.TRIALS and ds.parse([]).epochs == ds.EPOCHS
    with pytest.raises(SystemExit):  # one side alone (a 10,000-trial run of hpstudy's): its timeline must go somewhere
        ds.parse(["--side", "hpstudy"])
    assert ds.parse(["--side", "tune", "--side-out", "t.json"]).side == "tune"


@pytest.mark.slow
def test_a_small_run_of_both_sides_adds_up(tmp_path):
    """~35 s on 2 cores: two Ray starts, an MLflow store's migrations and the study's closing report."""
    out = tmp_path / "fig.json"
    result = subprocess.run([sys.executable, "-m", "benchmarks.driver_scale", "--trials", "20", "--bucket", "10",
                             "--epochs", "3", "--json", str(out)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    fig = json.loads(out.read_text())["figures"]
    assert fig["trials"] == {"hpstudy": 20, "tune": 20}
    for side in ("hpstudy", "tune"):
        assert len(fig["buckets"][side]) == 2
        assert math.isclose(sum(fig["buckets"][side]), fig["totals"][side])
        assert fig["walls"][side] >= fig["totals"][side] > 0
    assert math.isclose(fig["ratio"], fig["totals"]["hpstudy"] / fig["totals"]["tune"])
    assert "| 1–10 |" in result.stdout and "| 11–20 |" in result.stdout


def test_plain_tunes_sampler_is_the_one_the_study_searches_with():
    # the same searcher on both sides: hpstudy's TPE (one density per parameter, constant liar, its start-up
    # trials under ASHA), not the sampler hpstudy used before its default changed
    from benchmarks.driver_scale_tune import hpstudy_sampler
    from studies.assembly.assemble import build_study
    from studies.catalog import lr_warmup_dropout
    from studies.tune.tuner import tpe_startup

    sampler = hpstudy_sampler(1000, 10)
    study = build_study(lr_warmup_dropout, "local", {"epochs": "10"}, 1000)
    assert (sampler._n_startup_trials, sampler._multivariate, sampler._constant_liar) == (tpe_startup(study), False,
                                                                                          True)
    assert tpe_startup(study) == 20  # 10 x ASHA's reduction factor 2
