"""A replication policy: how many seeds a comparison may take before it must be decided (`--seeds auto`).

Plain data, checked when it is made; `analysis.sequential` judges comparisons under it and `studies.cli.waves`
trains the seeds it asks for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from hpstudy.schema.errors import BadInput


class PolicyError(BadInput):
    """A replication policy that cannot run; one line naming the value."""


@dataclass(frozen=True)
class Replication:
    """How many seeds a comparison may take: `minimum` first, then `wave` more at a time up to `maximum`; `delta`
    is the equivalence margin in the metric's own units (0.005 = 0.5 pp of an accuracy in [0, 1]); `alpha` bounds
    the chance of any wrong decision over all looks."""

    minimum: int = 3
    maximum: int = 10
    delta: float = 0.005
    alpha: float = 0.05
    wave: int = 1

    def __post_init__(self) -> None:
        problems = []
        for name in ("minimum", "maximum", "wave"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                problems.append(f"{name}={value!r} is not an integer")
        if problems:
            raise PolicyError("replication policy: " + "; ".join(problems))
        if self.minimum < 2:
            problems.append(f"minimum={self.minimum} is below 2 (a paired SD needs two pairs)")
        if self.maximum < self.minimum:
            problems.append(f"minimum={self.minimum} is above maximum={self.maximum}")
        if self.wave < 1:
            problems.append(f"wave={self.wave} is below 1")
        if not (isinstance(self.delta, (int, float)) and math.isfinite(self.delta) and self.delta > 0):
            problems.append(f"delta={self.delta!r} is not a number > 0 (the equivalence margin, in the metric's units)")
        if not (isinstance(self.alpha, (int, float)) and 0 < self.alpha < 1):
            problems.append(f"alpha={self.alpha!r} is not in (0, 1)")
        if problems:
            raise PolicyError("replication policy: " + "; ".join(problems))

    def looks(self) -> tuple[int, ...]:
        """The numbers of pairs at which comparisons are judged: minimum, minimum + wave, ..., maximum."""
        ns = list(range(self.minimum, self.maximum + 1, self.wave))
        return tuple(ns if ns[-1] == self.maximum else [*ns, self.maximum])

    def next_look(self, n: int) -> int | None:
        """The look after `n` pairs (None at or past the maximum)."""
        return next((k for k in self.looks() if k > n), None)


FIELDS = ("minimum", "maximum", "delta", "alpha", "wave")


def parse_policy(text: str, base: Replication | None = None) -> Replication:
    """'minimum=3,maximum=12,delta=0.005' (`--replication`) -> `base` (default: Replication()) with those fields."""
    values = {}
    for item in (i.strip() for i in text.split(",")):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or key not in FIELDS:
            raise PolicyError(f"--replication {text!r}: {item!r} is not KEY=VALUE with KEY one of {', '.join(FIELDS)}")
        try:
            values[key] = float(value) if key in ("delta", "alpha") else int(value)
        except ValueError:
            raise PolicyError(f"--replication {text!r}: {key}={value.strip()!r} is not "
                              f"{'a number' if key in ('delta', 'alpha') else 'an integer'}") from None
    return replace(base or Replication(), **values)
