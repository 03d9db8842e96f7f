"""`--profile auto`: full only when its data and GPUs are present, otherwise local, with one line saying why."""

from __future__ import annotations

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
