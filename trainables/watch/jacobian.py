"""κ(J) (`eval.jacobian`): the condition number σ_max/σ_min of each input's input→output Jacobian, reported as the
mean and median over an evaluation split (seed 001 Exp 4: SES took the toy 2-D MLP's κ from 57.3 to 23.4).

Jacobians come from torch.func (jacrev inside vmap), in float32 outside autocast, on a model in eval mode.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
from torch import Tensor
from torch.func import jacrev, vmap

KAPPA, KAPPA_MEDIAN = "jacobian_kappa", "jacobian_kappa_median"  # metric leaves: val/jacobian_kappa, ...

Forward = Callable[[Tensor], Tensor]  # (B, ...) inputs -> (B, outputs)


def jacobians(forward: Forward, x: Tensor) -> Tensor:
    """(B, outputs, inputs) float32: d forward(x_b) / d x_b for each input alone (inputs flattened)."""
    def one(xi: Tensor) -> Tensor:
        return forward(xi.unsqueeze(0)).squeeze(0)

    with torch.no_grad():  # jacrev still differentiates `one` (torch.func ignores an outer no_grad); the weights
        jac = vmap(jacrev(one))(x.float())  # keep no graph: the metric is never differentiated
    return jac.reshape(x.shape[0], jac.shape[1], -1)


def condition_numbers(jac: Tensor) -> Tensor:
    """(B,) float64 σ_max/σ_min of each (outputs, inputs) matrix; inf where it is rank-deficient at `jac`'s
    precision (σ_min <= σ_max * max(outputs, inputs) * eps, numpy's `matrix_rank` tolerance), as numpy's `cond`
    of a singular matrix."""
    s = torch.linalg.svdvals(jac.double())  # descending; min(outputs, inputs) values
    tol = s[:, 0] * max(jac.shape[1:]) * torch.finfo(jac.dtype).eps
    return torch.where(s[:, -1] > tol, s[:, 0] / s[:, -1], torch.full_like(s[:, 0], math.inf))


class KappaMeter:
    """κ of every input seen; `result()` is their mean and median (one read-back)."""

    def __init__(self) -> None:
        self._kappas: list[Tensor] = []

    def update(self, forward: Forward, x: Tensor) -> None:
        self._kappas.append(condition_numbers(jacobians(forward, x)))

    def result(self) -> dict[str, float]:
        if not self._kappas:
            return {}
        kappas = torch.cat(self._kappas).cpu().numpy()
        return {KAPPA: float(np.mean(kappas)), KAPPA_MEDIAN: float(np.median(kappas))}


class NoKappa:
    """eval.jacobian=false: measures nothing, so evaluation never branches on the setting."""

    def update(self, forward: Forward, x: Tensor) -> None:
        pass

    def result(self) -> dict[str, float]:
        return {}


def build_kappa(enabled: bool) -> KappaMeter | NoKappa:
    return KappaMeter() if enabled else NoKappa()
