"""Which modules SES hooks, and hooks that keep their pooled (B, features) activations for one step.

Pooling happens inside the hook, so full feature maps are never held beyond what autograd already keeps.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from trainables.ses.targets import KINDS, HookSpec

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
    from timm.models.resnet import (
        ResNet,  # timm (with torchvision) takes ~1.5 s to import: only a run that uses it pays
    )
    from timm.models.vision_transformer import VisionTransformer

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


def pool_attention(weights: Tensor) -> Tensor:
    """Softmax weights (B, heads, T, T) -> (B, T): the attention each key receives, mean over heads and queries.

    Each row stays on the simplex (sums to 1), so its covariance has rank <= T - 1. Mean backward saves nothing,
    so the pooled tensor keeps no (B, heads, T, T) buffer alive beyond what `attn @ v` already saves.
    """
    if weights.ndim != 4:
        raise ValueError(f"attention weights must be (B, heads, T, T), got {tuple(weights.shape)}")
    return weights.mean(dim=(1, 2))


class ActivationCapture:
    """Hooks on HookSpecs (or plain module names) that keep pooled activations of one armed, training, grad forward.

    `arm(True)` opens capture for a step; `pop()` takes the captures once and closes it, so a forward run again
    later in the step (checkpoint recompute in backward, an extra no-penalty forward) never holds a graph.
    Modules named by `HookSpec.unfuse` use timm's non-fused attention only while armed, in training, with grad.
    """

    def __init__(self, model: nn.Module, specs: list[HookSpec | str]) -> None:
        self.specs = [s if isinstance(s, HookSpec) else HookSpec(s, s) for s in specs]
        bad = [s for s in self.specs if s.kind not in KINDS]
        if bad:
            raise ValueError(f"unknown HookSpec kind(s) {[s.kind for s in bad]}; valid: {', '.join(KINDS)}")
        modules = dict(model.named_modules())
        _check_names(model, [s.module for s in self.specs] + [s.unfuse for s in self.specs if s.unfuse],
                     "ActivationCapture")
        self.names = [s.label for s in self.specs]
        self.armed = False  # this is an SES step; decides the attention path, so checkpoint recompute matches
        self._open = False  # captures accepted: from arm(True) to the next pop()
        self._acts: dict[str, Tensor] = {}
        self._handles = []
        for s in self.specs:
            module = modules[s.module]
            if s.kind == "output":
                self._handles.append(module.register_forward_hook(self._output_hook(s.label)))
            else:
                self._handles.append(module.register_forward_pre_hook(self._weights_hook(s.label)))
        # Attention module -> its own fused_attn, given back by close().
        self._fused = {modules[s.unfuse]: modules[s.unfuse].fused_attn for s in self.specs if s.unfuse}
        for attn, fused in self._fused.items():
            self._handles.append(attn.register_forward_pre_hook(self._unfuse_hook(fused)))

    def _capturing(self, module: nn.Module) -> bool:
        # Captures exist only to be penalized: eval forwards and no-grad forwards would be dead weight.
        return self.armed and module.training and torch.is_grad_enabled()

    def _output_hook(self, label: str):
        def hook(module: nn.Module, args, out) -> None:
            if self._open and self._capturing(module):
                self._acts[label] = pool(out[0] if isinstance(out, (tuple, list)) else out)  # last call wins

        return hook

    def _weights_hook(self, label: str):
        def hook(module: nn.Module, args) -> None:
            if self._open and self._capturing(module):
                self._acts[label] = pool_attention(args[0])  # attn_drop's input: the weights before dropout

        return hook

    def _unfuse_hook(self, fused: bool):
        def hook(module: nn.Module, args) -> None:
            module.fused_attn = fused and not self._capturing(module)

        return hook

    def arm(self, on: bool) -> None:
        """Open (or not) capture for the coming forward; drops captures nobody popped (e.g. a failed step)."""
        self.armed = self._open = on
        self._acts = {}

    def pop(self) -> dict[str, Tensor]:
        """Captured activations in spec order, forgotten here; capture stays closed until the next arm(True)."""
        acts = {n: self._acts[n] for n in self.names if n in self._acts}
        self._acts = {}
        self._open = False
        return acts

    def close(self) -> None:
        """Remove every hook and give hooked attention modules back their own fused_attn setting."""
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self._acts = {}
        self.armed = self._open = False
        for attn, fused in self._fused.items():
            attn.fused_attn = fused
