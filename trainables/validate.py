"""Up-front checks of a config's named choices and ranges, so bad input fails before any trial starts."""

from __future__ import annotations

import timm

from trainables.config import TrainConfig
from trainables.data import DATASETS, check_root
from trainables.optim import OPTIMIZERS
from trainables.init import check as check_init
from trainables.overrides import ConfigError
from trainables.parts import WEIGHTINGS
from trainables.recipe.mixing import check as _check_recipe
from trainables.robustness.evaluate import resolve_corruptions
from trainables.precision import PRECISIONS
from trainables.schedules import DECAYS
from trainables.ses import SCHEDULES
from trainables.ses.targets import TARGETS
from trainables.ses.entropy import UNREACHABLE_MODES


def _choice(key: str, value: str, valid) -> None:
    if value not in valid:
        raise ConfigError(f"{key}: {value!r} is not one of {', '.join(valid)}")


def _positive(key: str, value: float) -> None:
    if not value > 0:
        raise ConfigError(f"{key}: expected a value > 0, got {value!r}")


def validate(cfg: TrainConfig, *, check_data: bool = True) -> None:
    """Raise ConfigError (one line, naming key and value) for anything the run would only trip over later."""
    _choice("data.name", cfg.data.name, DATASETS)
    _choice("optim.name", cfg.optim.name, tuple(OPTIMIZERS))
    _choice("sched.name", cfg.sched.name, DECAYS)
    _choice("precision", cfg.precision, PRECISIONS)
    _choice("device", cfg.device, ("auto", "cpu", "cuda"))
    _choice("ses.beta_schedule", cfg.ses.beta_schedule, tuple(SCHEDULES))
    _choice("ses.on_unreachable", cfg.ses.on_unreachable, tuple(UNREACHABLE_MODES))
    if not cfg.ses.targets:
        raise ConfigError(f"ses.targets: expected one or more of {', '.join(TARGETS)}, got none")
    for target in cfg.ses.targets:
        _choice("ses.targets", target, TARGETS)
    if cfg.model.name != "small_cnn" and not timm.is_model(cfg.model.name):
        raise ConfigError(f"model.name: {cfg.model.name!r} is neither 'small_cnn' nor a timm model name")
    for key, value in (("epochs", cfg.epochs), ("optim.lr", cfg.optim.lr), ("data.batch_size", cfg.data.batch_size),
                       ("ses.every_k", cfg.ses.every_k)):
        _positive(key, value)
    if cfg.data.image_size < 0 or 0 < cfg.data.image_size < 8:
        raise ConfigError(f"data.image_size: expected 0 (the dataset's own) or >= 8 pixels, "
                          f"got {cfg.data.image_size!r}")
    if cfg.data.image_size and cfg.data.name != "imagefolder":
        raise ConfigError(f"data.image_size: only imagefolder images are resized; {cfg.data.name} keeps its own "
                          f"size, so leave it at 0 (got {cfg.data.image_size!r})")
    if not 0 <= cfg.data.val_fraction < 1:
        raise ConfigError(f"data.val_fraction: expected 0 <= value < 1, got {cfg.data.val_fraction!r}")
    if not 0 <= cfg.model.drop_rate < 1:
        raise ConfigError(f"model.drop_rate: expected 0 <= value < 1, got {cfg.model.drop_rate!r}")
    _choice("loss_weighting", cfg.loss_weighting, WEIGHTINGS)
    if len(cfg.log_var_bounds) != 2 or not cfg.log_var_bounds[0] < cfg.log_var_bounds[1]:
        raise ConfigError(f"log_var_bounds: expected (low, high) with low < high, got {cfg.log_var_bounds!r}")
    if not 0 < cfg.ema.decay < 1:
        raise ConfigError(f"ema.decay: expected 0 < value < 1, got {cfg.ema.decay!r}")
    if cfg.accum_steps < 1:
        raise ConfigError(f"accum_steps: expected an integer >= 1, got {cfg.accum_steps!r}")
    try:
        _check_recipe(cfg.recipe)
    except ValueError as err:
        raise ConfigError(f"recipe: {err}") from None
    check_init(cfg.init)
    if cfg.rob.enabled:
        try:  # channels are known only once the data is read: `saturate` on grayscale fails at the trial's start
            resolve_corruptions(cfg.rob, 3)
        except ValueError as err:
            raise ConfigError(f"rob: {err}") from None
    if check_data:
        check_root(cfg.data.name, cfg.data.root)
