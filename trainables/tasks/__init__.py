"""Tasks by name: the built-in ones, or a user's `Task` subclass named as 'package.module:Class'.

The worker builds the task from the config it receives, so a user's task is imported there too (on a cluster,
its module must be importable on every node: installed, or shipped with the job's working_dir).
"""

from __future__ import annotations

import importlib

from trainables.config import TaskConfig
from trainables.config.overrides import ConfigError
from trainables.tasks.base import FEATURES, Meter, Task, TrainTargets

__all__ = ["FEATURES", "TASKS", "Meter", "Task", "TrainTargets", "build_task", "task_class"]

# Imported on use: segmentation pulls in segmentation-models-pytorch, which classification never needs.
TASKS = {
    "classification": "trainables.tasks.classification:Classification",
    "segmentation": "trainables.tasks.segmentation:Segmentation",
}


def _import(path: str, key: str) -> type[Task]:
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigError(f"{key}: expected 'package.module:Class', got {path!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ConfigError(f"{key}: cannot import {path!r} ({err}); its module must be importable where trials "
                          "run (installed, or on PYTHONPATH)") from None
    cls = getattr(module, attr, None)
    if not (isinstance(cls, type) and issubclass(cls, Task)):
        raise ConfigError(f"{key}: {path!r} is not a trainables.tasks.Task subclass")
    return cls


def task_class(cfg: TaskConfig) -> type[Task]:
    """The class `cfg` names: task.module when set, else the registered task.name."""
    if cfg.module:
        return _import(cfg.module, "task.module")
    if cfg.name not in TASKS:
        raise ConfigError(f"task.name: {cfg.name!r} is not one of {', '.join(TASKS)} "
                          "(a task of your own: task.module=package.module:Class)")
    return _import(TASKS[cfg.name], "task.name")


def build_task(cfg: TaskConfig) -> Task:
    return task_class(cfg)(cfg)
