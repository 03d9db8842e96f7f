"""The search-efficiency benchmark: its figures on hand-made logs and fronts whose hypervolume is known, the
closed-form problem's front, and one tiny replay through Ray (`--quick`, recorded curves given). The full run
takes minutes (`python -m benchmarks.search_efficiency`)."""

import json
import math

import numpy as np
import pytest

from benchmarks import search_efficiency as se
from benchmarks import search_figures as F
from benchmarks.search_replay import ZDT1_FRONT_HV, curve_key, zdt1, zdt1_at


def test_hypervolume_of_two_points_is_their_boxes_union():
    # (0.25, 0.5) and (0.5, 0.25) below (1, 1): 0.75 x 0.5 twice, less their 0.5 x 0.5 overlap
    assert math.isclose(F.hypervolume([(0.25, 0.5), (0.5, 0.25)], (1, 1)), 0.5)
    assert math.isclose(F.hypervolume([(0.5, 0.5), (0.6, 0.6)], (1, 1)), 0.25)  # a dominated point adds nothing


def test_points_outside_the_reference_box_add_nothing():
    assert F.hypervolume([(0.0, 1.0), (1.0, 0.0), (2.0, 0.1), (math.nan, 0.1)], (1, 1)) == 0.0
    assert F.hypervolume([], (1, 1)) == 0.0


def test_a_dense_sample_of_the_zdt1_front_has_the_fronts_hypervolume():
    f1 = np.linspace(0, 1, 4001)[1:-1]
    front = [zdt1(x, 0.0) for x in f1]
    assert all(math.isclose(f2, 1 - math.sqrt(x)) for (x, f2), x in zip(front, f1))
    assert ZDT1_FRONT_HV - 1e-3 < F.hypervolume(front, (1, 1)) < ZDT1_FRONT_HV


def test_the_closed_form_reaches_zdt1_at_its_last_epoch_and_is_worse_before():
    assert zdt1_at(0.3, 0.2, 9, 9) == zdt1(0.3, 0.2)
    for epoch in (1, 3, 8):
        assert all(a > b for a, b in zip(zdt1_at(0.3, 0.2, epoch, 9), zdt1(0.3, 0.2)))


def test_epochs_to_target_counts_every_report_up_to_the_first_hit():
    log = [{"trial": 0, "epoch": 1, "val/acc": 0.5}, {"trial": 1, "epoch": 1, "val/acc": 0.6},
           {"trial": 0, "epoch": 2, "val/acc": 0.7}, {"trial": 1, "epoch": 2, "val/acc": 0.81}]
    assert F.epochs_to_target(log, "val/acc", 0.7) == 3
    assert F.epochs_to_target(log, "val/acc", 0.805) == 4
    assert F.epochs_to_target(log, "val/acc", 0.9) is None
    assert F.best(log, "val/acc") == 0.81


def test_hypervolume_at_budgets_reads_the_first_epochs_and_negates_a_maximized_objective():
    log = [{"epoch": 1, "a": 0.5, "b": -0.5}, {"epoch": 1}, {"epoch": 2, "a": 0.25, "b": -0.25}]
    # b maximized with reference -1: the points are (0.5, 0.5) and (0.25, 0.25) below (1, 1)
    assert F.hypervolume_at(log, (("a", "min"), ("b", "max")), (1, -1), (1, 2, 3, 10)) == [0.25, 0.25, 0.5625,
                                                                                            0.5625]


def test_spread_shows_an_unreached_target_as_a_dash():
    assert F.spread([3, None, 5]) == "5 [3–—]"
    assert F.spread([0.5, 0.61, 0.6], 2) == "0.60 [0.50–0.61]"


def test_the_table_keys_a_configuration_alike_from_numpy_and_python_values():
    keys = ["optim.lr", "sched.warmup_epochs"]
    assert curve_key({"optim.lr": np.float64(0.1), "sched.warmup_epochs": np.int64(1)}, keys) == \
        curve_key({"optim.lr": 0.1, "sched.warmup_epochs": 1}, keys)
    points = se.configurations(se.FULL.space)
    assert len(points) == 6 * 4 * 2 and points[0] == {"optim.lr": 0.001, "model.drop_rate": 0.0,
                                                      "sched.warmup_epochs": 0}


def test_bad_arguments_exit_2(capsys):
    assert se.main(["--seeds", "0"]) == 2
    assert capsys.readouterr().err.startswith("error: --seeds")


@pytest.mark.slow  # 40 s: seven searches through Ray
def test_a_quick_replay_through_ray_prints_both_tables(tmp_path, capsys):
    """Made-up curves for the quick space (the best: lr 0.1 without dropout, 0.9 at epoch 2), replayed by the
    real Tune adapter, searchers, ASHA and MO-ASHA; one search seed."""
    space = se.QUICK.space
    curves = {curve_key(p, list(space)): [0.5, 0.9 if p == {"optim.lr": 0.1, "model.drop_rate": 0.0,
                                                           "sched.warmup_epochs": 0} else 0.8]
              for p in se.configurations(space)}
    cache = tmp_path / "curves.json"
    cache.write_text(json.dumps({"study": se.STUDY, "profile": "local", "epochs": 2, "train_seed": 0,
                                 "space": {k: list(v) for k, v in space.items()}, "curves": curves,
                                 "recorded": "test"}))
    assert se.main(["--quick", "--seeds", "1", "--cache", str(cache)]) == 0
    out = capsys.readouterr().out
    assert "grid's best val/acc 0.9000, target >= 0.8950" in out
    grid = next(line for line in out.splitlines() if line.startswith("| grid |"))
    assert grid.endswith("| 8 [8–8] |")  # 4 configurations x 2 epochs, all spent
    for method in ("random", "TPE", "TPE+ASHA", "MO-TPE", "MO-TPE+MO-ASHA", "TPE+ASHA on (f1+f2)/2"):
        assert f"| {method} |" in out
