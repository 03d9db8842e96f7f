"""The module path is the registry: study NAME is `studies/NAME.py` exposing `get_study(profile)` and `DESCRIPTION`."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import studies

_NOT_STUDIES = {"build", "outcome", "preflight", "profiles", "protocol", "provenance", "registry", "report", "run",
                "smoke", "state", "study", "tracking", "trial_log", "tune"}  # the machinery beside the study files


def study_names() -> list[str]:
    names = (m.name for m in pkgutil.iter_modules(studies.__path__) if not m.name.startswith("_"))
    return sorted(n for n in names if n not in _NOT_STUDIES)


def load(name: str) -> ModuleType:
    if name not in study_names():
        raise KeyError(f"unknown study {name!r}; available: {', '.join(study_names())}")
    return importlib.import_module(f"studies.{name}")


def describe() -> list[tuple[str, str]]:
    return [(n, getattr(load(n), "DESCRIPTION", "")) for n in study_names()]
