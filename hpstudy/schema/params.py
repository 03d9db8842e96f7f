"""MLflow params and artifact names hpstudy writes: which params identify a configuration, where files go."""

from __future__ import annotations

# Trial params that differ between trials without describing the configuration: never part of a config label.
RUN_SPECIFIC = frozenset({"seed", "device", "num_threads"})
STUDY_PREFIX = "study."  # the parent run's params: study.search, study.metric, study.mode, study.num_samples, ...
LR_RANGE_SUGGESTION = "lr_range.suggestion"  # parent run, with --lr-range: the optim.lr every trial trained at

# Artifacts
BASE_CONFIG = "base_config.yaml"  # parent: the base config every trial starts from (before its sampled values)
SUMMARY = "summary.md"  # parent: best trial, per-config mean of the study's metric, counts by status
TRIAL_CONFIG = "config.yaml"  # trial: the resolved config it trained with
TRIAL_HISTORY = "history.csv"  # trial: one row per epoch, a column per metric logged
INIT_REPORT = "init_report.txt"  # trial: the warm-start coverage report
TRIAL_RETRIES = "retries.txt"  # trial: one line per retry after its process died or it raised
BEST_MODEL = "best_model"  # parent: the best trial's weights, an MLflow PyTorch model (studies.tracking.best_model)

# The study's pretraining (Study.pretrain), on the parent run
PRETRAIN_CHECKPOINT = "pretrain.checkpoint"  # the state.pt every trial's init.checkpoint names
PRETRAIN_STOP = "pretrain.stop"  # how it ended when a monitor stopped it (stop/reason: stop/detail)
PRETRAIN_METRIC_PREFIX = "pretrain/"  # its final report: pretrain/val/acc, pretrain/test/acc, ...
PRETRAIN_ARTIFACTS = "pretrain"  # its artifacts: state.pt, history.json, config.yaml
LR_RANGE_ARTIFACTS = "lr_range"  # the LR range test's curve: lr_range.csv, lr_range.png
