"""Every metric key hpstudy logs or derives: unit, which way is better, what it means; a task adds its own.

Names: `<split>/<name>` per epoch (train, val, test), `<name>_ema` for the EMA's weights, `test/<name>_last` for
the last epoch's weights, `val/<name>_best` for the trainer's running best. A per-trial reduction that the
analysis computes over a per-epoch metric's history is `<key>/<reduction>` (`sys/epoch_s/mean`), so it never
shares a name with a key the trainer logs. The study run's summary is `best/<key>` and `trials/<status>`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

SPLITS = ("train", "val", "test")
DIRECTIONS = ("max", "min", None)


@dataclass(frozen=True)
class MetricSpec:
    """A quantity a task measures on every split, e.g. `MetricSpec("fscore", "max", "fraction")`."""

    name: str  # the key's leaf: "acc" -> train/acc, val/acc, test/acc, gap/train_val_acc, val/acc_best
    direction: str | None  # "max" | "min": which way is better; None: no side is (a diagnostic)
    unit: str  # "fraction" (shown in %), "nats", "s", "MB", "1" (dimensionless), ...
    meaning: str = ""  # one line


@dataclass(frozen=True)
class MetricKey:
    """One row of the table: a key, or a pattern where `<name>` stands for one path segment or part of one."""

    key: str  # "val/acc", "rob/acc/<corruption>", "train/loss_<part>"
    unit: str
    direction: str | None
    meaning: str
    derived: bool = False  # computed by the analysis from what was logged; never logged itself


# Every task's training loss; the lead metric of the default task (classification), which the analysis assumes
# because it reads MLflow only (trainables.tasks.classification declares the same spec).
LOSS = MetricSpec("loss", "min", "1", "the task's loss (cross-entropy in nats for classification)")
ACC = MetricSpec("acc", "max", "fraction", "top-1 accuracy")
# Binary classification only (2 classes): area under the ROC curve of P(class 1); absent for other tasks
AUC = MetricSpec("auc", "max", "fraction", "ROC AUC of P(class 1), binary classification only")


def split_metrics(specs: Iterable[MetricSpec]) -> tuple[MetricKey, ...]:
    """The keys the trainer logs for each of a task's metrics: per split, the EMA's, the last weights', the
    running best and the train-split gap (the last two only for a metric with a direction)."""
    out = []
    for s in specs:
        what = s.meaning or s.name
        out += [MetricKey(f"train/{s.name}", s.unit, s.direction, f"{what} on the training batches (epoch mean)"),
                MetricKey(f"val/{s.name}", s.unit, s.direction, f"{what} on the validation split"),
                MetricKey(f"val/{s.name}_ema", s.unit, s.direction, f"val/{s.name} of the EMA's weights"),
                MetricKey(f"test/{s.name}", s.unit, s.direction,
                          f"{what} on the test split (the weights test/epoch names; never selected on)"),
                MetricKey(f"test/{s.name}_ema", s.unit, s.direction, f"test/{s.name} of the EMA's weights"),
                MetricKey(f"test/{s.name}_last", s.unit, s.direction,
                          f"test/{s.name} of the last epoch's weights (checkpoint.keep=both)")]
        if s.direction is not None:
            out += [MetricKey(f"val/{s.name}_best", s.unit, s.direction,
                              f"the best val/{s.name} of the epochs so far: its last value is the trial's best"),
                    # No better side: a small gap is less overfitting, or underfitting; pass a mode to rank by it.
                    *(MetricKey(f"gap/train_{split}_{s.name}", f"{s.unit} difference", None,
                                f"train/{s.name} - {split}/{s.name}: how much the model overfits")
                      for split in ("val", "test"))]
    return tuple(out)


PLATFORM = (
    MetricKey("train/loss_<part>", "1", "min", "one component of the task's training loss"),
    MetricKey("lr", "1", None, "the learning rate at the epoch's last optimizer step"),
    MetricKey("best_epoch", "epoch", None, "the epoch of val/<lead>_best"),
    MetricKey("test/epoch", "epoch", None, "whose weights test/* measured: the best epoch's or the last one's"),
    MetricKey("sys/epoch_s", "s", "min", "wall time of the epoch's training and evaluation, robustness excluded"),
    MetricKey("sys/samples_per_s", "samples/s", "max", "training images per second of the epoch"),
    # trainables.watch.steady: a process's first epoch pays its warm-up, which says nothing about the config
    MetricKey("sys/epoch_s_steady", "s", "min", "mean sys/epoch_s of the epochs so far, each run's first (its "
              "warm-up: a fresh trial's, a resumed one's) left out while there are others: its last value is the "
              "trial's steady epoch time"),
    MetricKey("sys/samples_per_s_steady", "samples/s", "max", "mean sys/samples_per_s of the epochs so far, "
              "warm-up left out as in sys/epoch_s_steady"),
    MetricKey("sys/peak_mem_mb", "MB", "min", "peak memory of the epoch: the GPU's allocated, or the process's RSS"),
    MetricKey("sys/rob_eval_s", "s", "min", "wall time of the robustness evaluation, in the epochs it ran"),
    # trainables.watch.meters.ProcessMeter: what packing trials onto a node needs to know of one
    MetricKey("sys/cpu_cores", "cores", "min", "CPU the trial's process used over the epoch: its CPU seconds (every "
              "thread; DataLoader worker processes not counted) per wall second"),
    MetricKey("sys/rss_mb", "MB", "min", "the trial process's resident memory at the epoch's end"),
    MetricKey("sys/gpu_util_pct", "%", None, "the GPU's utilisation at the epoch's end, as NVML reports it (CUDA "
              "with NVML only): every process's work on that GPU"),
    MetricKey("sys/gpu_mem_reserved_mb", "MB", "min", "GPU memory torch's caching allocator holds at the epoch's "
              "end (CUDA only): what another trial on the same GPU cannot have"),
    MetricKey("rob/acc", "fraction", "max", "accuracy on corrupted evaluation images, mean over corruptions"),
    MetricKey("rob/acc/<corruption>", "fraction", "max", "rob/acc of one corruption, mean over its severities"),
    MetricKey("ses/penalty", "1", None, "the SES term added to the loss, lambda * sum (H - target)^2 (epoch mean)"),
    MetricKey("ses/beta", "1", None, "SES target entropy as a fraction of log d, from its schedule"),
    MetricKey("ses/entropy/<layer>", "nats", None, "spectral entropy of one hooked layer's activations"),
    MetricKey("loss_weight/<loss>", "1", None, "uncertainty weighting: the learned weight exp(-s) of one loss"),
    MetricKey("loss_log_var/<loss>", "1", None, "uncertainty weighting: the learned log-variance s of one loss"),
)

# eval.jacobian (trainables.watch.jacobian): κ(J) over each evaluated split's inputs, for the weights of every evaluation
# that runs (the EMA's; the last epoch's with checkpoint.keep=both). Only val/test: training never measures it.
_WHOSE = {"": "", "_ema": " (the EMA's weights)", "_last": " (the last epoch's weights)"}
JACOBIAN = tuple(
    MetricKey(f"{split}/jacobian_kappa{stat}{weights}", "1", "min",
              f"{how} over the {split} split's inputs of kappa(J) = sigma_max/sigma_min of the input->logit Jacobian"
              f"{_WHOSE[weights]}")
    for split, weights_of in (("val", ("", "_ema")), ("test", ("", "_ema", "_last")))
    for weights in weights_of
    for stat, how in (("", "mean"), ("_median", "median"))
)

# Per-trial figures the analysis computes (analysis.load): reductions over the epochs, or from the run itself.
DERIVED = (
    MetricKey("sys/epoch_s/mean", "s", "min", "mean sys/epoch_s over the trial's epochs: the last alone is noisy",
              derived=True),
    MetricKey("sys/epochs", "epochs", None, "epochs the trial trained (its sys/epoch_s reports): what it cost a "
              "search", derived=True),
    MetricKey("sys/samples_per_s/mean", "samples/s", "max", "mean sys/samples_per_s over the trial's epochs",
              derived=True),
    MetricKey("sys/peak_mem_mb/max", "MB", "min", "the highest sys/peak_mem_mb of the trial's epochs", derived=True),
    MetricKey("sys/trial_s", "s", "min", "the trial run's end - start (a resumed trial's pause counts)", derived=True),
    MetricKey("gap", "fraction difference", None,
              "the final gap/train_<split>_acc, whichever split was measured every epoch (val, or test without one)",
              derived=True),
)

# The study run's summary, written when the study ends (studies.tracking.summary)
SUMMARY = (
    MetricKey("trials/<status>", "trials", None, "how many trials ended with that hpstudy.status; trials/total"),
)
BEST_PREFIX = "best/"  # best/<key>: the best trial's final <key>, with <key>'s unit and direction


def _regex(pattern: str) -> re.Pattern:
    return re.compile("".join("[^/]+" if re.fullmatch(r"<\w+>", part) else re.escape(part)
                              for part in re.split(r"(<\w+>)", pattern)))


class MetricTable:
    """Lookups by key: exact keys first, then patterns in table order; `best/<key>` takes <key>'s row.

    Never changed once built: a study's own table is `METRICS.with_specs(its task's specs)`, a new table that the
    analysis hands along with that study's trials (analysis.load), so two studies' tasks never share one."""

    def __init__(self, rows: Iterable[MetricKey]) -> None:
        by_key = {r.key: r for r in rows}  # a later row of the same key (a task's own spec) wins
        bad = [r.key for r in by_key.values() if r.direction not in DIRECTIONS]
        if bad:
            raise ValueError(f"metric direction must be 'max', 'min' or None; bad rows: {', '.join(bad)}")
        self.rows = tuple(by_key.values())
        self._exact = {r.key: r for r in self.rows if "<" not in r.key}
        self._patterns = tuple((_regex(r.key), r) for r in self.rows if "<" in r.key)

    def __deepcopy__(self, memo: dict) -> MetricTable:
        return self  # never changed once built; pandas deep-copies a frame's attrs, which hold a study's table

    def with_specs(self, specs: Iterable[MetricSpec]) -> MetricTable:
        """This table plus a task's own metrics on every split (`split_metrics`)."""
        return MetricTable((*self.rows, *split_metrics(specs)))

    def find(self, key: str) -> MetricKey | None:
        if key in self._exact:
            return self._exact[key]
        for regex, row in self._patterns:
            if regex.fullmatch(key):
                return row
        if key.startswith(BEST_PREFIX):
            inner = self.find(key[len(BEST_PREFIX):])
            if inner is not None:
                return replace(inner, key=key, meaning=f"the study's best trial's final {inner.key}", derived=False)
        return None

    def __getitem__(self, key: str) -> MetricKey:
        row = self.find(key)
        if row is None:
            raise KeyError(f"unknown metric {key!r}; known: {', '.join(r.key for r in self.rows)}, "
                           f"{BEST_PREFIX}<any of these>")
        return row

    def __contains__(self, key: str) -> bool:
        return self.find(key) is not None

    def direction(self, key: str) -> str | None:
        """'max' | 'min' | None (no side is better); KeyError listing the known keys for an unknown one."""
        return self[key].direction


METRICS = MetricTable((*split_metrics((LOSS, ACC, AUC)), *PLATFORM, *JACOBIAN, *DERIVED, *SUMMARY))


def specs_to_json(specs: Iterable[MetricSpec]) -> str:
    """A task's metrics as the parent run's `hpstudy.metric_specs` tag."""
    return json.dumps([[s.name, s.direction, s.unit, s.meaning] for s in specs])


def specs_from_json(text: str) -> tuple[MetricSpec, ...]:
    """The inverse of `specs_to_json`; ValueError (one line) for a tag that is not one."""
    try:
        return tuple(MetricSpec(str(n), d, str(u), str(m)) for n, d, u, m in json.loads(text))
    except (ValueError, TypeError) as err:
        raise ValueError(f"hpstudy.metric_specs is not a JSON list of [name, direction, unit, meaning]: {err}") \
            from None


def direction(key: str, specs: Iterable[MetricSpec] = ()) -> str | None:
    """Which way `key` is better ('max' | 'min' | None), with a task's own `specs` known too."""
    specs = tuple(specs)
    return (METRICS.with_specs(specs) if specs else METRICS).direction(key)


def split_of(key: str) -> str | None:
    """'val' for 'val/acc', None for a key of no split ('lr', 'sys/epoch_s')."""
    head = key.split("/", 1)[0]
    return head if head in SPLITS and "/" in key else None


def on_split(key: str, split: str) -> str:
    """The same metric on another split: on_split('val/acc', 'test') == 'test/acc'."""
    if split_of(key) is None or split not in SPLITS:
        raise ValueError(f"on_split: {key!r} is not a per-split key or {split!r} not one of {', '.join(SPLITS)}")
    return f"{split}/{key.split('/', 1)[1]}"
