"""The parameter kinds a space is made of; keys are config override keys (`optim.lr`), values one of these.

`Variants` is a grid over named configurations (a baseline and its alternatives), the unit of a sweep's table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

VARIANT_KEY = "variant"  # the param-space key under which `Variants` live
NAME_KEY = "name"  # a variant's label, shown in tables; not a config key


@dataclass(frozen=True)
class LogUniform:
    low: float
    high: float

    def __post_init__(self) -> None:
        if not 0 < self.low < self.high:
            raise ValueError(f"LogUniform needs 0 < low < high, but got ({self.low=}, {self.high=}).")


@dataclass(frozen=True)
class Uniform:
    low: float
    high: float

    def __post_init__(self) -> None:
        if not self.low < self.high:
            raise ValueError(f"Uniform needs low < high, but got ({self.low=}, {self.high=}).")


@dataclass(frozen=True)
class IntRange:
    low: int
    high: int  # inclusive

    def __post_init__(self) -> None:
        if not self.low <= self.high:
            raise ValueError(f"IntRange needs low <= high, but got ({self.low=}, {self.high=}).")


@dataclass(frozen=True)
class Choice:
    values: tuple


@dataclass(frozen=True)
class Grid:
    """Every value is run (crossed with the space's other grids)."""

    values: tuple


@dataclass(frozen=True)
class Variants:
    """Named configurations, each a dict of overrides plus its `name`; run as a grid."""

    configs: tuple[dict[str, Any], ...]

    def __post_init__(self) -> None:
        names = [c.get(NAME_KEY) for c in self.configs]
        if None in names or len(set(names)) != len(names):
            raise ValueError(f"every variant needs a unique '{NAME_KEY}', but got names {names}")


def to_overrides(trial_config: Mapping[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """A sampled trial config -> (variant name or None, flat override dict for `apply_overrides`)."""
    overrides = {k: v for k, v in trial_config.items() if k != VARIANT_KEY}
    variant = dict(trial_config.get(VARIANT_KEY) or {})
    name = variant.pop(NAME_KEY, None)
    return name, {**variant, **overrides}
