"""Every module beside the study files is either a study (it has `get_study`) or listed as machinery."""

from __future__ import annotations

import importlib
import pkgutil

import studies
from studies import registry


def test_every_module_is_a_study_or_listed_machinery():
    for module in pkgutil.iter_modules(studies.__path__):
        if module.name.startswith("_") or module.name in registry._NOT_STUDIES or module.name == "tune":
            continue
        assert hasattr(importlib.import_module(f"studies.{module.name}"), "get_study"), (
            f"studies/{module.name}.py is neither a study nor in registry._NOT_STUDIES")
