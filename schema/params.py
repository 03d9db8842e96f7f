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
