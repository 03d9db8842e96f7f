"""Learned uncertainty weighting of several loss terms (Kendall, Gal & Cipolla 2018), with bounded log-variances:
total = sum_i exp(-s_i) * L_i + s_i, s_i = log(sigma_i^2) kept in [min_log_var, max_log_var] (seed 002).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
from torch import Tensor, nn

WEIGHTINGS = ("fixed", "uncertainty")  # loss_weighting: task + SES penalty as they are | learned weights


class UncertaintyWeighting(nn.Module):
    """Weights loss terms by exp(-s_i); at a fixed L_i the optimum is s_i = log L_i, i.e. weight 1 / L_i.

    Bounds: seed 002's unbounded s_i diverged and took training with them; +-2 fixed it. They are kept two ways:
    - forward clamps s_i, so the loss never sees a value outside them; the gradient is 1 inside and on them
      (torch.clamp's is 0 on a bound, which would freeze an s_i projected onto it);
    - `attach` registers a hook that projects the stored s_i back into the bounds after every optimizer step.
      With the clamp alone, momentum carries s_i past a bound, where its gradient is 0 for good: it could never
      come back when its loss term later changes. A tanh reparametrization has no dead zone, but scales every
      gradient by 1 - tanh^2: s_i crawls near the bounds, and under Adam (steps blind to gradient size) the raw
      parameter drifts far into the flat tail and takes as long to return.
    The s_i go to the optimizer as their own group with no weight decay: decay would pull every weight toward 1,
    a hidden prior on the weighting; the `+ s_i` term already keeps the weights from growing without end.
    """

    def __init__(self, names: Sequence[str], min_log_var: float = -2.0, max_log_var: float = 2.0,
                 init_log_var: float = 0.0) -> None:
        super().__init__()
        if isinstance(names, str) or not names or len(set(names)) != len(names):
            raise ValueError(f"`names` must be non-empty and distinct, but got {list(names)!r}.")
        if not min_log_var <= init_log_var <= max_log_var:
            raise ValueError(f"`min_log_var <= init_log_var <= max_log_var` must hold, but got "
                             f"({min_log_var=}, {init_log_var=}, {max_log_var=}).")
        self.names = tuple(names)
        self.min_log_var, self.max_log_var = min_log_var, max_log_var
        self.log_vars = nn.Parameter(torch.full((len(names),), float(init_log_var)))

    def forward(self, losses: Mapping[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        """`{name: scalar loss}` -> (weighted total, `loss_weight/<name>` and `loss_log_var/<name>` metrics)."""
        if set(losses) != set(self.names):
            raise KeyError(f"expected losses for {', '.join(self.names)}; got {', '.join(losses)}")
        raw, lo, hi = self.log_vars, self.min_log_var, self.max_log_var
        s = torch.where(raw > hi, hi, torch.where(raw < lo, lo, raw))
        stacked = torch.stack([losses[n].float().reshape(()) for n in self.names])  # float32 even under autocast
        weights = torch.exp(-s)
        total = (weights * stacked + s).sum()
        metrics: dict[str, Tensor] = {}
        for i, name in enumerate(self.names):
            metrics[f"loss_weight/{name}"] = weights[i].detach()
            metrics[f"loss_log_var/{name}"] = s[i].detach()
        return total, metrics

    @torch.no_grad()
    def project(self) -> None:
        self.log_vars.clamp_(self.min_log_var, self.max_log_var)

    def param_group(self) -> dict[str, Any]:
        return {"params": [self.log_vars], "weight_decay": 0.0}

    def attach(self, optimizer: torch.optim.Optimizer):
        """Add the s_i to `optimizer` (no weight decay) and keep them in bounds after each of its steps."""
        optimizer.add_param_group(self.param_group())
        return optimizer.register_step_post_hook(lambda *_: self.project())
