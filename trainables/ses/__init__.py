"""Spectral Entropy Shaping (SES): a penalty pulling hooked layers' activation-spectrum entropy to beta*log(d).

The training loop needs only `build_ses(model, cfg.ses, total_steps)` and the object it returns.
"""

from trainables.ses.beta import SCHEDULES, beta_at
from trainables.ses.entropy import max_entropy, spectral_entropies, spectral_entropy, target_entropy
from trainables.ses.hooks import ActivationCapture, hook_points, pool, pool_attention, select_layers
from trainables.ses.regularizer import NoSES, SESRegularizer, build_ses
from trainables.ses.targets import TARGETS, HookSpec, check_targets, hook_specs

__all__ = [
    "SCHEDULES",
    "TARGETS",
    "ActivationCapture",
    "HookSpec",
    "NoSES",
    "SESRegularizer",
    "beta_at",
    "build_ses",
    "check_targets",
    "hook_specs",
    "hook_points",
    "max_entropy",
    "pool",
    "pool_attention",
    "select_layers",
    "spectral_entropies",
    "spectral_entropy",
    "target_entropy",
]
