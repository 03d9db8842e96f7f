"""The evaluation protocol of one run: the split each epoch is judged on, and when the test split is measured.

With a validation split (data.val_fraction > 0) every decision (ASHA, the searcher, early stopping, the best
weights) uses val/*, and the test split is measured once, at the end, on the weights `checkpoint.keep` names.
Without one (val_fraction = 0, a paper's protocol: train on the whole training set) the test split is measured
every epoch, as the seed's scripts did, and nothing may decide on it.
"""

from __future__ import annotations

from trainables.config import TrainConfig
from trainables.config.overrides import ConfigError

TEST_WHEN = ("auto", "end", "every_epoch", "off")
CHECKPOINT_KEEPS = ("last", "best", "both")


def has_val(cfg: TrainConfig) -> bool:
    return cfg.data.val_fraction > 0


def when_tested(cfg: TrainConfig) -> str:
    """`eval.test` with 'auto' resolved: every_epoch without a validation split, else end."""
    if cfg.eval.test != "auto":
        return cfg.eval.test
    return "end" if has_val(cfg) else "every_epoch"


def epoch_split(cfg: TrainConfig) -> str:
    """The split every epoch is evaluated and monitored on: 'val', or 'test' when there is no validation split."""
    return "val" if has_val(cfg) else "test"


def check_protocol(cfg: TrainConfig) -> None:
    """ConfigError (one line) for settings that would decide on the test split, or measure nothing."""
    if has_val(cfg):
        if cfg.checkpoint.keep != "last" and cfg.checkpoint.metric != "auto" and not cfg.checkpoint.metric.startswith("val/"):
            raise ConfigError(f"checkpoint.metric: the best weights are chosen on a validation metric (val/...), "
                              f"got {cfg.checkpoint.metric!r}")
        return
    no_val = "data.val_fraction=0 leaves no validation split"
    if when_tested(cfg) != "every_epoch":
        raise ConfigError(f"eval.test: {no_val}, so the test split is what every epoch is measured on; "
                          f"expected auto or every_epoch, got {cfg.eval.test!r}")
    if cfg.monitor.patience > 0:
        raise ConfigError(f"monitor.patience: early stopping decides on val/acc and {no_val}; it would decide "
                          f"on the test set (got {cfg.monitor.patience!r}; set 0 or data.val_fraction > 0)")
    if cfg.checkpoint.keep != "last":
        raise ConfigError(f"checkpoint.keep: best weights are chosen on val/* and {no_val}; it would choose on "
                          f"the test set (got {cfg.checkpoint.keep!r}; use last or data.val_fraction > 0)")
