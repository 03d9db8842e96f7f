"""What of a config MLflow records: as params, only the values that apply to the run; as YAML, all of it.

A trial with ses.enabled=False logs ses.enabled=False and no ses.beta: a value that changes nothing, logged like
one that does, would read as part of the configuration (and place the trial on a plot against ses.beta).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from trainables.config.overrides import OPEN, flatten

Flat = dict[str, Any]  # flatten(cfg): {"optim.lr": 0.1, ...}

_MIXING = ("recipe.mixup_alpha", "recipe.cutmix_alpha")
_BETA_RANGE = ("linear", "cosine", "reverse")

# section -> its switch: while the switch is off (False, or an empty path), no other key of the section applies.
SECTIONS = {"ses.": "ses.enabled", "ema.": "ema.enabled", "rob.": "rob.enabled", "init.": "init.checkpoint"}
# key -> does it apply (given that its section is on)?
APPLIES: dict[str, Callable[[Flat], bool]] = {
    "ses.beta": lambda c: c["ses.beta_schedule"] == "fixed",
    "ses.beta_start": lambda c: c["ses.beta_schedule"] in _BETA_RANGE,
    "ses.beta_end": lambda c: c["ses.beta_schedule"] in _BETA_RANGE,
    "ses.beta_steps": lambda c: c["ses.beta_schedule"] == "step",
    "init.keep": lambda c: c["init.mode"] == "continue",
    "init.allow_partial": lambda c: c["init.mode"] == "warm",
    "init.skip": lambda c: c["init.mode"] == "warm" and bool(c["init.skip"]),
    "recipe.mix_prob": lambda c: any(c[k] > 0 for k in _MIXING),
    "recipe.switch_prob": lambda c: all(c[k] > 0 for k in _MIXING),  # mixup vs cutmix: only with both on
    "recipe.randaugment_m": lambda c: c["recipe.randaugment_n"] > 0,
    "sched.eta_min": lambda c: c["sched.name"] in ("cosine", "poly"),
    "sched.milestones": lambda c: c["sched.name"] == "multistep",
    "sched.gamma": lambda c: c["sched.name"] == "multistep",
    "sched.power": lambda c: c["sched.name"] == "poly",
    "sched.warmup_start_factor": lambda c: c["sched.warmup_epochs"] > 0,
    "optim.momentum": lambda c: c["optim.name"] == "sgd",
    "optim.nesterov": lambda c: c["optim.name"] == "sgd",
    "monitor.min_delta": lambda c: c["monitor.patience"] > 0,
    "monitor.collapse_ratio": lambda c: c["monitor.collapse_epochs"] > 0,
    "log_var_bounds": lambda c: c["loss_weighting"] == "uncertainty",
    "task.dice_weight": lambda c: c["task.name"] == "segmentation" and not c["task.module"],
}


def applies(key: str, flat: Flat) -> bool:
    """Does `key`'s value change what this config trains? An empty value (no path, no module) says nothing."""
    if flat[key] == "":
        return False
    section = next((p for p in SECTIONS if key.startswith(p)), None)
    if section is not None and key != SECTIONS[section] and not flat[SECTIONS[section]]:
        return False
    check = APPLIES.get(key)
    return check is None or bool(check(flat))


def trial_params(cfg: Any) -> dict[str, Any]:
    """The resolved config's params that apply to it (the rest is in the trial's config.yaml)."""
    flat = flatten(cfg)
    return {k: v for k, v in flat.items() if applies(k, flat)}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


def config_dict(cfg: Any) -> dict[str, Any]:
    """The whole config as nested dicts of plain values (tuples as lists, task.options as a mapping), as YAML can
    write it."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        out[f.name] = (config_dict(value) if dataclasses.is_dataclass(value) else
                       {k: _plain(v) for k, v in value} if f.metadata.get(OPEN) else _plain(value))
    return out
