"""Spectral Entropy Shaping (SES): a penalty pulling hooked layers' activation-spectrum entropy to beta*log(d).

The training loop needs only `build_ses(model, cfg.ses, total_steps)` and the object it returns.
"""

from trainables.ses.beta import SCHEDULES, beta_at
from trainables.ses.entropy import max_entropy, spectral_entropies, spectral_entropy, target_entropy
from trainables.ses.hooks import ActivationCapture, hook_points, select_layers
from trainables.ses.regularizer import NoSES, SESRegularizer, build_ses

__all__ = [
    "SCHEDULES",
    "ActivationCapture",
    "NoSES",
    "SESRegularizer",
    "beta_at",
    "build_ses",
    "hook_points",
    "max_entropy",
    "select_layers",
    "spectral_entropies",
    "spectral_entropy",
    "target_entropy",
]
