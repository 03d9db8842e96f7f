"""An example of a task of your own: classification trained with the focal loss, scored by accuracy and by the
mean probability of the true class. Run it with `--set task.module=focal:FocalClassification`
(docs/guide/your-own-code.md, "Your own task"); the module must be importable where trials run (here:
PYTHONPATH=examples/tasks).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from hpstudy.schema.metrics import MetricSpec
from trainables.config import ModelConfig, TrainConfig
from trainables.models.by_name import build_model
from trainables.tasks import Task, TrainTargets
from trainables.watch.meters import Means

GAMMA = 2.0  # focusing parameter of Lin et al. (2017): 0 is plain cross-entropy; `--set task.options.gamma=1`


def focal_loss(logits: Tensor, y: Tensor, gamma: float = GAMMA) -> dict[str, Tensor]:
    log_p = F.log_softmax(logits.float(), 1).gather(1, y[:, None]).squeeze(1)
    ce = -log_p
    return {"loss": ((1 - log_p.exp()) ** gamma * ce).mean(), "loss_ce": ce.mean()}


class _Meter:
    def __init__(self, device: torch.device, gamma: float) -> None:
        self.means, self.gamma = Means(device), gamma

    def update(self, logits: Tensor, y: Tensor, loss: Tensor | None = None) -> None:
        n = y.numel()
        loss = focal_loss(logits, y, self.gamma)["loss"] if loss is None else loss
        self.means.add("loss", loss.detach() * n, n)
        self.means.add("acc", (logits.argmax(1) == y).sum(), n)
        self.means.add("p_true", F.softmax(logits.float(), 1).gather(1, y[:, None]).sum(), n)

    def result(self) -> dict[str, float]:
        return self.means.result()

    def count(self) -> int:
        return self.means.count("acc")


class FocalClassification(Task):
    name = "focal_classification"
    data_kind = "labels"  # reads the datasets classification reads (mnist5k, cifar10, ...)
    metrics = (MetricSpec("acc", "max", "fraction", "top-1 accuracy"),
               MetricSpec("p_true", "max", "fraction", "mean softmax probability of the true class"))
    options = {"gamma": GAMMA}  # its own setting: --set task.options.gamma=1, or a search space over it

    def build_model(self, cfg: ModelConfig, data, *, grad_checkpointing: bool) -> nn.Module:
        return build_model(cfg, num_classes=data.num_classes, in_chans=data.in_chans, image_size=data.image_size,
                           grad_checkpointing=grad_checkpointing)

    def train_targets(self, cfg: TrainConfig, data, *, batch_size: int) -> TrainTargets:
        gamma = float(self.option("gamma"))
        return TrainTargets(None, lambda logits, y: focal_loss(logits, y, gamma))  # no mixing: `supports` is empty

    def meter(self, device: torch.device, data) -> _Meter:
        return _Meter(device, float(self.option("gamma")))

    def chance(self, data) -> float:
        return 1.0 / data.num_classes
