"""What SES hooks inside each selected layer: the layer's output, or on a ViT block its attention output or weights.

`hook_specs` turns (selected layers, ses.targets) into `HookSpec`s that `ActivationCapture` registers.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

TARGETS = ("block", "attn_out", "attn_weights")  # seed 001 Exp 18: block output, attention sub-layer, softmax weights
KINDS = ("output", "attn_weights")


@dataclass(frozen=True)
class HookSpec:
    """One captured tensor: `label` names it in metrics (ses/entropy/<label>); `module` is what gets hooked."""

    label: str
    module: str
    kind: str = "output"  # output: the module's pooled output | attn_weights: the input of timm's attn_drop
    unfuse: str = ""  # an Attention module whose fused (weight-less) path must be off while capturing


def check_targets(targets: tuple[str, ...]) -> tuple[str, ...]:
    """ses.targets without duplicates, in TARGETS order; a ValueError names unknown ones and the valid set."""
    unknown = [t for t in targets if t not in TARGETS]
    if unknown or not targets:
        raise ValueError(
            f"ses.targets={tuple(targets)!r}: unknown or empty (bad: {unknown}); valid: {', '.join(TARGETS)}"
        )
    return tuple(t for t in TARGETS if t in targets)


def hook_specs(model: nn.Module, layers: list[str], targets: tuple[str, ...]) -> list[HookSpec]:
    """The HookSpecs for the selected layers: each layer itself for "block"; ViT blocks' attention for the rest."""
    targets = check_targets(targets)
    if targets == ("block",):
        return [HookSpec(name, name) for name in layers]
    from timm.layers import Attention  # timm (with torchvision) takes ~1.5 s to import: only a run that uses it pays
    from timm.models.vision_transformer import VisionTransformer

    if not isinstance(model, VisionTransformer):
        raise ValueError(
            f"ses.targets={targets!r}: attn_out and attn_weights need a timm VisionTransformer, "
            f"but the model is a {type(model).__name__}; use ses.targets=block"
        )
    modules = dict(model.named_modules())
    blocks = {f"blocks.{i}" for i in range(len(model.blocks))}
    specs: list[HookSpec] = []
    for name in layers:
        if name not in blocks:
            raise ValueError(
                f"ses.targets={targets!r} needs ViT blocks in ses.layers (blocks.0 .. blocks.{len(blocks) - 1}), "
                f"got {name!r}"
            )
        attn = modules.get(f"{name}.attn")
        # Forward order: the weights exist before the attention output, which exists before the block output.
        if "attn_weights" in targets:
            if not isinstance(attn, Attention):
                raise ValueError(
                    f"ses.targets attn_weights: {name}.attn is a {type(attn).__name__}, not timm's Attention, "
                    f"whose non-fused path exposes the softmax weights"
                )
            specs.append(HookSpec(f"{name}.attn.weights", f"{name}.attn.attn_drop", "attn_weights", f"{name}.attn"))
        if "attn_out" in targets:
            if attn is None:
                raise ValueError(f"ses.targets attn_out: {name} ({type(modules[name]).__name__}) has no .attn module")
            specs.append(HookSpec(f"{name}.attn", f"{name}.attn"))
        if "block" in targets:
            specs.append(HookSpec(name, name))
    return specs
