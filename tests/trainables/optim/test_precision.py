"""Precision and device resolution: fp32 on CPU by default, working bf16 autocast, a scaler only for fp16."""

import pytest
import torch

from trainables.optim.precision import build_precision, resolve_device

CPU = torch.device("cpu")


def _matmul_dtype(precision):
    with precision.autocast():
        return (torch.ones(4, 4) @ torch.ones(4, 4)).dtype


def test_auto_on_cpu_is_fp32_without_scaler():
    precision = build_precision("auto", CPU)
    assert precision.name == "fp32"
    assert not precision.scaler.is_enabled()
    assert _matmul_dtype(precision) == torch.float32


def test_bf16_on_cpu_autocasts_matmul():
    precision = build_precision("bf16", CPU)
    assert precision.name == "bf16"
    assert not precision.scaler.is_enabled()
    assert _matmul_dtype(precision) == torch.bfloat16


def test_fp16_enables_the_scaler():
    precision = build_precision("fp16", CPU)
    assert precision.name == "fp16"
    assert precision.scaler.is_enabled()
    assert _matmul_dtype(precision) == torch.float16


def test_autocast_factory_gives_a_fresh_context_each_call():
    precision = build_precision("bf16", CPU)
    assert _matmul_dtype(precision) == _matmul_dtype(precision) == torch.bfloat16
    assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32  # nothing leaks outside the context


def test_unknown_precision_is_named():
    with pytest.raises(ValueError, match="fp8"):
        build_precision("fp8", CPU)


def test_resolve_device():
    assert resolve_device("cpu") == CPU
    with pytest.raises(ValueError, match="tpu"):
        resolve_device("tpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA error")
def test_cuda_without_a_device_fails_clearly():
    with pytest.raises(ValueError, match="CUDA"):
        resolve_device("cuda")
