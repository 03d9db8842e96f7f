"""Learned uncertainty weighting of several loss terms (Kendall, Gal & Cipolla 2018), with bounded log-variances:
total = sum_i exp(-s_i) * L_i + s_i, s_i = log(sigma_i^2) kept in [min_log_var, max_log_var] (seed 002).

The training step weights every term its task returns (`loss_terms`), plus the SES penalty when SES is on;
`FixedWeighting` is its null object for loss_weighting=fixed, so the loop never asks which one it has.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
from torch import Tensor, nn
from torch.nn.parameter import UninitializedParameter

WEIGHTINGS = ("fixed", "uncertainty")  # loss_weighting: task + SES penalty as they are | learned weights
PART = "loss_"  # a task's loss dict: "loss" plus its parts, "loss_<part>" (trainables.tasks.base.LossOut)
TASK, SES = "task", "ses"  # term names: a task's "loss" when it returns no parts; the SES penalty


def loss_terms(losses: Mapping[str, Tensor], penalty: Tensor | None = None) -> dict[str, Tensor]:
    """The terms uncertainty weighting weights, each with its own learned weight: every part a task returns
    (`loss_<part>` as `<part>`; the task's own fixed weights of them, e.g. task.dice_weight, give way to the learned
    ones), or its `loss` as `task` when it returns none; then the SES penalty as `ses`, unless `penalty` is None."""
    terms = {k.removeprefix(PART): v for k, v in losses.items() if k.startswith(PART)} or {TASK: losses["loss"]}
    if penalty is not None:
        if SES in terms:
            raise ValueError(f"a task's loss part {PART}{SES} would share its name with the SES penalty's term")
        terms[SES] = penalty
    return terms


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
    `names=None` takes the names of the first call's losses: the loop knows a task's parts only once it has run it.
    Until then `log_vars` is torch's UninitializedParameter (the optimizer holds it, as for torch's lazy modules;
    its state is created at the first step, after the first call), materialized by that call or by a state dict.
    """

    def __init__(self, names: Sequence[str] | None = None, min_log_var: float = -2.0, max_log_var: float = 2.0,
                 init_log_var: float = 0.0) -> None:
        super().__init__()
        if names is not None and (isinstance(names, str) or not names or len(set(names)) != len(names)):
            raise ValueError(f"`names` must be non-empty and distinct, but got {list(names)!r}.")
        if not min_log_var <= init_log_var <= max_log_var:
            raise ValueError(f"`min_log_var <= init_log_var <= max_log_var` must hold, but got "
                             f"({min_log_var=}, {init_log_var=}, {max_log_var=}).")
        self.names: tuple[str, ...] = tuple(names or ())  # () until the first call when names is None
        self.min_log_var, self.max_log_var, self.init_log_var = min_log_var, max_log_var, float(init_log_var)
        self.log_vars = (UninitializedParameter() if names is None
                         else nn.Parameter(torch.full((len(self.names),), self.init_log_var)))

    def _bind(self, names: tuple[str, ...]) -> None:
        """The first call's names; the log-variances are made (or were loaded) for as many."""
        if isinstance(self.log_vars, UninitializedParameter):
            self.log_vars.materialize((len(names),))
            with torch.no_grad():
                self.log_vars.fill_(self.init_log_var)
        elif len(names) != len(self.log_vars):
            raise KeyError(f"{len(self.log_vars)} log-variances were loaded, but the losses are {', '.join(names)}")
        self.names = names

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:
        loaded = state_dict.get(prefix + "log_vars")
        if isinstance(self.log_vars, UninitializedParameter) and loaded is not None:
            self.log_vars.materialize(loaded.shape)  # a resumed run: the names are bound again by the next call
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self, losses: Mapping[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        """`{name: scalar loss}` -> (weighted total, `loss_weight/<name>` and `loss_log_var/<name>` metrics)."""
        if not self.names:
            self._bind(tuple(losses))
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


class TaskLossWeighting(UncertaintyWeighting):
    """Uncertainty weighting as the training step calls it: (the task's loss dict, the SES penalty) -> the weighted
    total of `loss_terms`, the penalty a term only when SES is on (an always-zero term would only push its s_i to
    the lower bound and log a weight for a penalty that does not exist)."""

    def __init__(self, *, ses: bool, min_log_var: float = -2.0, max_log_var: float = 2.0) -> None:
        super().__init__(None, min_log_var, max_log_var)
        self.ses = ses

    def forward(self, losses: Mapping[str, Tensor], penalty: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        return super().forward(loss_terms(losses, penalty if self.ses else None))


class FixedWeighting(nn.Module):
    """loss_weighting=fixed: the task's loss plus the SES penalty as they are (the penalty carries its own lambda).

    TaskLossWeighting's interface with nothing learned: no parameters for the optimizer, no metrics, an empty state
    dict (so a checkpoint written without one loads too).
    """

    def forward(self, losses: Mapping[str, Tensor], penalty: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        return losses["loss"] + penalty, {}

    def attach(self, optimizer: torch.optim.Optimizer) -> None:
        """Nothing to add to `optimizer`."""
