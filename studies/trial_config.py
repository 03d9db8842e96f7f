"""What configures a trial: hpstudy's trainer's `TrainConfig`, or a training function's own defaults (a flat dict of
name -> default, each value typed by its default). One set of operations on either, so the study's build, its dry
run and its tracking read one way; `kind(base)` picks the one for a study's base.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trainables.config import TrainConfig
from trainables.config.overrides import ConfigError, apply_overrides, coerce, flatten
from trainables.config.paths import absolute_paths

SEED_KEY = "seed"  # studies.study.SEED_KEY: the replicates' key
OWN_SEED_DEFAULT = 0  # a function's seed when its defaults name none: `trial.seed`


class Builtin:
    """hpstudy's trainer: a TrainConfig, changed through its strict dotted keys, 'auto' values resolved."""

    own = False

    @staticmethod
    def apply(base: TrainConfig, overrides: Mapping[str, Any]) -> TrainConfig:
        return apply_overrides(base, overrides)

    @staticmethod
    def absolute(base: TrainConfig) -> TrainConfig:
        return absolute_paths(base)

    @staticmethod
    def resolved(base: TrainConfig, overrides: Mapping[str, Any]) -> TrainConfig:
        from trainables.defaults import resolve  # imports the tasks and models: only where a config is resolved

        return resolve(apply_overrides(base, overrides))

    @staticmethod
    def flat(cfg: TrainConfig) -> dict[str, Any]:
        return flatten(cfg)

    @staticmethod
    def seed(cfg: TrainConfig) -> int:
        return cfg.seed

    @staticmethod
    def epochs(cfg: TrainConfig) -> int | None:
        return cfg.epochs


class Own:
    """A training function's defaults: keys as given, each override typed by its default (a default of None takes
    any value); an unknown key or a value of the wrong type is a ConfigError naming it."""

    own = True

    @staticmethod
    def apply(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(base)
        for key, value in overrides.items():
            if key == SEED_KEY and key not in out:  # every trial has a seed (--seeds), named in the defaults or not
                out[key] = _typed(value, OWN_SEED_DEFAULT, key)
                continue
            if key not in out:
                raise ConfigError(f"unknown config key {key!r}: the training function's defaults are "
                                  f"{', '.join(sorted(out)) or 'none'}")
            out[key] = _typed(value, out[key], key)
        return out

    @staticmethod
    def absolute(base: Mapping[str, Any]) -> dict[str, Any]:
        # its values are its own, paths too: a trial runs in the study's folder (studies.tune.cluster, on this machine)
        return dict(base)

    @staticmethod
    def resolved(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
        return Own.apply(base, overrides)

    @staticmethod
    def flat(cfg: Mapping[str, Any]) -> dict[str, Any]:
        return dict(cfg)

    @staticmethod
    def seed(cfg: Mapping[str, Any]) -> int:
        return int(cfg.get(SEED_KEY, OWN_SEED_DEFAULT))

    @staticmethod
    def epochs(cfg: Mapping[str, Any]) -> int | None:
        value = cfg.get("epochs")
        return value if isinstance(value, int) and not isinstance(value, bool) else None


def _typed(value: Any, default: Any, key: str) -> Any:
    if default is None:
        return value
    if isinstance(default, tuple):
        return coerce(value, tuple[type(default[0]) if default else str, ...], key)
    return coerce(value, type(default), key)


def kind(base: Any) -> type[Builtin] | type[Own]:
    """The operations for a study's base: a TrainConfig is hpstudy's trainer's, a mapping a function's own."""
    if isinstance(base, TrainConfig):
        return Builtin
    if isinstance(base, Mapping) and all(isinstance(k, str) for k in base):
        return Own
    raise ConfigError(f"a study's base is a TrainConfig (hpstudy's trainer) or a dict of a training function's "
                      f"defaults, got {type(base).__name__}")


def check_defaults(defaults: Mapping[str, Any]) -> None:
    """A function's defaults: each value one --set can type (bool, int, float, str, a tuple of one of them, or None)."""
    for key, value in defaults.items():
        plain = (bool, int, float, str, type(None))
        if isinstance(value, tuple) and all(isinstance(v, plain) for v in value):
            continue
        if not isinstance(value, plain):
            raise ConfigError(f"default {key}={value!r}: a training function's defaults are bool, int, float, str, "
                              "a tuple of them, or None (what --set and a search space can give)")
