"""`--profile auto`: full only when its data and GPUs are present, otherwise local, with one line saying why."""

from __future__ import annotations

from studies.assembly import pretrain
from studies.study import Study
from studies.trial_config import kind
from trainables.config import TrainConfig
from trainables.data import DataError, check_root

WHY_LOCAL = "asked for with --profile local"
WHY_SMOKE = "asked for with --smoke: the full profile, shrunk to generated data, on CPU"


def missing_data(cfg: TrainConfig | dict) -> str | None:
    """Why `cfg`'s dataset cannot be read (one line), or None when it can (or a training function reads its own)."""
    if kind(cfg).own:
        return None
    try:
        check_root(cfg.data.name, cfg.data.root)
    except DataError as err:
        return str(err)
    return None


def data_problem(study: Study) -> str | None:
    """Why the trials' data, or the pretraining's when it runs, cannot be read (one line), or None."""
    reason = missing_data(study.base)
    if reason is None and pretrain.runs(study):
        reason = missing_data(study.pretrain)
        reason = f"pretraining: {reason}" if reason else None
    return reason


def gpu_shortfall(gpus_per_trial: float, gpus: float) -> str | None:
    if gpus_per_trial > gpus:
        return f"profile full needs {gpus_per_trial:g} GPU per trial; the Ray cluster has {gpus:g}"
    return None


def full_blocker(full: Study, gpus: float) -> str | None:
    """Why the full profile cannot run on `gpus` GPUs here (its data, then its GPUs), or None when it can."""
    return missing_data(full.base) or gpu_shortfall(full.gpus_per_trial, gpus)


def data_line(cfg: TrainConfig | dict) -> str:
    """'cifar100 at /abs/data' or 'mnist5k (embedded)': the banner's data."""
    if kind(cfg).own:
        return "the training function's own"
    if cfg.data.name == "task":  # trainables.data.OWN_DATA: the task's read_data
        return f"the task's own ({cfg.task.module or cfg.task.name})"
    return cfg.data.name + (f" at {cfg.data.root}" if cfg.data.root else " (embedded)")
