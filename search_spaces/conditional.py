"""Conditional parameters: a choice whose options carry their own sub-space (a beta schedule's endpoints exist only
for the schedules that use them), what applies to one assignment, and the checks a conditional space must pass.

    space = {"ses.enabled": Conditional({False: {}, True: {
        "ses.lam": LogUniform(1e-3, 1e-1),
        "ses.beta_schedule": Conditional({"fixed": {"ses.beta": Uniform(0.3, 0.9)},
                                          "linear": {"ses.beta_start": Uniform(0.1, 0.5), "ses.beta_end": ...}}),
    }})}
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from search_spaces.distributions import Choice, Grid, IntRange, LogUniform, Uniform, Variants

OPTION_TYPES = (bool, int, float, str, type(None))  # what a categorical parameter may hold (Optuna's rule, too)
Condition = tuple[tuple[str, Any], ...]  # ((choice key, its value), ...) from the outside in; () at the top


@dataclass(frozen=True)
class Conditional:
    """Under its key, one of `options` is chosen; only that option's sub-space (override key -> parameter or
    constant, itself possibly holding more `Conditional`s) applies to the trial."""

    options: Mapping[Any, Mapping[str, Any]]

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", {value: dict(sub) for value, sub in dict(self.options).items()})
        if not self.options:
            raise ValueError("Conditional needs at least one option, but got options={}.")
        for value, sub in self.options.items():
            if not isinstance(value, OPTION_TYPES):
                raise TypeError(f"Conditional options must be bool, int, float, str or None, but got {value!r} "
                                f"of type {type(value).__name__}.")
            for key, param in sub.items():
                if isinstance(param, (Grid, Variants)):
                    raise TypeError(f"option {value!r}: {key!r} is a {type(param).__name__}, which cannot be "
                                    "conditional (a grid runs every value); use Choice")
            _check_scope(sub, ((_OPTION, value),))

    def __hash__(self) -> int:  # frozen, but `options` is a dict: hash what it holds
        return hash(tuple((value, tuple(sub.items())) for value, sub in self.options.items()))


_OPTION = "option"  # a Conditional checked on its own, where its key is not known yet
PARAMS = (Choice, Conditional, Grid, IntRange, LogUniform, Uniform, Variants)  # sampled; anything else is a constant


def walk(space: Mapping[str, Any], condition: Condition = ()) -> Iterator[tuple[str, Any, Condition]]:
    """(key, parameter or constant, the condition it applies under) for every declaration, sub-spaces included."""
    for key, value in space.items():
        yield key, value, condition
        if isinstance(value, Conditional):
            for option, sub in value.options.items():
                yield from walk(sub, (*condition, (key, option)))


def describe(condition: Condition) -> str:
    """'ses.enabled=True, ses.beta_schedule='linear'' (or 'the top level')."""
    return ", ".join(f"{key}={value!r}" for key, value in condition) or "the top level"


def validate_space(space: Mapping[str, Any], *, known_keys: Iterable[str] | None = None) -> None:
    """Raises a one-line ValueError for a key that is not a config key (with `known_keys`; the nearest one is
    suggested) or a key that two declarations could both set on one trial."""
    _check_scope(space, ())
    if known_keys is None:
        return
    known = set(known_keys)
    for key, _, condition in walk(space):
        if key not in known:
            near = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ValueError(f"search space: unknown key {key!r} under {describe(condition)}{hint}")


def applied(space: Mapping[str, Any], assignment: Mapping[str, Any]) -> dict[str, Any]:
    """The overrides one trial gets: for each key that applies under the assignment's choices, its assigned value
    (a constant's own); keys of options not taken are left out, even when the assignment holds them."""
    out: dict[str, Any] = {}
    _apply(space, assignment, (), out)
    return out


def _apply(space: Mapping[str, Any], assignment: Mapping[str, Any], condition: Condition,
           out: dict[str, Any]) -> None:
    for key, param in space.items():
        if not isinstance(param, PARAMS):
            out[key] = param
            continue
        if key not in assignment:
            raise ValueError(f"assignment has no value for {key!r}, which applies under {describe(condition)}")
        out[key] = value = assignment[key]
        if isinstance(param, Conditional):
            if value not in param.options:
                raise ValueError(f"{key}={value!r} is not one of its options {list(param.options)}")
            _apply(param.options[value], assignment, (*condition, (key, value)), out)


def _keys(space: Mapping[str, Any]) -> dict[str, set[str]]:
    """Each top key of `space` -> every key it can set: itself and, for a Conditional, all its options' keys."""
    return {key: {key}.union(*(k for sub in param.options.values() for k in _keys(sub).values()))
            if isinstance(param, Conditional) else {key} for key, param in space.items()}


def _check_scope(space: Mapping[str, Any], condition: Condition) -> None:
    """Keys are non-empty strings, and no two declarations that can apply together set the same key."""
    seen: dict[str, str] = {}
    for top, keys in _keys(space).items():
        if not isinstance(top, str) or not top:
            raise ValueError(f"search space keys are config override keys, but got {top!r} under "
                             f"{describe(condition)}")
        for key in keys:
            if key in seen:
                raise ValueError(f"search space: {key!r} can be set twice on one trial, by {seen[key]!r} and by "
                                 f"{top!r} (under {describe(condition)})")
            seen[key] = top
    for key, param in space.items():
        if isinstance(param, Conditional):
            for option, sub in param.options.items():
                if any(key in keys for keys in _keys(sub).values()):
                    raise ValueError(f"search space: {key!r} is set again inside its own option {option!r}")
                _check_scope(sub, (*condition, (key, option)))
