"""Seed 000's corrected recipe, each fix taken away alone: the leave-one-out ablation of `rsb_fixes_ablation`.

`rsb_fixes_ablation` adds each fix to the seed's broken recipe alone; this study starts from all of them (the
corrected recipe, the baseline here) and reverts one at a time (`search_spaces.leave_one_out`): each arm's Δ is what
that fix is worth in the company of the others, and the report's Holm-adjusted p holds the family's error rate.
The soft-target fix is one group (the loss and the smoothing it replaces go together); `reference` reverts
everything: the seed's broken recipe, the whole gain. Setup, data and the EMA reading: as rsb_fixes_ablation's.
"""

from __future__ import annotations

from dataclasses import replace

from search_spaces import Grid, leave_one_out
from studies.catalog.rsb_fixes_ablation import ALL_FIXES, LOCAL, LOCAL_SEEDS, METRIC, SEED_RECIPE, SEEDS, SOFT_TARGET
from studies.study import Study
from trainables.config.overrides import flatten

DESCRIPTION = ("ResNet Strikes Back fixes, leave-one-out: the corrected recipe with each fix reverted alone, "
               "Holm-adjusted (seed 000)")
SEED = "000"
EXPERIMENT = "the four fixes, leave-one-out"

BROKEN = {key: flatten(SEED_RECIPE)[key] for key in ALL_FIXES}  # the seed recipe's values of the keys the fixes set
VARIANTS = leave_one_out(ALL_FIXES, BROKEN, groups={"soft_target": list(SOFT_TARGET),
                                                    "randaugment": ["recipe.randaugment_n", "recipe.randaugment_m"],
                                                    "no_decay_norm_bias": ["optim.decay_norm_bias"]},
                         best_name="all_fixes", reference_name="seed_recipe")


def get_study(profile: str) -> Study:
    study = Study(
        profile=profile, base=SEED_RECIPE, space={"variant": VARIANTS, "seed": Grid(SEEDS)}, search="grid",
        metric=METRIC, mode="max", asha=None,  # paired with the corrected recipe seed by seed
        baseline="all_fixes", gpus_per_trial=1.0, cpus_per_trial=8.0,
    )
    if profile == "local":
        study = replace(study, base=LOCAL, space={**study.space, "seed": Grid(LOCAL_SEEDS)}, gpus_per_trial=0.0,
                        cpus_per_trial=1.0)
    return study
