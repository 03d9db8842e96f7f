"""hpstudy's public API in one import: `from hpstudy import Study, Asha, LogUniform, Grid, TrainConfig, ...`.

Each name is imported from its room on first use (`import hpstudy` alone loads nothing of torch, Ray or MLflow);
`hpstudy.schema` is the contract the rooms share. The command line: `hpstudy run NAME_OR_PATH ...`
(`studies.cli.console`), the same as `python -m studies.run NAME_OR_PATH ...`.
"""

from __future__ import annotations

import importlib
from typing import Any

_CONFIGS = ("CheckpointConfig", "DataConfig", "EMAConfig", "EvalConfig", "InitConfig", "ModelConfig", "MonitorConfig",
            "OptimConfig", "RecipeConfig", "RobustnessConfig", "ScheduleConfig", "SESConfig", "TaskConfig",
            "TrainConfig")
_SPACES = ("Choice", "Conditional", "Grid", "IntRange", "LogUniform", "Uniform", "Variants", "leave_one_out")
_API: dict[str, str] = {  # name -> the module that owns it
    "Study": "studies.study", "Asha": "studies.study", "Confirm": "studies.study", "BadInput": "hpstudy.schema.errors",
    "Replication": "hpstudy.schema.replication_policy",
    "Task": "trainables.tasks.base",
    **{name: "trainables.config" for name in _CONFIGS}, **{name: "search_spaces" for name in _SPACES},
}
__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module 'hpstudy' has no attribute {name!r}; its API: {', '.join(__all__)}")
    value = getattr(importlib.import_module(_API[name]), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
