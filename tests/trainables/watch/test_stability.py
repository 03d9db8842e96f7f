"""Gradient accumulation, gradient checkpointing and the ViT + AdamW clipping default."""

from __future__ import annotations

import pytest
import torch

from trainables import loop
from trainables.config import ModelConfig, TrainConfig
from trainables.config.overrides import apply_overrides
from trainables.defaults import resolve
from trainables.models.by_name import build_model

TINY = {"data.name": "digits", "data.limit_train": 512, "data.batch_size": 64, "num_threads": 1, "epochs": 2}


class Keep:
    def __init__(self):
        self.metrics = []

    def restore(self):
        return None

    def report(self, metrics, state):
        self.metrics.append(metrics)


def _run(**overrides) -> list[dict]:
    sink = Keep()
    loop.run(apply_overrides(TrainConfig(), {**TINY, **overrides}), sink)
    return sink.metrics


def test_accumulation_counts_optimizer_steps_not_micro_batches():
    plain, accumulated = _run(), _run(accum_steps=4)
    micro_batches = 512 // 64
    assert [m["step"] for m in plain] == [micro_batches, 2 * micro_batches]
    assert [m["step"] for m in accumulated] == [micro_batches // 4, 2 * micro_batches // 4]
    # The cosine schedule spans the optimizer steps, so both runs end at eta_min = 0.
    assert plain[-1]["lr"] == pytest.approx(0.0, abs=1e-12) and accumulated[-1]["lr"] == pytest.approx(0.0, abs=1e-12)
    # Every micro-batch still trains: the same samples per epoch either way.
    assert plain[0]["sys/samples_per_s"] > 0 and accumulated[0]["train/acc"] > 0


def test_bad_accumulation_is_a_clear_error():
    with pytest.raises(ValueError, match="accum_steps=100"):
        _run(accum_steps=100)


@pytest.mark.parametrize("model, optim, clip, expected", [
    ("vit_tiny_patch16_224", "adamw", -1.0, 1.0),  # seed 001 bug 12
    ("vit_tiny_patch16_224", "sgd", -1.0, 0.0),
    ("resnet18", "adamw", -1.0, 0.0),
    ("vit_tiny_patch16_224", "adamw", 0.0, 0.0),  # an explicit 0 turns clipping off
    ("resnet18", "sgd", 2.5, 2.5),
])
def test_grad_clip_auto_default(model, optim, clip, expected):
    cfg = apply_overrides(TrainConfig(), {"model.name": model, "optim.name": optim, "optim.grad_clip": clip})
    assert resolve(cfg).optim.grad_clip == expected


def test_grad_checkpointing_gives_the_same_gradients():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 32, 32)
    grads = []
    for checkpointing in (False, True):
        torch.manual_seed(1)
        model = build_model(ModelConfig(name="vit_tiny_patch16_224"), num_classes=10, in_chans=3, image_size=32,
                            grad_checkpointing=checkpointing)
        model(x).sum().backward()
        grads.append(model.head.weight.grad.clone())
    assert torch.allclose(grads[0], grads[1], atol=1e-5)


def test_grad_checkpointing_on_small_cnn_is_refused():
    with pytest.raises(ValueError, match="small_cnn"):
        build_model(ModelConfig(), num_classes=10, in_chans=1, image_size=28, grad_checkpointing=True)


def test_every_micro_batch_gets_its_ses_penalty(monkeypatch):
    """With accumulation, each micro-batch's forward is captured and penalized, not only the first one's."""
    from trainables.ses.regularizer import SESRegularizer

    penalties = []
    original = SESRegularizer.penalty

    def counting(self, step):
        value, metrics = original(self, step)
        penalties.append(bool(metrics))
        return value, metrics

    monkeypatch.setattr(SESRegularizer, "penalty", counting)
    _run(**{"accum_steps": 2, "ses.enabled": True, "epochs": 1})
    assert penalties and all(penalties)  # 8 micro-batches, each one captured


def test_unknown_ses_target_is_rejected_up_front():
    from trainables.config.overrides import ConfigError
    from trainables.validate import validate

    with pytest.raises(ConfigError, match="ses.targets"):
        validate(apply_overrides(TrainConfig(), {"ses.targets": ("attn_wieghts",)}), check_data=False)
