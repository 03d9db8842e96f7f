"""Spectral entropy: agreement with a float64 reference, both matrix routes, finite grads, batching, targets."""

import math

import numpy as np
import pytest
import torch

from trainables.ses.entropy import (
    _centered,
    _entropy_from_matrices,
    _scatter,
    max_entropy,
    spectral_entropies,
    spectral_entropy,
    target_entropy,
)


def reference_entropy(acts: torch.Tensor) -> float:
    """Textbook definition in float64: eigenvalues of the (B-1)-normalized covariance."""
    x = acts.detach().double().numpy()
    mu = np.clip(np.linalg.eigvalsh(np.cov(x, rowvar=False)), 0, None)
    p = mu / mu.sum()
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


@pytest.mark.parametrize("shape", [(16, 64), (64, 8), (9, 8)], ids=["gram B-1<d", "cov B>d", "cov B-1=d"])
def test_matches_float64_reference(shape):
    torch.manual_seed(0)
    acts = torch.randn(shape) * torch.linspace(0.1, 3.0, shape[1])  # anisotropic, so the spectrum is not flat
    assert spectral_entropy(acts).item() == pytest.approx(reference_entropy(acts), abs=1e-4)


def test_gram_and_covariance_routes_agree():
    torch.manual_seed(1)
    xc = _centered(torch.randn(12, 40) @ torch.randn(40, 40))
    h_gram = _entropy_from_matrices(xc @ xc.T)
    h_cov = _entropy_from_matrices(xc.T @ xc)
    assert h_gram.item() == pytest.approx(h_cov.item(), abs=1e-5)


@pytest.mark.parametrize("shape, size", [((16, 64), 16), ((64, 8), 8), ((9, 8), 8), ((3, 16, 64), 16)])
def test_scatter_is_the_smaller_matrix(shape, size):
    assert _scatter(_centered(torch.randn(shape))).shape[-2:] == (size, size)


def test_isotropic_activations_reach_log_d():
    d = 8
    eye = torch.eye(d)
    acts = torch.cat([eye, -eye])  # covariance is proportional to the identity
    assert spectral_entropy(acts).item() == pytest.approx(math.log(d), abs=1e-5)


def test_entropy_is_scale_and_shift_invariant():
    torch.manual_seed(2)
    acts = torch.randn(32, 16)
    h = spectral_entropy(acts)
    assert spectral_entropy(acts * 1e3 + 50.0).item() == pytest.approx(h.item(), abs=1e-4)


def _rank2(batch=16, d=64):
    return torch.randn(batch, 2) @ torch.randn(2, d)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize(
    "make",
    [_rank2, lambda: torch.randn(1, 64).repeat(16, 1), lambda: torch.zeros(16, 64), lambda: torch.randn(40, 8)],
    ids=["rank2", "identical rows", "zeros", "full rank cov route"],
)
def test_gradients_are_finite(make, dtype):
    torch.manual_seed(3)
    acts = make().to(dtype).requires_grad_(True)
    h = spectral_entropy(acts)
    h.backward()
    assert h.dtype == torch.float32
    assert torch.isfinite(h)
    assert torch.isfinite(acts.grad.float()).all()


@pytest.mark.parametrize("acts", [torch.zeros(8, 32), torch.ones(8, 32) * 3.0], ids=["zeros", "constant"])
def test_constant_layer_has_zero_entropy_and_zero_grad(acts):
    acts = acts.clone().requires_grad_(True)
    h = spectral_entropy(acts)
    h.backward()
    assert h.item() == 0.0
    assert torch.count_nonzero(acts.grad) == 0


def test_runs_in_float32_under_autocast():
    torch.manual_seed(4)
    acts = torch.randn(16, 64).bfloat16()
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        h = spectral_entropy(acts)
        hs = spectral_entropies([acts, acts])
    assert h.dtype == hs.dtype == torch.float32
    assert h.item() == pytest.approx(reference_entropy(acts.float()), abs=1e-4)


def test_batched_equals_per_layer_with_mixed_shapes_and_dtypes():
    torch.manual_seed(5)
    # Gram 16x16 from three shapes (two repeated), cov 8x8 twice, cov 4x4; one float64 and one bf16 in the mix.
    shapes = [(16, 64), (16, 8), (16, 32), (12, 4), (16, 64), (16, 128), (16, 8), (16, 64), (16, 64)]
    dtypes = [torch.float32] * 7 + [torch.float64, torch.bfloat16]
    acts = [torch.randn(s, dtype=t, requires_grad=True) for s, t in zip(shapes, dtypes)]
    batched = spectral_entropies(acts)
    single = torch.stack([spectral_entropy(a) for a in acts])
    assert batched.shape == (len(shapes),)
    torch.testing.assert_close(batched, single, atol=1e-5, rtol=0)
    grads_batched = torch.autograd.grad(batched.sum(), acts)
    grads_single = torch.autograd.grad(single.sum(), acts)
    for gb, gs in zip(grads_batched, grads_single):
        torch.testing.assert_close(gb, gs, atol=1e-5, rtol=1e-4)


def test_one_eigvalsh_call_per_matrix_size(monkeypatch):
    calls = []
    eigvalsh = torch.linalg.eigvalsh
    monkeypatch.setattr(torch.linalg, "eigvalsh", lambda m: calls.append(tuple(m.shape)) or eigvalsh(m))
    acts = [torch.randn(16, d) for d in (64, 8, 32, 64, 8, 128)]  # Gram 16x16 x4, cov 8x8 x2
    spectral_entropies(acts)
    assert sorted(calls) == [(2, 8, 8), (4, 16, 16)]


def test_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r"\(B >= 2, d\)"):
        spectral_entropy(torch.randn(1, 8))
    with pytest.raises(ValueError, match="at least one"):
        spectral_entropies([])


def test_max_entropy_is_log_of_reachable_rank():
    assert max_entropy(2048, 256) == pytest.approx(math.log(255))
    assert max_entropy(64, 256) == pytest.approx(math.log(64))


def test_target_below_max_is_beta_log_d():
    assert target_entropy(0.5, 64, 256, "error") == pytest.approx(0.5 * math.log(64))


def test_unreachable_target_is_clamped():
    assert target_entropy(0.9, 2048, 64, "clamp") == pytest.approx(math.log(63))


def test_unreachable_target_error_names_the_numbers():
    with pytest.raises(ValueError) as info:
        target_entropy(0.9, 2048, 64, "error")
    msg = str(info.value)
    for part in ("beta=0.9", "d=2048", "B=64", f"{math.log(63):.3f}", "ses.on_unreachable=clamp"):
        assert part in msg
    assert "\n" not in msg
