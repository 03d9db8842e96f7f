"""evaluate_robustness's accounting on a tiny model, and the per-trial evaluator that build_robustness returns."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from torch import nn

from trainables.config import DataConfig, RobustnessConfig
from trainables.data import build_data
from trainables.robustness import COLOR_ONLY, applicable, build_robustness, corrupt, evaluate_robustness
from trainables.robustness.evaluate import corruption_generator
from trainables.robustness.ops import to_uint8_grid

NAMES = ["gaussian_noise", "contrast", "fog"]


def _tiny_model(chans: int, classes: int) -> nn.Module:
    torch.manual_seed(0)
    pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
    return nn.Sequential(nn.Conv2d(chans, 4, 3), nn.ReLU(), pool, nn.Linear(4, classes))


def test_rob_acc_is_the_mean_of_per_corruption_means(photos):
    model = _tiny_model(3, 3).eval()
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    normalize = lambda x: (x - 0.5) / 0.25  # noqa: E731
    metrics = evaluate_robustness(model, [(photos, labels)], normalize, corruptions=NAMES, severities=[1, 3, 5],
                                  seed=4)
    assert set(metrics) == {"rob/acc"} | {f"rob/acc/{n}" for n in NAMES}
    assert metrics["rob/acc"] == pytest.approx(sum(metrics[f"rob/acc/{n}"] for n in NAMES) / len(NAMES))
    for name in NAMES:  # recomputed by hand: one generator per (corruption, severity), uint8-truncated images
        accs = []
        for s in (1, 3, 5):
            x = to_uint8_grid(corrupt(photos, name, s, corruption_generator(4, name, s)), rounding="floor")
            accs.append((model(normalize(x)).argmax(1) == labels).float().mean().item())
        assert metrics[f"rob/acc/{name}"] == pytest.approx(sum(accs) / 3)


def test_draws_of_a_corruption_do_not_depend_on_the_others(photos):
    model, labels = _tiny_model(3, 3).eval(), torch.tensor([0, 1, 2, 0, 1, 2])
    alone = evaluate_robustness(model, [(photos, labels)], lambda x: x, corruptions=["fog"], severities=[2])
    among = evaluate_robustness(model, [(photos, labels)], lambda x: x, corruptions=NAMES, severities=[2])
    assert alone["rob/acc/fog"] == among["rob/acc/fog"]


def test_empty_batches_and_bad_names_are_errors(photos):
    with pytest.raises(ValueError, match="no images"):
        evaluate_robustness(nn.Identity(), [], lambda x: x, corruptions=["fog"], severities=[1])
    with pytest.raises(KeyError, match="'frost'"):
        evaluate_robustness(nn.Identity(), [], lambda x: x, corruptions=["frost"], severities=[1])


@pytest.fixture(scope="module")
def digits():
    return build_data(DataConfig(name="digits", eval_batch_size=16), seed=0)


def test_build_robustness_off_validates_and_defaults(digits):
    assert build_robustness(RobustnessConfig(), digits) is None
    on = RobustnessConfig(enabled=True)
    assert build_robustness(on, digits).corruptions == applicable(1)  # digits are gray: saturate left out
    with pytest.raises(ValueError, match="'frost'.*valid names: gaussian_noise"):
        build_robustness(replace(on, corruptions=("fog", "frost")), digits)
    with pytest.raises(ValueError, match="'saturate' needs 3-channel"):
        build_robustness(replace(on, corruptions=tuple(COLOR_ONLY)), digits)
    with pytest.raises(ValueError, match="severities"):
        build_robustness(replace(on, severities=(0, 6)), digits)


@pytest.mark.parametrize(("every", "due"), [(0, [5]), (2, [2, 4, 5]), (5, [5]), (1, [1, 2, 3, 4, 5])])
def test_due_every_n_epochs_and_at_the_last(digits, every, due):
    rob = build_robustness(RobustnessConfig(enabled=True, every=every), digits)
    assert [epoch for epoch in range(1, 6) if rob.due(epoch, 5)] == due


def test_evaluator_reports_accuracies_and_time(digits):
    cfg = RobustnessConfig(enabled=True, corruptions=("gaussian_noise", "pixelate"), severities=(1, 5), max_images=40)
    rob = build_robustness(cfg, digits)
    model = _tiny_model(1, digits.num_classes).eval()
    metrics = rob(model)
    assert set(metrics) == {"rob/acc", "rob/acc/gaussian_noise", "rob/acc/pixelate", "sys/rob_eval_s"}
    assert all(0 <= metrics[k] <= 1 for k in metrics if k.startswith("rob/")) and metrics["sys/rob_eval_s"] > 0
    assert {k: v for k, v in rob(model).items() if k.startswith("rob/")} == {
        k: v for k, v in metrics.items() if k.startswith("rob/")}  # the same corrupted images every time
