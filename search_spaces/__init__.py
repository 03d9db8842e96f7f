"""Declarative search spaces: what a study varies, with no dependence on the tuner that samples it."""

from search_spaces.params import Choice, Grid, IntRange, LogUniform, Uniform, Variants, to_overrides
from search_spaces.recipe import lr_warmup_dropout_space, seg_lr_warmup_dropout_space
from search_spaces.ses import ses_beta_variants

__all__ = [
    "Choice", "Grid", "IntRange", "LogUniform", "Uniform", "Variants", "lr_warmup_dropout_space",
    "seg_lr_warmup_dropout_space", "ses_beta_variants", "to_overrides",
]
