"""Quantization-aware training (`model.fake_quant`, seed 004's quantized model): every nn.Linear trains through
b-bit (`model.quant_bits`, int8 by default) fake quantization of its weights and of its input activations, with
torch's fake-quantize ops (straight-through gradient).

Weights: symmetric per output channel, -(2^(b-1) - 1)..2^(b-1) - 1 (int8: -127..127), scale max|w| / 127 at 8 bits.
Activations: asymmetric per row (per sample: batch-independent), 0..2^b - 1, range [min(x, 0), max(x, 0)], computed
from each input (dynamic, as torchao's int8 dynamic-activation schemes). Both are the qparams torch.ao's MinMax observers give (tests/trainables/
test_quant.py).

Why not torch.ao.quantization's `prepare_qat` (it works with torch 2.14 on CPU; torchao is not installed): its
FakeQuantize modules keep state as buffers (scale, zero point, observed min/max, enable flags), which a float
checkpoint cannot hold. A warm start from the float model then reports them as skipped and fails; accepting that
with init.allow_partial=true would equally accept a skipped output layer, the very bug of seed 004. These layers
keep nn.Linear's names and state_dict, so the coverage report (trainables.checkpointing.warm_start) names exactly the layers not copied.
The price of holding no state: activation ranges are not calibrated for a static int8 deployment, and nothing here
converts to a real int8 model (torch.ao.quantization.convert); this is training through quantization error only.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils import skip_init

BITS = 8  # model.quant_bits' default
EPS = torch.finfo(torch.float32).eps  # torch.ao's observers floor the scale here too (a constant row)


def weight_range(bits: int) -> tuple[int, int]:
    """Restricted symmetric: -w quantizes to -q, zero point 0 (int8: -127..127)."""
    return -(2 ** (bits - 1) - 1), 2 ** (bits - 1) - 1


def activation_range(bits: int) -> tuple[int, int]:
    """Unsigned with a zero point, so 0 (every ReLU zero) is exact (uint8: 0..255)."""
    return 0, 2**bits - 1


def fake_quant_weight(w: Tensor, bits: int = BITS) -> Tensor:
    """`w` (out, in) on its `bits`-bit grid, one scale per output row; gradient straight through."""
    lo, hi = weight_range(bits)
    scale = (w.detach().float().abs().amax(1) / hi).clamp_min(EPS)
    zero = torch.zeros_like(scale, dtype=torch.int32)
    return torch.fake_quantize_per_channel_affine(w.float(), scale, zero, 0, lo, hi).to(w.dtype)


def fake_quant_rows(x: Tensor, bits: int = BITS) -> Tensor:
    """`x` (..., features) on an unsigned `bits`-bit grid per row (per sample), its range including 0; gradient
    straight through."""
    lo, hi = activation_range(bits)
    flat = x.reshape(-1, x.shape[-1]).float()
    low = flat.detach().amin(1).clamp_max(0)
    high = flat.detach().amax(1).clamp_min(0)
    scale = ((high - low) / (hi - lo)).clamp_min(EPS)
    zero = (lo - torch.round(low / scale)).clamp(lo, hi).to(torch.int32)
    return torch.fake_quantize_per_channel_affine(flat, scale, zero, 0, lo, hi).reshape(x.shape).to(x.dtype)


class FakeQuantLinear(nn.Linear):
    """nn.Linear computed on fake-quantized inputs and weights; the bias stays float (int32 once deployed)."""

    bits: int = BITS  # a plain attribute, not state: the state_dict stays nn.Linear's

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(fake_quant_rows(x, self.bits), fake_quant_weight(self.weight, self.bits), self.bias)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, bits={self.bits}"

    @classmethod
    def from_float(cls, linear: nn.Linear, bits: int = BITS) -> FakeQuantLinear:
        """The same Parameters under the new class (as torch.ao's `from_float`); draws no random numbers."""
        q = skip_init(cls, linear.in_features, linear.out_features, bias=linear.bias is not None,
                      device=linear.weight.device, dtype=linear.weight.dtype)
        q.weight, q.bias, q.bits = linear.weight, linear.bias, bits
        return q


def fake_quantize(model: nn.Module, bits: int = BITS) -> nn.Module:
    """Every nn.Linear of `model` replaced in place by a `bits`-bit FakeQuantLinear of the same name and
    Parameters."""
    if not 2 <= bits <= 8:
        raise ValueError(f"model.quant_bits: expected 2..8 bits, got {bits!r}")
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is nn.Linear:  # not subclasses: a FakeQuantLinear is already quantized
                setattr(parent, name, FakeQuantLinear.from_float(child, bits))
    return model
