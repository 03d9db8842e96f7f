"""Up-front checks of a config: named choices, the range of every numeric field (trainables.config.ranges), the settings
that only make sense together, and the data root; bad input fails before any trial starts, in one line.
"""

from __future__ import annotations

from trainables.checkpointing.warm_start import check as check_init
from trainables.config import TrainConfig
from trainables.config.overrides import ConfigError, flatten
from trainables.config.ranges import RANGES
from trainables.data import DATASETS, OWN_DATA, check_root, data_inputs, data_kind
from trainables.models.by_name import VECTOR_MODELS
from trainables.models.wrn import WRN28_10
from trainables.optim.optimizers import OPTIMIZERS
from trainables.optim.precision import PRECISIONS
from trainables.optim.schedules import DECAYS
from trainables.optim.uncertainty import WEIGHTINGS
from trainables.protocol import CHECKPOINT_KEEPS, TEST_WHEN, check_protocol
from trainables.recipe.mixing import MIX_TARGETS
from trainables.recipe.mixing import check as _check_recipe
from trainables.robustness.evaluate import resolve_corruptions
from trainables.ses import SCHEDULES
from trainables.ses.entropy import UNREACHABLE_MODES
from trainables.ses.targets import TARGETS
from trainables.tasks import build_task


def _choice(key: str, value: str, valid) -> None:
    if value not in valid:
        raise ConfigError(f"{key}: {value!r} is not one of {', '.join(valid)}")


def check_ranges(cfg: TrainConfig) -> None:
    """Every field of RANGES within its range (each item of a tuple field)."""
    for key, value in flatten(cfg).items():
        bounds = RANGES.get(key)
        if bounds is None:
            continue
        for item in value if isinstance(value, tuple) else (value,):
            if not bounds.holds(item):
                why = f" ({bounds.why})" if bounds.why else ""
                shown = f"{value!r}" if not isinstance(value, tuple) else f"{item!r} in {value!r}"
                raise ConfigError(f"{key}: expected {bounds.text()}{why}, got {shown}")


def _check_choices(cfg: TrainConfig) -> None:
    _choice("data.name", cfg.data.name, DATASETS)
    _choice("optim.name", cfg.optim.name, tuple(OPTIMIZERS))
    _choice("sched.name", cfg.sched.name, DECAYS)
    _choice("precision", cfg.precision, PRECISIONS)
    _choice("device", cfg.device, ("auto", "cpu", "cuda"))
    _choice("loss_weighting", cfg.loss_weighting, WEIGHTINGS)
    _choice("ses.beta_schedule", cfg.ses.beta_schedule, tuple(SCHEDULES))
    _choice("ses.on_unreachable", cfg.ses.on_unreachable, tuple(UNREACHABLE_MODES))
    _choice("eval.test", cfg.eval.test, TEST_WHEN)
    _choice("checkpoint.keep", cfg.checkpoint.keep, CHECKPOINT_KEEPS)
    _choice("checkpoint.mode", cfg.checkpoint.mode, ("auto", "max", "min"))
    _choice("recipe.mix_target", cfg.recipe.mix_target, MIX_TARGETS)
    if not cfg.ses.targets:
        raise ConfigError(f"ses.targets: expected one or more of {', '.join(TARGETS)}, got none")
    for target in cfg.ses.targets:
        _choice("ses.targets", target, TARGETS)


def _uses(cfg: TrainConfig) -> dict[str, str]:
    """The optional loop features `cfg` turns on -> the setting that does (for a task that lacks one)."""
    recipe = cfg.recipe
    used = {
        "mixing": (f"recipe.mixup_alpha={recipe.mixup_alpha:g}, recipe.cutmix_alpha={recipe.cutmix_alpha:g}"
                   if recipe.mixup_alpha > 0 or recipe.cutmix_alpha > 0 else ""),
        "label_smoothing": f"recipe.label_smoothing={recipe.label_smoothing:g}" if recipe.label_smoothing else "",
        "randaugment": f"recipe.randaugment_n={recipe.randaugment_n}" if recipe.randaugment_n > 0 else "",
        "robustness": "rob.enabled=true" if cfg.rob.enabled else "",
    }
    return {feature: setting for feature, setting in used.items() if setting}


def _check_task(cfg: TrainConfig) -> None:
    """The task exists, reads this dataset's kind of targets, supports every feature turned on, and accepts the
    model (Task.check)."""
    if cfg.task.module and cfg.task.name != "classification":
        raise ConfigError(f"task.module={cfg.task.module!r} names the task; leave task.name at its default "
                          f"(got task.name={cfg.task.name!r})")
    task = build_task(cfg.task)
    if cfg.data.name == OWN_DATA and not task.reads_data():
        raise ConfigError(f"data.name=task: the {task.name} task reads no data of its own; define "
                          "read_data(cfg, split) on it (a task of your own: task.module=...), or pick a dataset")
    kind = data_kind(cfg.data.name, task.data_kind)
    if kind != task.data_kind:
        raise ConfigError(f"data.name: {cfg.data.name} gives {kind}, but the {task.name} task trains on "
                          f"{task.data_kind}; pick a dataset of {task.data_kind} or another task.name")
    for feature, setting in _uses(cfg).items():
        if feature not in task.supports:
            raise ConfigError(f"{setting}: the {task.name} task does not support {feature.replace('_', ' ')}; "
                              f"it supports {', '.join(sorted(task.supports)) or 'none of the optional features'}")
    task.check(cfg)


def _check_inputs(cfg: TrainConfig) -> None:
    """Vector data (toy2d, breast_cancer) takes a vector model and no image-only feature; images take no vector
    model or κ(J)."""
    name = cfg.data.name
    if data_inputs(name) == "images":
        if cfg.model.name in VECTOR_MODELS:
            raise ConfigError(f"model.name: {cfg.model.name!r} takes vectors (data.name=toy2d or breast_cancer), "
                              f"not {name}'s images")
        if cfg.eval.jacobian:  # J is classes x C*H*W per image: a backward pass per class at every evaluation
            raise ConfigError(f"eval.jacobian: kappa(J) is measured on vector inputs (data.name=toy2d or "
                              f"breast_cancer), not on {name}'s images; set eval.jacobian=false (got True)")
        return
    vectors = f"data.name={name} gives vectors, not images"
    if cfg.model.name not in VECTOR_MODELS:
        raise ConfigError(f"model.name: {vectors}; expected one of {', '.join(map(repr, VECTOR_MODELS))}, "
                          f"got {cfg.model.name!r}")
    image_only = (  # (turned on, key, its value, what cannot apply, the value that turns it off)
        (cfg.data.augment, "data.augment", cfg.data.augment, "random crop/flip", "false"),
        (cfg.recipe.randaugment_n > 0, "recipe.randaugment_n", cfg.recipe.randaugment_n, "RandAugment", "0"),
        (cfg.recipe.cutmix_alpha > 0, "recipe.cutmix_alpha", cfg.recipe.cutmix_alpha, "CutMix's pasted boxes", "0"),
        (cfg.rob.enabled, "rob.enabled", cfg.rob.enabled, "image corruptions", "false"),
    )
    for on, key, value, what, off in image_only:
        if on:
            raise ConfigError(f"{key}: {vectors}, so {what} cannot apply; set {key}={off} (got {value!r})")


def _check_model(cfg: TrainConfig) -> None:
    """Model switches that only some models or runs honour."""
    model = cfg.model
    if model.name == WRN28_10 and not model.small_input:
        raise ConfigError(f"model.small_input: {WRN28_10} has only its 32x32-style stem (one 3x3 stride-1 conv, "
                          f"no max-pool); leave it true (got {model.small_input!r})")
    if model.fake_quant and model.name not in VECTOR_MODELS:  # a CNN's convs would stay float: half a QAT
        raise ConfigError(f"model.fake_quant: only the vector MLPs ({', '.join(VECTOR_MODELS)}) are fake-quantized "
                          f"(every layer linear), not {model.name!r}; set it to false (got True)")
    if model.fake_quant and model.spectral_norm:  # spectral_norm would re-parametrize the quantized weight
        raise ConfigError("model.fake_quant: not with model.spectral_norm; set one of them to false (got both True)")
    if not model.spectral_norm:
        return
    if not cfg.task.module and cfg.task.name != "classification":
        raise ConfigError(f"model.spectral_norm: only the classification models (trainables.models.by_name) apply it, "
                          f"not the {cfg.task.name} task's; set it to false (got True)")
    if cfg.grad_checkpointing:  # the recompute would run another power iteration: backward would see another sigma
        raise ConfigError("model.spectral_norm: not with grad_checkpointing, whose recompute in backward would "
                          "take another power-iteration step; set one of them to false (got both True)")


def _check_ema_selection(cfg: TrainConfig) -> None:
    """checkpoint.keep=best|both keeps the model's weights at its best epoch: chosen by an EMA metric, they would
    be the raw weights of the EMA's best epoch, tested as if they were the EMA's. keep=last tests the EMA itself."""
    metric = cfg.checkpoint.metric
    if cfg.checkpoint.keep == "last" or not metric.endswith("_ema"):
        return
    raise ConfigError(f"checkpoint.keep: {cfg.checkpoint.keep!r} keeps the model's own weights, so choosing them by "
                      f"{metric} would test the raw weights of the EMA's best epoch; use checkpoint.keep=last (its "
                      f"final test measures the EMA's weights, test/*_ema)")


def _check_dist(cfg: TrainConfig) -> None:
    """Data-parallel settings (with device=auto a CPU run is refused when it starts: trainables.distributed)."""
    if cfg.dist.sync_bn and cfg.device == "cpu":  # torch's SyncBatchNorm raises on CPU batches
        raise ConfigError("dist.sync_bn: torch's SyncBatchNorm synchronises CUDA batches only, not with device=cpu; "
                          "set dist.sync_bn=false (got True)")


def _check_together(cfg: TrainConfig) -> None:
    """Settings whose meaning depends on another one."""
    if cfg.data.image_size < 0 or 0 < cfg.data.image_size < 8:
        raise ConfigError(f"data.image_size: expected 0 (the dataset's own) or >= 8 pixels, "
                          f"got {cfg.data.image_size!r}")
    if cfg.data.image_size and cfg.data.name not in ("imagefolder", "segfolder"):
        raise ConfigError(f"data.image_size: only imagefolder images are resized; {cfg.data.name} keeps its own "
                          f"size, so leave it at 0 (got {cfg.data.image_size!r})")
    if cfg.sched.eta_min > cfg.optim.lr:
        raise ConfigError(f"sched.eta_min: expected a floor <= optim.lr ({cfg.optim.lr!r}), got {cfg.sched.eta_min!r}")
    milestones = cfg.sched.milestones
    if list(milestones) != sorted(set(milestones)):
        raise ConfigError(f"sched.milestones: expected strictly increasing epochs, got {milestones!r}")
    _check_model(cfg)
    if len(cfg.log_var_bounds) != 2 or not cfg.log_var_bounds[0] < cfg.log_var_bounds[1]:
        raise ConfigError(f"log_var_bounds: expected (low, high) with low < high, got {cfg.log_var_bounds!r}")
    check_protocol(cfg)
    _check_ema_selection(cfg)
    _check_dist(cfg)


def validate(cfg: TrainConfig, *, check_data: bool = True) -> None:
    """Raise ConfigError (one line, naming key and value) for anything the run would only trip over later."""
    _check_choices(cfg)
    _check_task(cfg)
    _check_inputs(cfg)
    check_ranges(cfg)
    _check_together(cfg)
    try:
        _check_recipe(cfg.recipe)
    except ValueError as err:
        raise ConfigError(f"recipe: {err}") from None
    check_init(cfg.init)
    if cfg.rob.enabled:
        try:  # channels are known only once the data is read: `saturate` on grayscale fails at the trial's start
            resolve_corruptions(cfg.rob, 3)
        except ValueError as err:
            raise ConfigError(f"rob: {err}") from None
    if check_data:
        check_root(cfg.data.name, cfg.data.root)
