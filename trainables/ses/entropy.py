"""Spectral entropy of a layer's activations and the SES entropy targets.

H = -sum_i p_i log p_i over the normalized eigenvalues p_i of the batch covariance (natural log, nats).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

# Summed variance (trace of the covariance, activation units^2) at or below which a layer counts as constant:
# entropy 0 with zero grads. Keeps 1/sum(mu) far from float32 overflow (max ~3e38) in the backward pass.
_MIN_TOTAL_VAR = 1e-18
# Eigenvalue shares at or below this contribute 0 to the entropy; float32's smallest normal number, so log(p)
# and its derivative 1/p stay finite where p*log(p) is actually evaluated.
_TINY_P = torch.finfo(torch.float32).tiny

UNREACHABLE_MODES = ("clamp", "error")


def _centered(acts: Tensor) -> Tensor:
    """Batch-centered activations in at least float32 (float64 input stays float64)."""
    if acts.ndim != 2 or acts.shape[0] < 2:
        raise ValueError(f"spectral entropy needs activations of shape (B >= 2, d), got {tuple(acts.shape)}")
    x = acts.to(torch.promote_types(acts.dtype, torch.float32))
    # Shifting by one sample first makes identical rows centre to exact zeros and cuts cancellation error
    # when the mean is large relative to the spread (the shifted-data variance algorithm).
    x = x - x[:1].detach()
    return x - x.mean(dim=0, keepdim=True)


def _covariance(xc: Tensor) -> Tensor:
    """d x d covariance Xc^T Xc / (B-1)."""
    return xc.T @ xc / (xc.shape[0] - 1)


def _gram(xc: Tensor) -> Tensor:
    """B x B Gram Xc Xc^T / (B-1): the same nonzero eigenvalues as the covariance, cheaper when B-1 < d."""
    return xc @ xc.T / (xc.shape[0] - 1)


def _second_moment(acts: Tensor) -> Tensor:
    """The smaller of the Gram and covariance matrices; the choice depends only on the shape (no host sync)."""
    xc = _centered(acts)
    batch, dim = xc.shape
    return _gram(xc) if batch - 1 < dim else _covariance(xc)


def _entropy_from_matrices(mats: Tensor) -> Tensor:
    """Spectral entropy of each symmetric PSD matrix in a (..., k, k) stack -> (...)."""
    # eigvalsh's backward is V diag(g) V^T (no eigenvalue gaps), so repeated zero eigenvalues are harmless.
    mu = torch.linalg.eigvalsh(mats).clamp(min=0)  # roundoff can make zero eigenvalues slightly negative
    total = mu.sum(dim=-1, keepdim=True)
    live = total > _MIN_TOTAL_VAR
    p = mu / torch.where(live, total, torch.ones_like(total))
    # Both branches of a where() get differentiated, so log() must never see 0 even where it is masked out.
    keep = p > _TINY_P
    plogp = torch.where(keep, p * torch.log(torch.where(keep, p, torch.ones_like(p))), torch.zeros_like(p))
    return torch.where(live.squeeze(-1), -plogp.sum(dim=-1), torch.zeros_like(total.squeeze(-1)))


def spectral_entropy(acts: Tensor) -> Tensor:
    """Differentiable spectral entropy (nats, 0-dim) of activations (B, d), in float32 whatever the AMP dtype."""
    with torch.autocast(device_type=acts.device.type, enabled=False):
        return _entropy_from_matrices(_second_moment(acts))


def spectral_entropies(acts_list: list[Tensor]) -> Tensor:
    """Spectral entropy of each (B, d) tensor -> (L,), with one eigvalsh call per group of equal matrix sizes."""
    if not acts_list:
        raise ValueError("spectral_entropies needs at least one activation tensor")
    with torch.autocast(device_type=acts_list[0].device.type, enabled=False):
        mats = [_second_moment(a) for a in acts_list]
        # Group by (size, device, dtype): shapes are Python ints, so grouping never waits on the device.
        groups: dict[tuple, list[int]] = {}
        for i, m in enumerate(mats):
            groups.setdefault((m.shape[-1], m.device, m.dtype), []).append(i)
        out: list[Tensor | None] = [None] * len(mats)
        # eigvalsh checks convergence on the host, so on CUDA each call is one device sync: hence one per group.
        for idx in groups.values():
            ent = _entropy_from_matrices(torch.stack([mats[i] for i in idx]))
            for j, i in enumerate(idx):
                out[i] = ent[j]
        return torch.stack(out)  # promotes mixed float32/float64 groups


def max_entropy(d: int, batch: int) -> float:
    """Largest reachable entropy, log(min(d, B-1)): the centered batch has rank at most B-1."""
    if d < 1 or batch < 2:
        raise ValueError(f"max_entropy needs d >= 1 and batch >= 2, but got ({d=}, {batch=}).")
    return math.log(min(d, batch - 1))


def target_entropy(beta: float, d: int, batch: int, on_unreachable: str = "clamp") -> float:
    """SES target beta*log(d) in nats; above the reachable max it is clamped or rejected per on_unreachable."""
    if on_unreachable not in UNREACHABLE_MODES:
        raise ValueError(f"unknown ses.on_unreachable={on_unreachable!r}; valid: {', '.join(UNREACHABLE_MODES)}")
    target, reach = beta * math.log(d), max_entropy(d, batch)
    if target <= reach:
        return target
    if on_unreachable == "clamp":
        return reach
    raise ValueError(
        f"SES target beta*log(d) = {target:.3f} (beta={beta}, d={d}) exceeds the reachable maximum "
        f"log(min(d, B-1)) = {reach:.3f} at batch size B={batch}; use a larger batch, a smaller beta, "
        f"or ses.on_unreachable=clamp"
    )
