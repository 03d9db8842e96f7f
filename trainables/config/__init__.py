"""A training run's configuration: typed, frozen dataclasses (`fields`), the one strict way to change them
(`overrides`), the meaningful range of every number (`ranges`) and the paths made absolute in the driver (`paths`).

`from trainables.config import TrainConfig` is the public face; the dataclasses live in `fields.py`.
"""

from trainables.config.fields import (
    PATH,
    CheckpointConfig,
    DataConfig,
    DistConfig,
    EMAConfig,
    EvalConfig,
    InitConfig,
    ModelConfig,
    MonitorConfig,
    OptimConfig,
    RecipeConfig,
    RobustnessConfig,
    ScheduleConfig,
    SESConfig,
    TaskConfig,
    TrainConfig,
    path,
)

__all__ = ["PATH", "CheckpointConfig", "DataConfig", "DistConfig", "EMAConfig", "EvalConfig", "InitConfig",
           "ModelConfig", "MonitorConfig", "OptimConfig", "RecipeConfig", "RobustnessConfig", "ScheduleConfig",
           "SESConfig", "TaskConfig", "TrainConfig", "path"]
