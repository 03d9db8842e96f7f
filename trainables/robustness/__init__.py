"""Corruption robustness inside a trial: `rob/acc` on CIFAR-10-C-style corruptions of the validation images.

The loop needs only `build_robustness(cfg.rob, data)`: None when off, else an object with `.due(epoch, epochs)`
and `(predict) -> metrics`.
"""

from trainables.robustness.corruptions import COLOR_ONLY, CORRUPTIONS, SEVERITIES, applicable, corrupt
from trainables.robustness.evaluate import RobustnessEval, build_robustness, evaluate_robustness, resolve_corruptions

__all__ = [
    "COLOR_ONLY",
    "CORRUPTIONS",
    "SEVERITIES",
    "RobustnessEval",
    "applicable",
    "build_robustness",
    "corrupt",
    "evaluate_robustness",
    "resolve_corruptions",
]
