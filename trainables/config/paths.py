"""Every path a config carries, made absolute once in the driver: trials and Train workers run in Ray's folders.

A field is a path when it is declared with `config.path()`; a new one needs nothing else to be resolved.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from trainables.config import PATH


def path_keys(cfg: Any, prefix: str = "") -> list[str]:
    """Dotted keys of the path fields of the config `cfg`, e.g. ['data.root', 'init.checkpoint']."""
    keys = []
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if dataclasses.is_dataclass(value):
            keys += path_keys(value, f"{prefix}{f.name}.")
        elif f.metadata.get(PATH):
            keys.append(f"{prefix}{f.name}")
    return keys


def absolute(value: str, base: Path | None = None) -> str:
    """`value` against `base` (default: this process's folder); '' (unset) and URIs (s3://...) stay as they are."""
    if not value or "://" in value:
        return value
    return os.path.abspath(os.path.join(base or os.getcwd(), os.path.expanduser(value)))


def absolute_paths(cfg: Any, base: Path | None = None) -> Any:
    """`cfg` with every path field absolute."""
    changes = {}
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if dataclasses.is_dataclass(value):
            changes[f.name] = absolute_paths(value, base)
        elif f.metadata.get(PATH):
            changes[f.name] = absolute(value, base)
    return dataclasses.replace(cfg, **changes)
