"""What a study is: a base config per profile, a space to explore, how to search it and what to optimize.

Study files build one of these in `get_study(profile)`; nothing here knows about Ray.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hpstudy.schema.replication_policy import Replication
from search_spaces import Conditional, Grid, Variants, walk
from studies.packing import gpu_request_error
from studies.trial_config import Own, check_defaults, kind
from trainables.config import TrainConfig
from trainables.config.overrides import ConfigError

SEARCHES = ("grid", "tpe", "gp", "random")
SAMPLERS = ("tpe", "nsga2")  # Optuna's samplers of a multi-objective search
MIN_LR_RANGE_STEPS = 10  # fewer steps cannot show where the loss falls fastest
SEED_KEY = "seed"  # the space key whose Grid is the study's replicates (`--seeds`): each configuration once per seed


class StudyError(ConfigError):
    """A study whose declaration cannot run; one line, raised when the study is built (before Ray starts)."""


@dataclass(frozen=True)
class Confirm:
    """A search's confirmation phase (studies.cli.confirm): its `top` configurations by mean validation score,
    retrained on `seeds` fresh seeds each and paired with the base config ("baseline"); with a replication policy
    (--seeds auto) the seeds come in waves instead, until each comparison is decided."""

    top: int = 3
    seeds: int = 3

    def __post_init__(self) -> None:
        if not isinstance(self.top, int) or not isinstance(self.seeds, int) or self.top < 1 or self.seeds < 2:
            raise StudyError(f"Confirm: `top >= 1 and seeds >= 2` must hold (integers), but got "
                             f"({self.top=}, {self.seeds=}).")


GRACE_SHARE = 16  # Asha's default first rung: after ⌈1/16⌉ of a trial's epochs (docs/research/lcbench.md)


@dataclass(frozen=True)
class Asha:
    """Asynchronous successive halving. The defaults are what measured best on LCBench's tuning half (17 tasks,
    docs/research/lcbench.md): a trial's first epoch says next to nothing of its last there (rank correlation 0.03 at
    epoch 1 of 52, 0.76 at epoch 4), so the first rung comes after ⌈epochs/16⌉ epochs, not after one; η 3 as in
    Hyperband, Syne Tune and Optuna."""

    grace_period: int | None = None  # epochs every trial gets before it can be stopped; None: ⌈epochs / 16⌉
    reduction_factor: int = 3  # keep the top 1/reduction_factor at each rung

    def __post_init__(self) -> None:
        if (self.grace_period is not None and self.grace_period < 1) or self.reduction_factor < 2:
            raise StudyError(f"Asha: `grace_period >= 1 (or None) and reduction_factor >= 2` must hold, but got "
                             f"({self.grace_period=}, {self.reduction_factor=}).")

    def grace(self, epochs: int) -> int:
        """The first rung's epoch for trials of `epochs` epochs: grace_period, or ⌈epochs/16⌉ (at most `epochs`)."""
        if self.grace_period is not None:
            return self.grace_period
        return max(1, min(epochs, math.ceil(epochs / GRACE_SHARE)))


@dataclass(frozen=True)
class Study:
    profile: str  # local | full
    # fixed hyperparameters of every trial: hpstudy's trainer's TrainConfig, or with `train`, the function's defaults
    # (a dict: name -> default; --set and the space change them, each typed by its default)
    base: Any
    space: dict[str, Any]  # override key -> search_spaces parameter (or a constant)
    name: str = ""  # the study file's module name, set by studies.assembly.assemble (a study never names itself)
    # grid | tpe | gp | random. gp: Optuna's GPSampler (Bayesian optimization of one objective); its model is of the
    # trials that trained every epoch, so it pays with asha=None (LCBench: docs/research/lcbench.md)
    search: str = "grid"
    metric: str = ""  # the one metric ASHA and the searcher optimize; "": the task's lead metric, val/<lead>
    mode: str = ""  # max | min; "": the direction the task's metric table gives it
    num_samples: int = 1  # grid: repeats of the whole grid; tpe/random: configurations sampled (each once per seed)
    asha: Asha | None = None  # None: every trial runs all its epochs (needed for seed-paired comparisons)
    baseline: str | None = None  # variant name the table compares against
    gpus_per_trial: float = 0.0  # per Train worker
    cpus_per_trial: float = 1.0  # per Train worker; also its torch thread count
    workers_per_trial: int = 1  # Train workers of one trial: 1 runs in the trial's process, N > 1 is DDP
    search_seed: int = 0  # seeds the sampler, so a search is reproducible
    tags: dict[str, str] = field(default_factory=dict)
    # Trained once before the trials (studies.cli.before_trials), on one trial's resources; every trial's
    # init.checkpoint is its final checkpoint, and the base's init.mode/init.keep say what a trial takes from it. An
    # init.checkpoint in the base (a user's --set) replaces it.
    pretrain: TrainConfig | None = None
    # Several objectives ((metric, mode), mode "" from the metric tables): the searcher is Optuna's multi-objective
    # `sampler` and `asha` is multi-objective successive halving (studies.tune.mo_asha). `metric` stays the first one:
    # what the report leads with. (): a single-objective study on metric/mode.
    objectives: tuple[tuple[str, str], ...] = ()
    sampler: str = "tpe"  # tpe | nsga2: Optuna's sampler for search="tpe" with several objectives
    lr_range_steps: int = 0  # > 0: an LR range test of this many steps on the base (after the pretraining, from its
    # checkpoint) picks every trial's optim.lr, as --lr-range does; 0: none; --lr-range N replaces it
    # A training function of one's own, `train(config, trial)` (trainables.trial), in place of hpstudy's trainer; it
    # gets `base` with --set and the trial's sampled values applied. None: hpstudy's trainer.
    train: Callable[[dict[str, Any], Any], None] | None = None
    # Sequential replication (`--seeds auto`): seeds are trained in waves, and after each wave every configuration is
    # judged against the baseline (analysis.sequential) until it is better, worse, equivalent within the policy's
    # delta or undecided at its maximum; only the undecided get more seeds (studies.cli.waves). None: the seed Grid.
    replication: Replication | None = None
    # A search's confirmation: its best configurations retrained on fresh seeds against the base config, so the
    # report leads with a table that is not the maximum of noisy values (--confirm K). None: none.
    confirm: Confirm | None = None

    def __post_init__(self) -> None:
        _check_train(self)
        if self.confirm is not None and (self.search == "grid" or self.objectives or not isinstance(self.confirm,
                                                                                                   Confirm)):
            raise StudyError(f"study {self.name}: a confirmation (--confirm) retrains a single-objective search's best "
                             f"configurations, got search={self.search!r} with {len(self.objectives) or 1} "
                             f"objective(s) and confirm={self.confirm!r}")
        if self.replication is not None:
            _check_replication(self)
        if self.search not in SEARCHES:
            raise StudyError(f"study {self.name}: search {self.search!r} is not one of {', '.join(SEARCHES)}")
        if self.objectives:
            object.__setattr__(self, "objectives", _objectives(self.name, self.base, self.objectives))
            if self.search in ("grid", "gp") or self.sampler not in SAMPLERS:
                raise StudyError(f"study {self.name}: several objectives need search 'tpe' or 'random' and a sampler "
                                 f"in {', '.join(SAMPLERS)}, got search={self.search!r}, sampler={self.sampler!r}")
            if self.metric and (self.metric, self.mode or self.objectives[0][1]) != self.objectives[0]:
                raise StudyError(f"study {self.name}: metric {self.metric!r} must be the first objective "
                                 f"({self.objectives[0][0]!r}) or left out")
            object.__setattr__(self, "metric", self.objectives[0][0])
            object.__setattr__(self, "mode", self.objectives[0][1])
        if not self.metric:  # frozen: set once, here, from the task's metric table
            object.__setattr__(self, "metric", lead_metric(self.base))
        if not self.mode:
            object.__setattr__(self, "mode", _direction(self.base, self.metric))
        if self.mode not in ("min", "max"):
            raise StudyError(f"study {self.name}: mode {self.mode!r} is not 'min' or 'max'")
        gridded = sorted(k for k, v in self.space.items() if isinstance(v, (Grid, Variants)) and k != SEED_KEY)
        if self.search in ("tpe", "gp") and gridded:
            raise StudyError(f"study {self.name}: search {self.search!r} samples its space, but {', '.join(gridded)} "
                             "is a Grid/Variants (use Choice, or search='grid'; only a Grid of seeds is replicates)")
        conditional = sorted(k for k, v in self.space.items() if isinstance(v, Conditional))
        if conditional and self.search == "grid":
            raise StudyError(f"study {self.name}: {', '.join(conditional)} is a Conditional, which search 'tpe' or "
                             "'random' samples (Optuna's define-by-run space); a grid cannot enumerate one")
        if conditional and gridded:  # Optuna samples a conditional space; Tune's grids would be lost
            raise StudyError(f"study {self.name}: {', '.join(conditional)} is a Conditional, so Optuna samples the "
                             f"space, but {', '.join(gridded)} is a Grid/Variants (use Choice; only a Grid of seeds "
                             "is replicates)")
        if self.num_samples < 1:
            raise StudyError(f"study {self.name}: num_samples must be >= 1, got {self.num_samples}")
        if self.lr_range_steps and (self.lr_range_steps < MIN_LR_RANGE_STEPS or "optim.lr" in _varied(self.space)):
            raise StudyError(f"study {self.name}: lr_range_steps={self.lr_range_steps} needs >= {MIN_LR_RANGE_STEPS} "
                             "steps and a space that does not vary optim.lr (the range test picks it)")
        if self.pretrain is not None:
            _check_pretrain(self.name, self.pretrain)
        if not isinstance(self.workers_per_trial, int) or self.workers_per_trial < 1:
            raise StudyError(f"study {self.name}: workers_per_trial must be an integer >= 1, got "
                             f"{self.workers_per_trial!r}")
        if self.cpus_per_trial <= 0 or self.gpus_per_trial < 0:
            raise StudyError(f"study {self.name}: `cpus_per_trial > 0 and gpus_per_trial >= 0` must hold, but got "
                             f"({self.cpus_per_trial=}, {self.gpus_per_trial=}).")
        if (why := gpu_request_error(self.gpus_per_trial)) is not None:  # Ray would refuse each trial, after starting
            raise StudyError(f"study {self.name}: {why}")

    def replicates(self) -> tuple[int, ...]:
        """The seeds each configuration is trained with (the space's seed Grid); () when the space has none."""
        value = self.space.get(SEED_KEY)
        return tuple(value.values) if isinstance(value, Grid) else ()

    def sampled_by_optuna(self) -> bool:
        """Whether Optuna samples the space (studies.tune.tuner): a TPE search, and a random search of a conditional
        space (Tune's random search has no conditional parameters; Optuna's RandomSampler draws them define-by-run)."""
        return self.search in ("tpe", "gp") or (self.search == "random" and
                                        any(isinstance(v, Conditional) for v in self.space.values()))

    def total_trials(self) -> int:
        """Trials a complete run of this study makes: grid points x num_samples for a grid, and for a random search
        (each sample is crossed with the space's grids: once per seed); a TPE search, and a random search of a
        conditional space, train each of their num_samples configurations once per seed."""
        if self.sampled_by_optuna():
            return self.num_samples * max(1, len(self.replicates()))
        points = 1
        for value in self.space.values():
            if isinstance(value, Variants):
                points *= len(value.configs)
            elif isinstance(value, Grid):
                points *= len(value.values)
        return points * self.num_samples


def _check_replication(study: Study) -> None:
    """Waves of seeds compare a grid's variants with its baseline over every epoch of seed-paired trials."""
    name = f"study {study.name}: a replication policy (--seeds auto)"
    if not isinstance(study.replication, Replication):
        raise StudyError(f"{name} is a Replication(minimum=, maximum=, delta=, alpha=, wave=), got "
                         f"{study.replication!r}")
    if study.search != "grid":
        if study.confirm is None:
            raise StudyError(f"{name} replicates a search's confirmation: add --confirm K (its best K configurations "
                             f"retrained in waves against the base config), or run a grid of Variants with a baseline")
        return
    if study.objectives or study.asha is not None or study.num_samples != 1:
        raise StudyError(f"{name} needs a grid with one objective, no ASHA and num_samples=1 (each seed's trial "
                         f"trains every epoch, to be paired), got asha={study.asha!r}, num_samples={study.num_samples}")
    if SEED_KEY in study.space:
        raise StudyError(f"{name} trains seeds 0, 1, ... in waves itself; drop the space's {SEED_KEY!r}")
    axes = sorted(k for k, v in study.space.items() if isinstance(v, (Grid, Variants)))
    if len(axes) > 1:  # a wave trains a subset of one list of named configurations
        raise StudyError(f"{name} compares the configurations of one Variants with its baseline; the space grids "
                         f"{', '.join(axes)}: make them one Variants")
    names = [c["name"] for v in study.space.values() if isinstance(v, Variants) for c in v.configs]
    if study.baseline is None or study.baseline not in names:
        raise StudyError(f"{name} judges every variant against the baseline: baseline= must name one of the space's "
                         f"Variants ({', '.join(names) or 'it has none'}), got {study.baseline!r}")


def _check_train(study: Study) -> None:
    """A study of hpstudy's trainer has a TrainConfig base; one of its own training function a dict of defaults, a
    metric it names (no task says what it optimizes) and none of the trainer's own steps."""
    try:
        own = kind(study.base) is Own
        if own:
            check_defaults(study.base)
    except ConfigError as err:
        raise StudyError(f"study {study.name}: {err}") from None
    if study.train is None:
        if own:
            raise StudyError(f"study {study.name}: a dict base is a training function's defaults; name the function "
                             "with train=, or give hpstudy's trainer a TrainConfig")
        return
    if not callable(study.train):
        raise StudyError(f"study {study.name}: train= is a function train(config, trial), got {study.train!r}")
    if not own:
        raise StudyError(f"study {study.name}: train= takes its defaults as a dict (name -> default), not a "
                         f"{type(study.base).__name__}")
    if not study.metric and not study.objectives:
        raise StudyError(f"study {study.name}: name the metric your training function reports for the study to "
                         "optimize, e.g. metric='val/acc' (and mode='max' unless hpstudy's metric table knows it)")
    if study.pretrain is not None or study.lr_range_steps:
        raise StudyError(f"study {study.name}: pretrain= and lr_range_steps= are steps of hpstudy's trainer; a "
                         "training function of your own does its own")
    epochs = study.base.get("epochs")
    if (study.asha is not None or study.search != "grid") and (isinstance(epochs, bool) or not isinstance(epochs, int)
                                                               or epochs < 1):
        raise StudyError(f"study {study.name}: ASHA and a search count epochs to the end of a trial: give the "
                         f"training function's defaults an 'epochs' (an integer >= 1, the epochs it trains), got "
                         f"{epochs!r}")


def _varied(space: dict[str, Any]) -> set[str]:
    """The config keys a space sets: its own keys, those of its conditional sub-spaces and of its variants."""
    keys = {k for k, v, _ in walk(space) if not isinstance(v, Variants)}
    return keys | {k for v in space.values() if isinstance(v, Variants) for c in v.configs for k in c}


def _check_pretrain(name: str, cfg: TrainConfig) -> None:
    """The pretraining config, checked when the study is built (its data when it runs), in one line."""
    from trainables.validate import validate  # the config checks import the trainer's pieces (torch, timm)

    try:
        validate(cfg, check_data=False)
    except ConfigError as err:
        raise StudyError(f"study {name}, pretrain: {err}") from None


def lead_metric(base: TrainConfig) -> str:
    """val/<the task's lead metric>: what a study of this task optimizes unless its file says otherwise."""
    from trainables.tasks import build_task  # the tasks import torch: not for `--list`

    return f"val/{build_task(base.task).lead.name}"


def follows_task(study: Study) -> bool:
    """Is the study's metric the one its task implies (so a --set of another task must move it too)?"""
    if not isinstance(study.base, TrainConfig):  # a function's own metric: no task implies it
        return False
    return study.metric == lead_metric(study.base) and study.mode == _direction(study.base, study.metric)


def _objectives(name: str, base: Any, given) -> tuple[tuple[str, str], ...]:
    """Each (metric, mode) with its mode from the task's table or hpstudy.schema.metrics when left ""; one line if
    not."""
    from hpstudy.schema.metrics import direction

    out = []
    for item in given:
        if not (isinstance(item, tuple) and len(item) == 2 and all(isinstance(x, str) for x in item)):
            raise StudyError(f"study {name}: objectives are (metric, mode) pairs, got {item!r}")
        metric, mode = item
        if mode and mode not in ("min", "max"):
            raise StudyError(f"study {name}: objective {metric!r}: mode {mode!r} is not 'max' or 'min'")
        if not mode:
            try:
                mode = _direction(base, metric)
            except StudyError:
                try:
                    mode = direction(metric) or ""
                except KeyError:  # a metric no table knows: its mode must be given
                    mode = ""
        if mode not in ("min", "max"):
            raise StudyError(f"study {name}: objective {metric!r}: give its mode ('max' or 'min'); no metric table "
                             "gives it one")
        out.append((metric, mode))
    if len({m for m, _ in out}) != len(out) or len(out) < 2:
        raise StudyError(f"study {name}: objectives must be 2 or more distinct metrics, got "
                         f"{', '.join(m for m, _ in out)}")
    return tuple(out)


def _direction(base: Any, metric: str) -> str:
    """max | min for `metric` from the task's metric table (val/fscore -> the task's 'fscore' spec); a training
    function's study from hpstudy's metric table (hpstudy.schema.metrics)."""
    from trainables.tasks import build_task

    if not isinstance(base, TrainConfig):
        from hpstudy.schema.metrics import direction

        try:
            found = direction(metric)
        except KeyError:
            found = None
        if found not in ("min", "max"):
            raise StudyError(f"study metric {metric!r}: give its mode ('max' or 'min'); hpstudy's metric table does "
                             "not know it")
        return found
    task = build_task(base.task)
    leaf = metric.split("/", 1)[-1]
    for spec in task.metrics:
        if leaf == spec.name and spec.direction:
            return spec.direction
    names = ", ".join(f"val/{m.name}" for m in task.metrics)
    raise StudyError(f"study metric {metric!r}: give its mode ('max' or 'min'); the {task.name} task's metric "
                     f"table knows {names}")
