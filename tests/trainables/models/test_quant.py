"""model.fake_quant: b-bit fake quantization of every linear layer's weights and input activations, with the qparams
torch.ao's MinMax observers give; the same names and weights as the float model, so a warm start from a float
checkpoint copies every layer, and one that skips a layer (seed 004's renamed output layer) fails loudly."""

import pytest
import torch
from torch import nn
from torch.ao.quantization import FakeQuantize, MinMaxObserver, PerChannelMinMaxObserver, QConfig, prepare_qat

from trainables.checkpointing.warm_start import apply_init
from trainables.config import InitConfig, ModelConfig, TrainConfig
from trainables.config.overrides import ConfigError, apply_overrides
from trainables.models.by_name import build_model
from trainables.models.quant import FakeQuantLinear, fake_quant_rows, fake_quant_weight
from trainables.validate import validate


def mlp(fake_quant: bool, seed: int = 0, bits: int = 8) -> nn.Module:
    torch.manual_seed(seed)
    return build_model(ModelConfig(name="tabular_mlp", fake_quant=fake_quant, quant_bits=bits), num_classes=2,
                       in_chans=30, image_size=0)


@pytest.mark.parametrize(("bits", "qmax"), [(8, 127), (4, 7)])
def test_weights_get_torch_aos_per_channel_symmetric_grid(bits, qmax):
    w = torch.randn(16, 30) * torch.linspace(0.1, 3, 16)[:, None]
    observer = FakeQuantize(PerChannelMinMaxObserver, quant_min=-qmax, quant_max=qmax, dtype=torch.qint8,
                            qscheme=torch.per_channel_symmetric, ch_axis=0)
    assert torch.equal(fake_quant_weight(w, bits), observer(w))  # a fresh observer: this tensor's own range
    levels = [len(torch.unique(row)) for row in fake_quant_weight(w, bits)]
    assert max(levels) <= 2 * qmax + 1 and not torch.equal(fake_quant_weight(w, bits), w)


@pytest.mark.parametrize(("bits", "qmax"), [(8, 255), (4, 15)])
def test_activations_get_torch_aos_affine_grid_per_row(bits, qmax):
    x = torch.cat([torch.randn(5, 30) * 4 + 1, torch.relu(torch.randn(3, 30)), torch.zeros(1, 30)])
    rows = []
    for row in x:  # per row: each sample's own range, whatever else is in the batch
        fq = FakeQuantize(MinMaxObserver, quant_min=0, quant_max=qmax, dtype=torch.quint8,
                          qscheme=torch.per_tensor_affine)
        rows.append(fq(row[None]))
    assert torch.allclose(fake_quant_rows(x, bits), torch.cat(rows), atol=1e-6)
    assert torch.equal(fake_quant_rows(x[:2], bits), fake_quant_rows(x, bits)[:2])  # batch-independent
    assert torch.equal(fake_quant_rows(x, bits)[-1], x[-1])  # zeros stay exact
    assert max(len(torch.unique(r)) for r in fake_quant_rows(x, bits)) <= qmax + 1


def test_gradients_pass_straight_through():
    x = torch.randn(4, 30, requires_grad=True)
    w = torch.randn(8, 30, requires_grad=True)
    (fake_quant_rows(x).sum() + fake_quant_weight(w).sum()).backward()
    assert torch.equal(x.grad, torch.ones_like(x)) and torch.equal(w.grad, torch.ones_like(w))


def test_quantized_model_has_the_float_models_names_and_weights():
    q, f = mlp(True), mlp(False)
    assert [type(m) for m in q.modules() if isinstance(m, nn.Linear)] == [FakeQuantLinear] * 3
    assert list(q.state_dict()) == list(f.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(q.state_dict().values(), f.state_dict().values()))
    x = torch.randn(64, 30)
    q.eval(), f.eval()
    diff = (q(x) - f(x)).abs().max().item()
    assert 0 < diff < 0.05  # quantization error: present, and small
    coarse = mlp(True, bits=4).eval()
    assert {m.bits for m in coarse.modules() if isinstance(m, FakeQuantLinear)} == {4}
    assert (coarse(x) - f(x)).abs().max().item() > diff  # fewer bits, a coarser grid
    q.train()
    q(x).sum().backward()
    assert all(p.grad is not None for p in q.parameters())


def _float_checkpoint(tmp_path) -> str:
    path = tmp_path / "float.pt"
    torch.save(mlp(False, seed=1).state_dict(), path)
    return str(path)


def test_warm_start_from_a_float_checkpoint_copies_every_layer(tmp_path):
    q = mlp(True)
    report = apply_init(InitConfig(checkpoint=_float_checkpoint(tmp_path), mode="warm"), q,
                        torch.optim.SGD(q.parameters(), lr=0.1))
    assert report.complete and "fc.weight" in report.copied and len(report.copied) == report.total == 6
    assert torch.equal(q.fc.weight, mlp(False, seed=1).fc.weight)


class _RenamedHead(nn.Module):
    """Seed 004's bug: the quantized model names its output layer `output_dense`, the float one `fc`."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.hidden1, self.hidden2 = model.hidden1, model.hidden2
        self.output_dense = model.fc


def test_a_skipped_output_layer_fails_loudly_naming_it(tmp_path):
    q = _RenamedHead(mlp(True))
    cfg = InitConfig(checkpoint=_float_checkpoint(tmp_path), mode="warm")
    with pytest.raises(ValueError, match=r"4/6 model tensors copied; 2 missing in checkpoint.*output_dense.weight"):
        apply_init(cfg, q, torch.optim.SGD(q.parameters(), lr=0.1))
    report = apply_init(InitConfig(checkpoint=cfg.checkpoint, mode="warm", allow_partial=True), q,
                        torch.optim.SGD(q.parameters(), lr=0.1))
    assert not report.complete and report.skipped == ["output_dense.weight", "output_dense.bias"]
    assert "skipped     output_dense.weight" in report.as_text()


def test_why_not_prepare_qat_its_observer_state_is_missing_from_a_float_checkpoint(tmp_path):
    model = mlp(False).train()
    model.qconfig = QConfig(activation=FakeQuantize.with_args(observer=MinMaxObserver),
                            weight=FakeQuantize.with_args(observer=PerChannelMinMaxObserver, dtype=torch.qint8,
                                                          qscheme=torch.per_channel_symmetric))
    prepare_qat(model, inplace=True)
    report = apply_init(InitConfig(checkpoint=_float_checkpoint(tmp_path), mode="warm", allow_partial=True), model,
                        torch.optim.SGD(model.parameters(), lr=0.1))
    assert len(report.copied) == 6 and any("fake_quant" in n or "activation_post_process" in n
                                           for n in report.skipped)


@pytest.mark.parametrize(("overrides", "start"), [
    ({"data.name": "mnist5k", "model.name": "small_cnn"}, "model.fake_quant: only the vector MLPs"),
    ({"model.spectral_norm": True}, "model.fake_quant: not with model.spectral_norm"),
    ({"model.quant_bits": 1}, "model.quant_bits: expected 2 <= value <= 8"),
    ({"model.quant_bits": 16}, "model.quant_bits: expected 2 <= value <= 8"),
])
def test_refused_where_it_cannot_apply(overrides, start):
    base = {"data.name": "breast_cancer", "model.name": "tabular_mlp", "data.augment": False, "model.fake_quant": True}
    with pytest.raises(ConfigError) as err:
        validate(apply_overrides(TrainConfig(), {**base, **overrides}), check_data=False)
    assert str(err.value).startswith(start) and "\n" not in str(err.value)
