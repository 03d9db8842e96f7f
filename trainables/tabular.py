"""`tabular_mlp`: a funnel MLP for feature vectors (data.name=breast_cancer), seed 004's dense classifier.

Unlike `toy_mlp` (dropout before the head only, fixed 64-wide), dropout follows every hidden layer, as tabular
MLPs are usually regularized; its hidden layers are SES's hook points.
"""

from __future__ import annotations

from torch import Tensor, nn

from trainables.config import ModelConfig

TABULAR_MLP = "tabular_mlp"  # model.name
WIDTHS = (64, 32)  # hidden units: 30 features -> 64 -> 32 -> classes, ~4.1k weights (569 rows: small on purpose)


class TabularMLP(nn.Module):
    """Linear-ReLU hidden layers of WIDTHS units, each followed by dropout, then a linear head `fc`."""

    hook_points = [f"hidden{i}" for i in range(1, len(WIDTHS) + 1)]  # SES `layers=all`: post-ReLU activations

    def __init__(self, num_classes: int, in_features: int, drop_rate: float = 0.0) -> None:
        super().__init__()
        widths = (in_features, *WIDTHS)
        for i, name in enumerate(self.hook_points):
            # Not in place: torch.func (the κ(J) metric) and the SES hook both read the activation after the ReLU.
            self.add_module(name, nn.Sequential(nn.Linear(widths[i], widths[i + 1]), nn.ReLU()))
        self.drop = nn.Dropout(drop_rate)  # stateless: one module serves every hidden layer
        self.fc = nn.Linear(WIDTHS[-1], num_classes)

    def forward(self, x: Tensor) -> Tensor:
        for name in self.hook_points:
            x = self.drop(getattr(self, name)(x))
        return self.fc(x)


def build_tabular_mlp(cfg: ModelConfig, *, num_classes: int, in_features: int, image_size: int,
                      grad_checkpointing: bool = False) -> TabularMLP:
    """A TabularMLP for vector data (`image_size` 0); ValueError for images or checkpointing."""
    if image_size:
        raise ValueError(f"model.name={TABULAR_MLP}: takes feature vectors (data.name=breast_cancer), not "
                         f"{image_size}x{image_size} images")
    if grad_checkpointing:
        raise ValueError(f"grad_checkpointing: {TABULAR_MLP} does not support it (nothing to save); use a timm model")
    return TabularMLP(num_classes, in_features, cfg.drop_rate)
