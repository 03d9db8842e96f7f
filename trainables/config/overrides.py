"""The one strict way to change a config: dotted keys (`optim.lr=0.05`) checked against the dataclass fields.

Unknown keys, values of the wrong type and non-finite floats (inf, nan) are rejected with a one-line `ConfigError`
that names them.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from hpstudy.schema.errors import BadInput

C = TypeVar("C")
OPEN = "open"  # field metadata: a section of (name, value) pairs whose names its owner checks, not the dataclass

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class ConfigError(BadInput):
    """A config key or value that does not fit the dataclass; the message is one line."""


def parse_set_args(items: list[str]) -> dict[str, str]:
    """`["optim.lr=0.05", "ses.enabled=true"]` -> {"optim.lr": "0.05", ...}; values stay strings until typed."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects KEY=VALUE (e.g. optim.lr=0.05), got {item!r}")
        out[key.strip()] = value.strip()
    return out


def flatten(cfg: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dataclass -> {"optim.lr": 0.1, ...}: the names `--set` accepts and MLflow params use."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if dataclasses.is_dataclass(value):
            out.update(flatten(value, f"{prefix}{f.name}."))
        elif f.metadata.get(OPEN):
            out.update({f"{prefix}{f.name}.{k}": v for k, v in value})
        else:
            out[f"{prefix}{f.name}"] = value
    return out


def apply_overrides(cfg: C, overrides: Mapping[str, Any]) -> C:
    """A new config with `overrides` applied; strings are parsed, other values must already have the field's type."""
    for key, value in overrides.items():
        cfg = _set(cfg, key.split("."), value, key)
    return cfg


def _set(cfg: Any, path: list[str], value: Any, full_key: str) -> Any:
    fields = {f.name: f for f in dataclasses.fields(cfg)}
    name = path[0]
    if name not in fields:
        raise ConfigError(_unknown(full_key, name, cfg))
    current = getattr(cfg, name)
    if fields[name].metadata.get(OPEN):  # names the owner checks (task.options: the task's own), values as given
        if len(path) != 2 or not path[1]:
            raise ConfigError(f"config key {full_key!r}: set one option at a time, as {full_key.split('.')[0]}."
                              f"{name}.NAME=VALUE")
        return dataclasses.replace(cfg, **{name: tuple(sorted({**dict(current), path[1]: value}.items()))})
    if dataclasses.is_dataclass(current):
        if len(path) == 1:
            sub = ", ".join(f"{full_key}.{f.name}" for f in dataclasses.fields(current))
            raise ConfigError(f"config key {full_key!r} is a section, not a value; set one of: {sub}")
        return dataclasses.replace(cfg, **{name: _set(current, path[1:], value, full_key)})
    if len(path) > 1:
        raise ConfigError(f"unknown config key {full_key!r}: {name!r} is a value, not a section")
    hint = typing.get_type_hints(type(cfg))[name]
    return dataclasses.replace(cfg, **{name: coerce(value, hint, full_key)})


def _unknown(full_key: str, name: str, cfg: Any) -> str:
    names = [f.name for f in dataclasses.fields(cfg)]
    close = difflib.get_close_matches(name, names, n=1)
    did = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown config key {full_key!r}{did} valid keys here: {', '.join(names)}"


def coerce(value: Any, hint: Any, key: str) -> Any:
    """`value` as type `hint` (bool, int, float, str or tuple[X, ...]), or a ConfigError naming key and value; a
    float is finite."""
    origin = typing.get_origin(hint)
    if origin is tuple:
        item_type = typing.get_args(hint)[0]
        if isinstance(value, str):
            text = value.strip().strip("[]()")
            value = [v for v in (p.strip().strip("'\"") for p in text.split(",")) if v]  # "('a', 'b')" too
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: expected a list of {item_type.__name__}, got {value!r}")
        return tuple(coerce(v, item_type, key) for v in value)
    if isinstance(value, str) and hint is not str:
        out = _parse(value, hint, key)
    elif hint is float and isinstance(value, int) and not isinstance(value, bool):
        out = float(value)
    elif type(value) is not hint:
        raise ConfigError(f"{key}: expected {hint.__name__}, got {value!r} ({type(value).__name__})")
    else:
        out = value
    if hint is float and not math.isfinite(out):  # float("inf") parses, and inf > 0 passes `optim.lr > 0`
        raise ConfigError(f"{key}: expected a finite number, got {value!r}")
    return out


def _parse(text: str, hint: type, key: str) -> Any:
    if hint is bool:
        low = text.lower()
        if low in _TRUE | _FALSE:
            return low in _TRUE
    else:
        try:
            return hint(text)
        except ValueError:
            pass
    raise ConfigError(f"{key}: expected {hint.__name__}, got {text!r}")
