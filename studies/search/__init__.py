"""How a study searches: Optuna's samplers told each trial's true ending, replicates told as one
trial, multi-objective ASHA. Pure rules (endings, mo_rungs) beside their Ray Tune adapters."""
