"""The GPU-packing benchmark: each K's shares of the GPU and CPUs, its figures from known epochs, the table, the
no-GPU line, and (slow) the whole path on CPU under a fake Ray GPU. The GPU run: benchmarks/gpu_packing_device.sh."""

import math
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from benchmarks import gpu_packing as gp

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("k, cores, cpus, threads", [(1, 16, 16, 16), (2, 16, 8, 8), (4, 16, 4, 4), (3, 16, 5.3333, 5),
                                                      (4, 2, 0.5, 1), (3, 2, 0.6666, 1)])
def test_k_trials_split_one_gpu_and_the_cpus_evenly(k, cores, cpus, threads):
    b = gp.budget(k, cores)
    assert (b.k, b.gpus, b.cpus, b.threads) == (k, 1 / k, cpus, threads)
    assert b.cpus * k <= cores  # truncated to Ray's units: all K fit


@pytest.mark.parametrize("k, match", [(0, "k=0"), (3000, "do not fit"), (20_001, "below Ray's precision")])
def test_a_k_that_ray_cannot_pack_is_refused_by_name(k, match):
    # 1/3000 GPU is 3 units of Ray's 10_000, and 3333 of those fit in one GPU, not 3000
    with pytest.raises(ValueError, match=match):
        gp.budget(k, 20_002)


def _trial(rates, t0=0.0, epoch_s=1.0, peak=100.0):
    return {"epochs": [{"samples_per_s": r, "peak_mem_mb": peak + i, "end": t0 + epoch_s * (i + 1)}
                       for i, r in enumerate(rates)]}


def test_figures_drop_the_warm_up_epoch_and_sum_the_trials():
    # warm-up epochs of 1 samples/s are dropped; medians 10 and 30; the second trial starts half an epoch later
    fig = gp.summarize([_trial([1, 10, 12, 8]), _trial([1, 30, 30, 31], t0=0.5)])
    assert fig["per_trial"] == 20 and fig["aggregate"] == 40 and fig["epochs"] == 3
    assert fig["peak_mb"] == 103
    assert math.isclose(fig["overlap"], (4.0 - 1.5) / 3.0)  # measured: [1, 4] and [1.5, 4.5]


def test_ratios_are_to_k1_of_the_same_run():
    rows = [(gp.budget(1, 4), {"aggregate": 100.0}), (gp.budget(2, 4), {"aggregate": 150.0})]
    assert [fig["ratio"] for _, fig in gp.with_ratios(rows)] == [1.0, 1.5]
    assert math.isnan(gp.with_ratios(rows[1:])[0][1]["ratio"])


def test_the_table_has_a_row_per_k_with_its_budget():
    fig = {"aggregate": 3000.0, "per_trial": 750.0, "ratio": 2.5, "peak_mb": 41.0, "epochs": 9, "overlap": 0.97}
    lines = gp.table([(gp.budget(4, 16), fig)], "CUDA max allocated").splitlines()
    assert lines[0].startswith("| trials per GPU | GPU share | CPUs per trial (threads) | samples/s, all trials")
    assert "peak MB per trial (CUDA max allocated)" in lines[0] and lines[1].startswith("|---:|")
    assert lines[2] == "| 4 | 0.25 | 4 (4) | 3000 | 750 | 2.50 | 41 | 9 | 0.97 |"


def test_without_a_gpu_it_says_what_it_would_measure_and_exits_0(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert gp.main(["--trials-per-gpu", "1", "2"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("no GPU is available") and "K = 1, 2" in out[0]


def test_a_bad_k_is_one_line_and_exits_2(capsys):
    assert gp.main(["--trials-per-gpu", "1", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --trials-per-gpu")


@pytest.mark.slow
def test_on_cpu_under_a_fake_gpu_k_trials_run_at_once_and_print_their_table():
    t0 = time.monotonic()
    cmd = [sys.executable, "-m", "benchmarks.gpu_packing", "--cpu-fake", "--trials-per-gpu", "1", "2", "--seconds", "0"]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=400, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert gp.FAKE_LABEL in lines[0], lines[0]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in lines[3:]]
    assert [r[0] for r in rows] == ["1", "2"] and [r[1] for r in rows] == ["1", "0.5"]
    assert rows[0][5] == "1.00" and all(float(r[3]) > 0 for r in rows)
    assert float(rows[1][8]) > 0.3, "the two trials' measured epochs barely ran together"
    print(f"--cpu-fake, K=1,2: {time.monotonic() - t0:.0f} s")
