"""Spectral entropy of a layer's activations and the SES entropy targets.

H = -sum_i p_i log p_i over the normalized eigenvalues p_i of the batch covariance (natural log, nats).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

# Trace of the scatter matrix (activation units^2) at or below which a layer counts as constant: entropy 0 with
# zero grads. Keeps 1/sum(mu) far from float32 overflow (max ~3e38) in the backward pass.
_MIN_TOTAL_VAR = 1e-18
# Eigenvalue shares at or below this contribute 0 to the entropy; float32's smallest normal number, so log(p)
# and its derivative 1/p stay finite where p*log(p) is actually evaluated.
_TINY_P = torch.finfo(torch.float32).tiny

UNREACHABLE_MODES = ("clamp", "error")


def _check(acts: Tensor) -> None:
    if acts.ndim != 2 or acts.shape[0] < 2:
        raise ValueError(f"spectral entropy needs activations of shape (B >= 2, d), got {tuple(acts.shape)}")


def _centered(acts: Tensor) -> Tensor:
    """Batch-centered activations (..., B, d) in at least float32 (float64 input stays float64)."""
    x = acts.to(torch.promote_types(acts.dtype, torch.float32))
    # Shifting by one sample first makes identical rows centre to exact zeros and cuts cancellation error
    # when the mean is large relative to the spread (the shifted-data variance algorithm).
    x = x - x[..., :1, :].detach()
    return x - x.mean(dim=-2, keepdim=True)


def _scatter(xc: Tensor) -> Tensor:
    """The smaller of Xc Xc^T (B x B, Gram) and Xc^T Xc (d x d): the same nonzero eigenvalues, so the same entropy.

    The choice depends only on the shape (no host sync). No 1/(B-1): the entropy only sees eigenvalue shares.
    """
    batch, dim = xc.shape[-2:]
    return xc @ xc.mT if batch - 1 < dim else xc.mT @ xc


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
    _check(acts)
    with torch.autocast(device_type=acts.device.type, enabled=False):
        return _entropy_from_matrices(_scatter(_centered(acts)))


def spectral_entropies(acts_list: list[Tensor]) -> Tensor:
    """Spectral entropy of each (B, d) tensor -> (L,), batching the work of layers that share shapes.

    Layers of one (B, d) are centred and multiplied as one stack; matrices of one size share one eigvalsh call
    (on CUDA each call waits for the device once, for its convergence check). Grouping reads only Python-side
    shapes, never tensor values, so it never syncs.
    """
    if not acts_list:
        raise ValueError("spectral_entropies needs at least one activation tensor")
    for acts in acts_list:
        _check(acts)
    with torch.autocast(device_type=acts_list[0].device.type, enabled=False):
        by_shape: dict[tuple, list[int]] = {}
        for i, a in enumerate(acts_list):
            by_shape.setdefault((a.shape, a.device, a.dtype), []).append(i)
        by_size: dict[tuple, list[tuple[list[int], Tensor]]] = {}
        for idx in by_shape.values():
            stack = torch.stack([acts_list[i] for i in idx]) if len(idx) > 1 else acts_list[idx[0]].unsqueeze(0)
            mats = _scatter(_centered(stack))
            by_size.setdefault((mats.shape[-1], mats.device, mats.dtype), []).append((idx, mats))
        out: list[Tensor | None] = [None] * len(acts_list)
        for parts in by_size.values():
            ent = _entropy_from_matrices(torch.cat([m for _, m in parts]) if len(parts) > 1 else parts[0][1])
            for j, i in enumerate(i for idx, _ in parts for i in idx):
                out[i] = ent[j]
        return torch.stack(out)  # promotes mixed float32/float64 groups


def max_entropy(d: int, batch: int) -> float:
    """Largest reachable entropy, log(min(d, B-1)): the centered batch has rank at most B-1."""
    if d < 1 or batch < 2:
        raise ValueError(f"max_entropy needs d >= 1 and batch >= 2, but got ({d=}, {batch=}).")
    return math.log(min(d, batch - 1))


def target_entropy(beta: float, d: int, batch: int, on_unreachable: str = "clamp") -> float:
    """SES target beta*log(d) in nats; above the reachable max it is clamped or rejected per on_unreachable."""
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
