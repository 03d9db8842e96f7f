"""Declarative search spaces: what a study varies, with no dependence on the tuner that samples it."""

from search_spaces.ablation import leave_one_out
from search_spaces.conditional import Conditional, applied, validate_space, walk
from search_spaces.distributions import Choice, Grid, IntRange, LogUniform, Uniform, Variants, to_overrides
from search_spaces.recipe import lr_warmup_dropout_space, seg_lr_warmup_dropout_space
from search_spaces.ses import ses_beta_schedule_space, ses_beta_variants

__all__ = [
    "Choice", "Conditional", "Grid", "IntRange", "LogUniform", "Uniform", "Variants", "applied", "leave_one_out",
    "lr_warmup_dropout_space", "seg_lr_warmup_dropout_space", "ses_beta_schedule_space", "ses_beta_variants",
    "to_overrides", "validate_space", "walk",
]
