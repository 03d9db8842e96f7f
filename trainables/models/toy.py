"""`toy_mlp`: the small ReLU MLP of seed 001 Exp 4, trained on `toy2d`'s 2-D points with and without SES.

Its hidden layers are SES's default hook points, so `ses.layers=all` shapes every hidden activation.
"""

from __future__ import annotations

from torch import Tensor, nn

from trainables.config import ModelConfig

TOY_MLP = "toy_mlp"  # model.name
WIDTH = 64  # units per hidden layer: log 64 = 4.16 nats of room for SES's target beta * log d
DEPTH = 3  # hidden layers: 2 -> 64 -> 64 -> 64 -> classes


def hidden_layer(cin: int, cout: int) -> nn.Sequential:
    # Not in place: torch.func (the κ(J) metric) and the SES hook both read the activation after the ReLU.
    return nn.Sequential(nn.Linear(cin, cout), nn.ReLU())


class ToyMLP(nn.Module):
    """DEPTH Linear-ReLU layers of WIDTH units, dropout, a linear head: logits of (B, in_features) vectors."""

    hook_points = [f"hidden{i}" for i in range(1, DEPTH + 1)]  # SES `layers=all`: the post-ReLU activations

    def __init__(self, num_classes: int, in_features: int, drop_rate: float = 0.0) -> None:
        super().__init__()
        widths = [in_features] + [WIDTH] * DEPTH
        for i in range(DEPTH):
            self.add_module(f"hidden{i + 1}", hidden_layer(widths[i], widths[i + 1]))
        self.drop = nn.Dropout(drop_rate)
        self.fc = nn.Linear(WIDTH, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        for name in self.hook_points:
            x = getattr(self, name)(x)
        return self.fc(self.drop(x))


def build_toy_mlp(cfg: ModelConfig, *, num_classes: int, in_features: int, image_size: int,
                  grad_checkpointing: bool = False) -> ToyMLP:
    """A ToyMLP for vector data (`image_size` 0, e.g. data.name=toy2d); ValueError for images or checkpointing."""
    check_vector_model(TOY_MLP, "2-D points (data.name=toy2d)", image_size, grad_checkpointing)
    return ToyMLP(num_classes, in_features, cfg.drop_rate)


def check_vector_model(name: str, takes: str, image_size: int, grad_checkpointing: bool) -> None:
    """ValueError when an MLP over vectors (`takes` them) is given images, or asked to checkpoint activations."""
    if image_size:
        raise ValueError(f"model.name={name}: takes {takes}, not {image_size}x{image_size} images")
    if grad_checkpointing:
        raise ValueError(f"grad_checkpointing: {name} does not support it (nothing to save); use a timm model")
