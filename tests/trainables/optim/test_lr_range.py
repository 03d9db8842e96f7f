"""LR range test: the suggestion rule on synthetic curves, a real sweep that explodes, and the CLI."""

import csv
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from trainables import loop
from trainables.config import TrainConfig
from trainables.config.overrides import apply_overrides
from trainables.optim.lr_range import main, min_loss_over_10, run_range_test, suggest_lr, sweep_lr

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.usefixtures("cli")  # the subprocess runs while the in-process tests do
LRS = [float(v) for v in np.logspace(-5, 1, 121)]  # 20 points per decade


def _drop(center: float, width: float = 0.4) -> list[float]:
    """A loss falling from 2.5 to 0.5 around `center`, as a logistic in log10(LR)."""
    return [0.5 + 2.0 / (1 + math.exp((math.log10(lr) - math.log10(center)) / width)) for lr in LRS]


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    """Started first: most of its time is importing torch and timm, which overlaps the other tests."""
    out = tmp_path_factory.mktemp("lr_range")
    args = ["--set", "data.name=digits", "--set", "num_threads=1", "--steps", "30", "--out", str(out)]
    proc = subprocess.Popen([sys.executable, "-m", "trainables.optim.lr_range", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    yield out, proc
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_sweep_is_exponential_from_start_to_end():
    lrs = [sweep_lr(i, 5, 1e-4, 1.0) for i in range(5)]
    assert lrs[0] == 1e-4 and lrs[-1] == pytest.approx(1.0)
    assert np.allclose(np.diff(np.log10(lrs)), 1.0)


def test_suggestion_is_the_steepest_descent():
    assert suggest_lr(LRS, _drop(1e-2)) == pytest.approx(1e-2, rel=0.13)  # within a grid point
    assert suggest_lr(LRS, _drop(3e-4)) == pytest.approx(3e-4, rel=0.13)


def test_the_curve_after_an_explosion_is_ignored():
    loss = _drop(1e-3, width=0.8)  # a gentle descent ...
    blow_up = LRS.index(next(lr for lr in LRS if lr >= 1e-1))
    loss[blow_up:] = [10.0, float("inf"), float("nan")] + [0.5 - 0.1 * i for i in range(len(LRS) - blow_up - 3)]
    got = suggest_lr(LRS, loss)  # ... not the steep fall back from the spike, nor anything non-finite
    assert got == pytest.approx(1e-3, rel=0.13)
    assert min_loss_over_10(LRS, loss) == pytest.approx(LRS[blow_up - 1] / 10)


def test_a_curve_that_never_falls_suggests_the_smallest_lr():
    assert suggest_lr(LRS, [1.0 + lr for lr in LRS]) == LRS[0]
    assert suggest_lr(LRS[:2], [2.0, 1.0]) == LRS[0]


def test_sweep_on_digits_stops_at_the_explosion_and_suggests_below_it():
    cfg = apply_overrides(TrainConfig(), {"data.name": "digits", "num_threads": 1})
    result = run_range_test(cfg, steps=60, start_lr=1e-4, end_lr=1e3)  # SGD explodes well before 1e3
    assert result.stopped_early and len(result.lrs) < 60
    assert len(result.lrs) == len(result.losses) == len(result.smoothed)
    assert result.smoothed[-1] > 4 * min(result.smoothed)
    assert 1e-4 < result.suggestion < result.lrs[-1] / 10  # well below where the loss exploded
    assert 1e-4 < result.min_loss_over_10 < result.lrs[-1]


@pytest.mark.parametrize("mixing", [{"recipe.mixup_alpha": 0.2}, {"recipe.cutmix_alpha": 1.0},
                                    {"recipe.mixup_alpha": 0.2, "recipe.mix_target": "hard"}])
def test_a_config_that_mixes_is_swept_on_its_unmixed_loss(mixing):
    """It crashed before: the criterion built for mixing takes soft targets, the sweep feeds class labels."""
    cfg = apply_overrides(TrainConfig(), {"data.name": "digits", "num_threads": 1, **mixing})
    plain = apply_overrides(TrainConfig(), {"data.name": "digits", "num_threads": 1})
    mixed, unmixed = run_range_test(cfg, steps=12), run_range_test(plain, steps=12)
    assert len(mixed.losses) == 12 and mixed.losses == pytest.approx(unmixed.losses)  # the same sweep, unmixed


def test_sweep_starts_from_the_init_checkpoint(tmp_path):
    cfg = apply_overrides(TrainConfig(), {"data.name": "digits", "num_threads": 1})
    model = loop.build_parts(cfg).model
    with torch.no_grad():
        model.fc.bias[0] = 100.0  # every image predicted as class 0 with certainty: a loss far above log(10)
    torch.save(model.state_dict(), tmp_path / "weights.pt")
    cfg = apply_overrides(cfg, {"init.checkpoint": str(tmp_path / "weights.pt"), "init.mode": "warm"})
    result = run_range_test(cfg, steps=3, start_lr=1e-6, end_lr=1e-5)
    assert result.losses[0] > 20


@pytest.mark.slow  # ~7-14 s: the default suite stays under 5 min on 2 cores
def test_cli_writes_csv_and_plot_and_prints_the_suggestion(cli):
    out, proc = cli
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    assert "suggested lr:" in stdout
    with (out / "lr_range.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert 3 <= len(rows) <= 30 and set(rows[0]) == {"lr", "loss", "smoothed"}
    assert (out / "lr_range.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("args, named", [
    (["--set", "optim.lrr=1"], "optim.lrr"),
    (["--set", "data.name=digits", "--start-lr", "1", "--end-lr", "0.1"], "start_lr"),
])
def test_bad_arguments_exit_2_with_one_line_error(tmp_path, capsys, args, named):
    assert main([*args, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and named in err[0]
    assert not (tmp_path / "out").exists()
