"""The SES penalty lambda * sum_l (H_l - target_l)^2 as the training loop sees it.

`build_ses` returns an `SESRegularizer`, or a `NoSES` null object when SES is off, so the loop never branches.
"""

from __future__ import annotations

import math
import warnings

import torch
from torch import Tensor, nn

from trainables.config import SESConfig
from trainables.ses.beta import beta_at
from trainables.ses.entropy import max_entropy, spectral_entropies, target_entropy
from trainables.ses.hooks import ActivationCapture, hook_points, needs_hook_points, select_layers
from trainables.ses.targets import HookSpec, hook_specs


class NoSES:
    """SES switched off: the same interface, no hooks, a zero penalty."""

    def __init__(self) -> None:
        self.layer_names: list[str] = []

    def begin_step(self, step: int) -> None:
        pass

    def penalty(self, step: int) -> tuple[Tensor, dict[str, Tensor]]:
        # A 0-dim CPU tensor adds to a loss on any device without a copy.
        return torch.zeros(()), {}

    def close(self) -> None:
        pass


class SESRegularizer:
    """Hooks the chosen layers; each armed step, penalizes their spectral entropies' distance to the targets."""

    def __init__(self, model: nn.Module, specs: list[HookSpec | str], *, cfg: SESConfig, total_steps: int) -> None:
        self.cfg = cfg
        self.total_steps = total_steps
        self._capture = ActivationCapture(model, specs)
        self.layer_names = list(self._capture.names)  # metric labels: ses/entropy/<label>
        self._warned: set[str] = set()
        # (d_l, B_l) per captured layer -> device tensors of log(d_l) and log(min(d_l, B_l - 1)). Building them
        # from a Python list is a blocking host-to-device copy, so it is paid once per shape set, not per step.
        self._log_dims: dict[tuple, tuple[Tensor, Tensor]] = {}

    def begin_step(self, step: int) -> None:
        """Arm capture for this optimizer step (0-based) iff step % every_k == 0; drops captures never penalized."""
        self._capture.arm(step % self.cfg.every_k == 0)

    def penalty(self, step: int) -> tuple[Tensor, dict[str, Tensor]]:
        """(lambda * sum_l (H_l - target_l)^2, metrics) over this step's captures, which are then let go."""
        acts = self._capture.pop()
        if not acts:
            return torch.zeros(()), {}  # as NoSES: a 0-dim CPU tensor adds to a loss on any device, no kernel
        names, tensors = list(acts), list(acts.values())
        beta = beta_at(step, self.total_steps, self.cfg)
        shapes = tuple((a.shape[1], a.shape[0]) for a in tensors)  # (d, B); Python ints, no host sync
        for name, (d, batch) in zip(names, shapes):
            self._check_target(name, beta, d, batch)
        entropies = spectral_entropies(tensors)
        log_d, log_max = self._log_dims_for(shapes, entropies.device)
        targets = torch.minimum(beta * log_d, log_max)  # == target_entropy(...) per layer; "error" raised above
        value = self.cfg.lam * (entropies - targets).square().sum()
        metrics = {"ses/penalty": value.detach(), "ses/beta": torch.full((), beta, device=value.device)}
        detached = entropies.detach()
        for i, name in enumerate(names):
            metrics[f"ses/entropy/{name}"] = detached[i]
        return value, metrics

    def close(self) -> None:
        """Remove the hooks and restore attention's fused_attn; the model is left as it was before build_ses."""
        self._capture.close()

    def _check_target(self, name: str, beta: float, d: int, batch: int) -> None:
        try:
            target = target_entropy(beta, d, batch, self.cfg.on_unreachable)
        except ValueError as err:
            raise ValueError(f"SES layer {name!r}: {err}") from None
        if target < beta * math.log(d) and name not in self._warned:
            self._warned.add(name)
            warnings.warn(
                f"SES layer {name!r}: target beta*log(d) = {beta * math.log(d):.3f} (beta={beta}, d={d}) exceeds "
                f"log(min(d, B-1)) at B={batch}; clamped to {target:.3f} (warned once per layer)",
                stacklevel=3,
            )

    def _log_dims_for(self, shapes: tuple, device: torch.device) -> tuple[Tensor, Tensor]:
        key = (shapes, device)
        if key not in self._log_dims:
            log_d = [math.log(d) for d, _ in shapes]
            log_max = [max_entropy(d, batch) for d, batch in shapes]
            self._log_dims[key] = (
                torch.tensor(log_d, dtype=torch.float32, device=device),
                torch.tensor(log_max, dtype=torch.float32, device=device),
            )
        return self._log_dims[key]


def _validate(cfg: SESConfig, total_steps: int) -> None:
    # The section's values were checked by trainables.validate; what needs the run's step count is checked here.
    beta_at(0, total_steps, cfg)  # fails now, not mid-run, on empty beta_steps or total_steps < 1


def build_ses(model: nn.Module, cfg: SESConfig, total_steps: int) -> SESRegularizer | NoSES:
    """The SES regularizer for this model, or NoSES when cfg.enabled is False."""
    if not cfg.enabled:
        return NoSES()
    _validate(cfg, total_steps)
    points = hook_points(model) if needs_hook_points(cfg.layers) else []
    specs = hook_specs(model, select_layers(points, cfg.layers, model), cfg.targets)
    return SESRegularizer(model, specs, cfg=cfg, total_steps=total_steps)
