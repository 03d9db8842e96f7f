"""Fractional `gpus_per_trial` packs trials on a GPU: the arithmetic (studies.packing) counted as Ray counts, the
Tune adapter's concurrency limit, Study's refusal of what Ray refuses, and, on a Ray with one fake GPU and 4 CPUs,
the trials that run at once, each seeing the one GPU and holding its share (tests/studies/packing_probe.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from studies import registry
from studies.packing import RESOURCE_UNIT, concurrency, trials_per_gpu
from studies.study import StudyError

REPO = Path(__file__).resolve().parents[2]


def _study(**fields):
    return replace(registry.load("ses_beta_sweep").get_study("local"), name="ses_beta_sweep", **fields)


def test_the_unit_is_rays():
    import ray._raylet

    assert RESOURCE_UNIT == ray._raylet.RESOURCE_UNIT_SCALING


@pytest.mark.parametrize("gpus, per_gpu", [(1.0, 1), (0.5, 2), (0.25, 4), (0.3, 3), (0.4, 2), (0.2, 5), (0.1, 10),
                                           (1 / 3, 3), (0.33336, 3), (0.0001, 10_000)])
def test_trials_per_gpu_is_floor_of_one_over_the_share_in_rays_units(gpus, per_gpu):
    assert trials_per_gpu(gpus) == per_gpu  # 0.33336 holds 0.3333 (truncated), so 3 fit, as Ray packs them


@pytest.mark.parametrize("gpus", [0.0, 1.5, -0.5])
def test_trials_per_gpu_needs_a_share_of_one_gpu(gpus):
    with pytest.raises(ValueError, match="0 < gpus_per_trial <= 1"):
        trials_per_gpu(gpus)


@pytest.mark.parametrize("cpus, gpus, cpw, gpw, workers, expected", [
    (4, 1, 1, 0.25, 1, 4), (4, 1, 1, 0.5, 1, 2),
    (4, 1, 2, 0.25, 1, 2),  # the CPU budget binds first
    (4, 1, 1, 0.3, 1, 3), (4, 1, 1, 0.4, 1, 2),  # shares that do not divide one GPU leave its remainder idle
    (16, 1, 1, 0.1, 1, 10), (16, 1, 1, 0.2, 1, 5),  # float floor division: 1 // 0.1 == 9.0, 1 // 0.2 == 4.0
    (16, 2, 1, 0.4, 1, 4), (16, 3, 1, 0.4, 1, 6),  # a share fits in one GPU: 3 GPUs hold 6, not 3 // 0.4 == 7.0
    (16, 4, 1, 2, 1, 2), (16, 4, 1, 1, 2, 2), (16, 2, 1, 0.5, 2, 2),  # whole GPUs; worker groups
    (16, 0, 1, 0, 1, 16), (3, 0, 0.5, 0, 1, 6), (16, 0, 0.3, 0, 1, 53),  # CPUs only; fractional CPUs
    (2, 0, 4, 0, 1, 1), (2, 1, 1, 2, 1, 1),  # fits nowhere: one trial queues, and Ray names what it lacks
])
def test_concurrency_is_what_the_cluster_holds_at_once(cpus, gpus, cpw, gpw, workers, expected):
    assert concurrency(cpus=cpus, gpus=gpus, cpus_per_worker=cpw, gpus_per_worker=gpw, workers=workers) == expected


@pytest.mark.parametrize("gpus, expected", [(0.25, 4), (0.1, 10), (0.2, 5)])
def test_the_tune_adapter_limits_trials_to_what_fits(gpus, expected):
    from studies.tune.cluster import Cluster
    from studies.tune.tuner import max_concurrent

    study = _study(gpus_per_trial=gpus, cpus_per_trial=1.0)
    assert max_concurrent(study, Cluster(cpus=16, gpus=1, has_driver_resource=True)) == expected


@pytest.mark.parametrize("gpus, words", [(1.5, "neither a share of one GPU (<= 1) nor whole GPUs"),
                                         (0.00001, "below Ray's precision of 0.0001 GPU")])
def test_a_study_asking_what_ray_refuses_fails_when_built_in_one_line(gpus, words):
    with pytest.raises(StudyError) as err:
        _study(gpus_per_trial=gpus)
    assert str(err.value).startswith(f"study ses_beta_sweep: gpus_per_trial={gpus:g} ")
    assert words in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("gpus", [0.0, 0.25, 1.0, 2.0, 4])
def test_shares_of_one_gpu_and_whole_gpus_are_taken(gpus):
    assert _study(gpus_per_trial=gpus).gpus_per_trial == gpus


CASES = [(1, 0.25, 4), (1, 0.5, 2), (2, 0.25, 2), (1, 0.3, 3), (1, 0.4, 2)]  # (cpus, gpus per trial, at once)


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    """Its own Ray (one fake GPU), in a child process: the session's shared Ray has none. ~30 s on 2 cores."""
    out = tmp_path_factory.mktemp("packing")
    cmd = [sys.executable, "-m", "tests.studies.packing_probe", str(out), json.dumps(CASES)]
    with subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          start_new_session=True) as proc:
        try:
            _, err = proc.communicate(timeout=240)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # its Ray too, so a stuck probe cannot slow the tests after it
            raise
    assert proc.returncode == 0, err[-3000:]
    return json.loads((out / "report.json").read_text())


def _most_at_once(trials) -> int:
    # (time, +1 start | -1 end): at one instant an end sorts first, so back-to-back trials do not overlap
    events = sorted([(t["start"], 1) for t in trials] + [(t["end"], -1) for t in trials])
    running = most = 0
    for _, step in events:
        running += step
        most = max(most, running)
    return most


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(CASES)))
def test_on_one_fake_gpu_as_many_trials_run_at_once_as_fit_each_holding_its_share(probe, index):
    cpus, gpus, expected = CASES[index]
    case = probe["cases"][index]
    assert len(case["trials"]) == expected + 1
    assert _most_at_once(case["trials"]) == expected
    for trial in case["trials"]:
        assert trial["gpu_ids"] == ["0"] and trial["cuda_visible_devices"] == "0"
        assert trial["assigned"] == {"CPU": cpus, "GPU": gpus}


@pytest.mark.slow
def test_ray_refuses_a_fractional_gpu_count_above_one_as_study_says(probe):
    assert "GPU resource quantities >1 must" in probe["refusal_1.5"]
    assert "whole numbers. The specified quantity 1.5 is invalid" in probe["refusal_1.5"]
