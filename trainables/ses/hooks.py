"""Which modules SES hooks, and forward hooks that keep their pooled (B, features) outputs for one step.

Pooling happens inside the hook, so full feature maps are never held beyond what autograd already keeps.
"""

from __future__ import annotations

import torch
from timm.models.resnet import ResNet
from timm.models.vision_transformer import VisionTransformer
from torch import Tensor, nn

_POSITIONAL = ("first:", "last:")


def _check_names(model: nn.Module, names: list[str], source: str) -> None:
    modules = dict(model.named_modules())
    unknown = [n for n in names if n not in modules]
    if unknown:
        valid = [n for n in modules if n][:8]
        raise ValueError(
            f"{source}: unknown module name(s) {unknown} in {type(model).__name__}; "
            f"valid names look like {valid} (see model.named_modules())"
        )


def hook_points(model: nn.Module) -> list[str]:
    """Default SES layers in forward order: a model's own `hook_points`, timm ResNet blocks, or ViT blocks."""
    own = getattr(model, "hook_points", None)
    if own is not None:
        names = list(own)
        _check_names(model, names, f"{type(model).__name__}.hook_points")
        return names
    if isinstance(model, ResNet):
        # Every residual block, then the pooled features: ResNet-18 gives 8 + 1 = 9, as in the seed study.
        blocks = [
            f"layer{i}.{j}" for i in range(1, 5) for j, _ in enumerate(getattr(model, f"layer{i}", ()))
        ]
        return blocks + ["global_pool"]
    if isinstance(model, VisionTransformer):
        return [f"blocks.{i}" for i in range(len(model.blocks))]
    raise ValueError(
        f"no default SES hook points for {type(model).__name__}; pass module names in ses.layers "
        f"(comma-separated, from model.named_modules()) or give the model a `hook_points` list"
    )


def needs_hook_points(spec: str) -> bool:
    """Whether a layers spec is relative to the default hook points (rather than explicit module names)."""
    spec = spec.strip()
    return spec == "all" or spec.startswith(_POSITIONAL)


def select_layers(all_points: list[str], spec: str, model: nn.Module) -> list[str]:
    """Resolve ses.layers: all | first:K | last:K | comma-separated module names."""
    spec = spec.strip()
    if spec == "all":
        return list(all_points)
    if spec.startswith(_POSITIONAL):
        head, _, count = spec.partition(":")
        try:
            k = int(count)
        except ValueError:
            k = 0
        if not 1 <= k <= len(all_points):
            raise ValueError(
                f"ses.layers={spec!r}: K must be an integer in 1..{len(all_points)} (the number of hook points)"
            )
        return list(all_points[:k] if head == "first" else all_points[-k:])
    names = list(dict.fromkeys(n.strip() for n in spec.split(",") if n.strip()))  # ordered, no duplicates
    if not names or any(":" in n for n in names):
        raise ValueError(f"ses.layers={spec!r}: expected all | first:K | last:K | comma-separated module names")
    _check_names(model, names, f"ses.layers={spec!r}")
    return names


def pool(out: Tensor) -> Tensor:
    """(B, C, H, W) -> (B, C) spatial mean; (B, T, D) -> (B, D) token mean; (B, D) as is."""
    if out.ndim == 2:
        return out
    if out.ndim == 3:
        return out.mean(dim=1)
    if out.ndim >= 4:
        return out.mean(dim=tuple(range(2, out.ndim)))
    raise ValueError(f"SES cannot pool a module output of shape {tuple(out.shape)}; need (B, features, ...)")


class ActivationCapture:
    """Forward hooks on named modules that store pooled outputs while armed, in training mode, with grad."""

    def __init__(self, model: nn.Module, names: list[str]) -> None:
        modules = dict(model.named_modules())
        _check_names(model, names, "ActivationCapture")
        self.names = list(names)
        self.active = False
        self._acts: dict[str, Tensor] = {}
        self._handles = [modules[n].register_forward_hook(self._hook_for(n)) for n in self.names]

    def _hook_for(self, name: str):
        def hook(module: nn.Module, args, out) -> None:
            # Captures exist only to be penalized: eval forwards and no-grad forwards would be dead weight.
            if not (self.active and module.training and torch.is_grad_enabled()):
                return
            if isinstance(out, (tuple, list)):
                out = out[0]
            self._acts[name] = pool(out)  # a module run twice in one forward keeps its last output

        return hook

    def arm(self, on: bool) -> None:
        self.active = on

    def pop(self) -> dict[str, Tensor]:
        """Captured activations in hook order, and forget them (frees their graphs once the loss is done)."""
        acts = {n: self._acts[n] for n in self.names if n in self._acts}
        self._acts = {}
        return acts

    def close(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self._acts = {}
        self.active = False
