"""`tabular_mlp`: a funnel MLP for feature vectors (data.name=breast_cancer), seed 004's dense classifier.

Unlike `toy_mlp` (dropout before the head only, fixed 64-wide), dropout follows every hidden layer, as tabular
MLPs are usually regularized; its hidden layers are SES's hook points.
"""

from __future__ import annotations

from torch import Tensor, nn

from trainables.config import ModelConfig
from trainables.models.toy import check_vector_model, hidden_layer

TABULAR_MLP = "tabular_mlp"  # model.name
WIDTHS = (64, 32)  # hidden units: 30 features -> 64 -> 32 -> classes, ~4.1k weights (569 rows: small on purpose)


class TabularMLP(nn.Module):
    """Linear-ReLU hidden layers of WIDTHS units, each followed by dropout, then a linear head `fc`."""

    hook_points = [f"hidden{i}" for i in range(1, len(WIDTHS) + 1)]  # SES `layers=all`: post-ReLU activations

    def __init__(self, num_classes: int, in_features: int, drop_rate: float = 0.0) -> None:
        super().__init__()
        widths = (in_features, *WIDTHS)
        for i, name in enumerate(self.hook_points):
            self.add_module(name, hidden_layer(widths[i], widths[i + 1]))
        self.drop = nn.Dropout(drop_rate)  # stateless: one module serves every hidden layer
        self.fc = nn.Linear(WIDTHS[-1], num_classes)

    def forward(self, x: Tensor) -> Tensor:
        for name in self.hook_points:
            x = self.drop(getattr(self, name)(x))
        return self.fc(x)


def build_tabular_mlp(cfg: ModelConfig, *, num_classes: int, in_features: int, image_size: int,
                      grad_checkpointing: bool = False) -> TabularMLP:
    """A TabularMLP for vector data (`image_size` 0); ValueError for images or checkpointing."""
    check_vector_model(TABULAR_MLP, "feature vectors (data.name=breast_cancer)", image_size, grad_checkpointing)
    return TabularMLP(num_classes, in_features, cfg.drop_rate)
