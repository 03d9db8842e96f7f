"""Training-recipe parts (ResNet-Strikes-Back style), each built once from the config and handed to the loop:
mixing with its matching loss, an EMA of the weights, and batched on-device RandAugment.
"""

from trainables.recipe.ema import build_ema
from trainables.recipe.mixing import MixFn, TargetsAndLoss, build_targets_and_loss
from trainables.recipe.randaugment import OPS, RandAugmentBatch, apply_op

__all__ = ["OPS", "MixFn", "RandAugmentBatch", "TargetsAndLoss", "apply_op", "build_ema", "build_targets_and_loss"]
