"""The module path is the registry: study NAME is `studies/catalog/NAME.py`, exposing `get_study(profile)` and
`DESCRIPTION`; the module's name is the study's name, so adding a study is adding a file."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from studies import catalog


def study_names() -> list[str]:
    """Every module of the catalogue; `_`-prefixed ones are shared pieces that study files import."""
    return sorted(m.name for m in pkgutil.iter_modules(catalog.__path__) if not m.name.startswith("_"))


def load(name: str) -> ModuleType:
    if name not in study_names():
        raise KeyError(f"unknown study {name!r}; available: {', '.join(study_names())}")
    module = importlib.import_module(f"{catalog.__name__}.{name}")
    if not callable(getattr(module, "get_study", None)):
        raise KeyError(f"studies/catalog/{name}.py has no get_study(profile); every catalogue module is a study "
                       "(shared pieces go in a _-prefixed module)")
    return module


def describe() -> list[tuple[str, str]]:
    return [(n, getattr(load(n), "DESCRIPTION", "")) for n in study_names()]
