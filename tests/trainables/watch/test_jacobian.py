"""κ(J): a linear model's κ is its weight matrix's; evaluation reports the mean and median per split (float32,
eval mode, whatever the training precision), and SES on toy_mlp trains end to end through `trainables.train`."""

import json
import math

import numpy as np
import pytest
import torch
from torch import nn

from hpstudy.schema.metrics import METRICS
from trainables.checkpointing import checkpoint
from trainables.config import TrainConfig
from trainables.config.overrides import apply_overrides
from trainables.loop import evaluate
from trainables.parts import build_parts
from trainables.train import main
from trainables.watch.jacobian import KappaMeter, condition_numbers, jacobians

TOY = {"data.name": "toy2d", "model.name": "toy_mlp", "data.augment": False, "num_threads": 1,
       "data.batch_size": 64, "eval.jacobian": True}
KEYS = ("val/jacobian_kappa", "val/jacobian_kappa_median")


def linear(weight) -> nn.Linear:
    layer = nn.Linear(2, len(weight))
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(weight, dtype=torch.float32))
        layer.bias.normal_()
    return layer


def test_a_linear_models_kappa_is_its_weight_matrixs():
    # [[2, 1], [1, 2]] has singular values 3 and 1; [[3, 0], [0, 1], [0, 0]] has 3 and 1: kappa 3 for every input
    x = torch.randn(7, 2)
    for weight in ([[2.0, 1.0], [1.0, 2.0]], [[3.0, 0.0], [0.0, 1.0], [0.0, 0.0]]):
        model = linear(weight)
        jac = jacobians(model, x)
        assert jac.shape == (7, len(weight), 2)
        assert torch.allclose(jac, torch.tensor(weight).expand_as(jac))
        assert torch.allclose(condition_numbers(jac), torch.full((7,), 3.0, dtype=torch.float64))
    weight = np.random.default_rng(0).normal(size=(5, 2))
    kappa = condition_numbers(jacobians(linear(weight.tolist()), x))
    assert kappa.numpy() == pytest.approx(np.full(7, np.linalg.cond(weight)), rel=1e-5)


def test_a_rank_deficient_jacobian_has_infinite_kappa():
    assert condition_numbers(jacobians(linear([[1.0, 2.0], [2.0, 4.0]]), torch.randn(3, 2))).isinf().all()
    assert condition_numbers(torch.zeros(1, 2, 2)).isinf().all()  # as numpy's cond of a zero matrix


def test_per_input_jacobians_match_autograd():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 3))
    x = torch.randn(4, 2)
    jac = jacobians(model, x)
    for i in range(4):
        assert torch.allclose(jac[i], torch.autograd.functional.jacobian(model, x[i]), atol=1e-6)


def test_the_meter_reports_mean_and_median_over_every_input():
    meter = KappaMeter()
    meter.update(linear([[2.0, 0.0], [0.0, 1.0]]), torch.randn(3, 2))  # kappa 2
    meter.update(linear([[8.0, 0.0], [0.0, 1.0]]), torch.randn(1, 2))  # kappa 8
    assert meter.result() == pytest.approx({"jacobian_kappa": 3.5, "jacobian_kappa_median": 2.0})
    assert KappaMeter().result() == {}


def test_evaluation_measures_kappa_in_float32_and_eval_mode():
    cfg = apply_overrides(TrainConfig(), {**TOY, "precision": "bf16", "model.drop_rate": 0.5})
    p = build_parts(cfg)
    p.model.train()
    got = evaluate(p, p.model)
    assert not p.model.training
    meter = KappaMeter()
    for x, _ in p.data.val_batches():
        meter.update(p.model, x)
    assert {k: got[k] for k in KEYS} == {f"val/{k}": v for k, v in meter.result().items()}  # bit for bit
    assert all(got[k] >= 1.0 for k in KEYS)  # sigma_max / sigma_min
    p.ses.close()


def test_every_kappa_key_evaluation_can_report_is_declared_lower_is_better():
    for split, suffixes in (("val", ("", "_ema")), ("test", ("", "_ema", "_last"))):
        for stat in ("", "_median"):
            for suffix in suffixes:
                key = f"{split}/jacobian_kappa{stat}{suffix}"
                assert METRICS[key].direction == "min" and not METRICS[key].derived


def test_ses_on_toy_mlp_trains_end_to_end_through_the_cli_entry(tmp_path, capsys):
    args = [f"{k}={v}" for k, v in {**TOY, "epochs": 3, "ses.enabled": True, "ema.enabled": True,
                                     "checkpoint.keep": "both", "optim.lr": 0.05}.items()]
    assert main([a for kv in args for a in ("--set", kv)] + ["--out", str(tmp_path)]) == 0
    reports = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["epoch"] for r in reports] == [1, 2, 3]
    last = reports[-1]
    assert {f"ses/entropy/hidden{i}" for i in (1, 2, 3)} <= set(last) and last["ses/penalty"] > 0
    for key in (*KEYS, "val/jacobian_kappa_ema", "test/jacobian_kappa", "test/jacobian_kappa_last"):
        assert 1.0 <= last[key] < math.inf, key
    assert last["val/acc"] > 0.8  # the moons are learnable in three epochs
    assert all(k in METRICS for r in reports for k, v in r.items() if isinstance(v, float))
    assert checkpoint.load(tmp_path)["epoch"] == 3


def test_without_the_switch_nothing_is_measured():
    p = build_parts(apply_overrides(TrainConfig(), {**TOY, "eval.jacobian": False}))
    assert not any("jacobian" in k for k in evaluate(p, p.model))
