"""The study run's summary when the study ends: the best trial, the per-config mean of the study's metric and how
many trials ended how, as the metrics, tags and `summary.md` the parent run shows in MLflow's UI.

Pure computation over one row per trial, so it is tested without MLflow; studies.tracking.tracker reads and writes.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass

from hpstudy.schema import statuses, tags
from hpstudy.schema.metrics import BEST_PREFIX

# The best trial: of those that trained every epoch, as the report selects; only where none did, of those ASHA or
# the patience monitor stopped (an ASHA stop's value is an earlier epoch's, not comparable with a completed one's).
BEST_FROM = (statuses.COMPLETED, statuses.EARLY_STOPPED)
# A config's mean counts trials that trained every epoch, as the report's tables do (an early stop is an earlier
# epoch's value, not comparable).
MEAN_FROM = (statuses.COMPLETED,)
# Always in the parent's metrics, 0 or not, so the runs table has the same columns for every study.
COUNTED = (statuses.COMPLETED, statuses.EARLY_STOPPED, statuses.FAILED)


@dataclass(frozen=True)
class TrialRow:
    run_id: str
    trial_id: str
    config: str  # the hpstudy.config_name label
    seed: str
    status: str
    value: float | None  # the trial's final value of the study's metric; None when it never logged it


@dataclass(frozen=True)
class ConfigRow:
    config: str
    n: int  # trials counted (MEAN_FROM statuses, a finite value)
    mean: float
    std: float  # ddof=1; NaN for n=1


@dataclass(frozen=True)
class Summary:
    metric: str
    mode: str
    total: int
    counts: dict[str, int]  # status -> trials, every status that occurred and COUNTED
    best: TrialRow | None  # None when no trial of BEST_FROM logged a finite value
    configs: list[ConfigRow]  # best mean first

    def metrics(self) -> dict[str, float]:
        out = {"trials/total": float(self.total), **{f"trials/{s}": float(n) for s, n in self.counts.items()}}
        if self.best is not None:
            out[f"{BEST_PREFIX}{self.metric}"] = float(self.best.value)
        return out

    def tags(self) -> dict[str, str]:
        if self.best is None:
            return {}
        return {tags.BEST_CONFIG: self.best.config, tags.BEST_TRIAL_ID: self.best.trial_id,
                tags.BEST_TRIAL_RUN_ID: self.best.run_id}

    def headline(self) -> str:
        """'best val/acc 0.9123: lr=0.01 seed=0 [a1b2c3]' (or why there is none)."""
        if self.best is None:
            return f"no best trial: no {' or '.join(BEST_FROM)} trial logged a finite {self.metric}"
        b = self.best
        return f"best {self.metric} {b.value:.4g}: {b.config} seed={b.seed} [{b.trial_id}]"

    def markdown(self, study: str) -> str:
        counts = ", ".join(f"{n} {s}" for s, n in self.counts.items() if n)
        run = self.best.run_id if self.best else "-"
        means = f"Mean of the final {self.metric} over the {', '.join(MEAN_FROM)} trials of each config"
        lines = [f"# {study}", "", f"{self.headline()} ({self.mode} of the final {self.metric}; run `{run}`).", "",
                 f"{self.total} trials: {counts or 'none'}.", "", f"{means}, best first (std: ddof=1):", "",
                 "| config | n | mean | std |", "|---|---:|---:|---:|"]
        for c in self.configs:
            std = "—" if math.isnan(c.std) else f"{c.std:.4g}"
            lines.append(f"| {c.config.replace('|', '/')} | {c.n} | {c.mean:.4g} | {std} |")
        return "\n".join(lines) + "\n"


def _finite(row: TrialRow) -> bool:
    return row.value is not None and math.isfinite(row.value)


def summarize(rows: list[TrialRow], metric: str, mode: str) -> Summary:
    """`rows`: every trial of the study invocation; `mode`: the study's (max | min)."""
    if mode not in ("max", "min"):
        raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
    sign = 1.0 if mode == "max" else -1.0
    counted = Counter({s: 0 for s in COUNTED})
    counted.update(r.status for r in rows)
    candidates = next(([r for r in rows if r.status == s and _finite(r)] for s in BEST_FROM
                       if any(r.status == s and _finite(r) for r in rows)), [])
    # ties: the trial that started first (rows come in start order)
    best = max(candidates, key=lambda r: sign * r.value, default=None)
    groups: dict[str, list[float]] = {}
    for r in rows:
        if r.status in MEAN_FROM and _finite(r):
            groups.setdefault(r.config, []).append(r.value)
    configs = [ConfigRow(c, len(v), statistics.fmean(v), statistics.stdev(v) if len(v) > 1 else math.nan)
               for c, v in groups.items()]
    configs.sort(key=lambda c: -sign * c.mean)
    return Summary(metric, mode, len(rows), dict(counted), best, configs)
