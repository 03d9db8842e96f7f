"""`--profile auto`: full only when its data and GPUs are present, otherwise local, with one line saying why."""

from __future__ import annotations

from studies.assembly.assemble import UsageError, build_study
from trainables.config import TrainConfig
from trainables.data import DataError, check_root


def missing_data(cfg: TrainConfig) -> str | None:
    """Why `cfg`'s dataset cannot be read (one line), or None when it can."""
    try:
        check_root(cfg.data.name, cfg.data.root)
    except DataError as err:
        return str(err)
    return None


def gpu_shortfall(gpus_per_trial: float, gpus: float) -> str | None:
    if gpus_per_trial > gpus:
        return f"profile full needs {gpus_per_trial:g} GPU per trial; the Ray cluster has {gpus:g}"
    return None


def choose_profile(requested: str, module, sets: dict[str, str], gpus: float,
                   seeds: tuple[int, ...] | None = None) -> tuple[str, str]:
    """(profile, why) for the banner; raises UsageError when `full` was asked for and cannot run."""
    if requested == "local":
        return "local", "asked for with --profile local"
    if requested == "smoke":
        return "smoke", "asked for with --smoke: the full profile, shrunk to generated data, on CPU"
    full = build_study(module, "full", sets, None, seeds=seeds)
    why_not = missing_data(full.base) or gpu_shortfall(full.gpus_per_trial, gpus)
    if why_not is None:
        return "full", f"its data and {full.gpus_per_trial:g} GPU per trial are present"
    if requested == "full":
        raise UsageError(why_not)
    return "local", f"full is not possible here: {why_not}"


def data_line(cfg: TrainConfig) -> str:
    """'cifar100 at /abs/data' or 'mnist5k (embedded)': the banner's data."""
    return cfg.data.name + (f" at {cfg.data.root}" if cfg.data.root else " (embedded)")
