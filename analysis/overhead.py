"""What each configuration costs relative to the baseline: epoch time, throughput, peak memory, trial time.

"+19% time" next to "+0.5 pp val/acc" is how a method's gain is weighed against its cost; paired by seed, with its 95%
t-interval, so that "+3%" on two noisy seeds does not read as a measured cost.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd

from analysis.stats import mean_ci
from analysis.tables import multiseed_table, pairing_flag

# (trials columns, the first one logged is used; what it is; unit; decimals); resources a study did not log are left
# out. Epoch time and throughput: the trainer's steady means (trainables.watch.steady: each run's first epoch, its
# warm-up, left out), else the mean over every epoch (a study logged before them, a training function of one's own).
RESOURCES = (
    (("sys/epoch_s_steady", "sys/epoch_s/mean"), "epoch time", "s", 2),
    (("sys/samples_per_s_steady", "sys/samples_per_s/mean"), "throughput", "samples/s", 0),
    (("sys/peak_mem_mb/max",), "peak memory", "MB", 0),
    (("sys/trial_s",), "trial time", "s", 1),
)
EPOCH_TIME = RESOURCES[0][0]
# With a baseline, per resource column: `/rel`, mean / the baseline's mean - 1; and paired by seed, over the seeds
# both configs have: `/rel_paired`, the mean of the per-seed ratios config / baseline - 1, its 95% t-interval
# (`/rel_ci_low`, `/rel_ci_high`; from 2 pairs) and `/n_pairs`.
PAIRED = ("rel_paired", "rel_ci_low", "rel_ci_high", "n_pairs")


def _logged(trials: pd.DataFrame, column: str) -> bool:
    return column in trials.columns and bool(trials[column].notna().any())


def resource_columns(frame: pd.DataFrame) -> list[tuple[str, str, str, int]]:
    """(column, what, unit, decimals) of each resource `frame` (trials, or an overhead table) has, in RESOURCES'
    order: the first of its candidate columns that is logged."""
    out = []
    for candidates, name, unit, dec in RESOURCES:
        column = next((c for c in candidates if _logged(frame, c)), None)
        if column is not None:
            out.append((column, name, unit, dec))
    return out


def _paired(trials: pd.DataFrame, column: str, baseline: str, counted: pd.Series) -> pd.DataFrame:
    """PAIRED columns per non-baseline config: per-seed ratios to the baseline's trial of the same seed."""
    kept = trials[counted & trials[column].notna()]
    base = kept[kept["config"] == baseline]
    rows = {}
    for config, group in kept.groupby("config", sort=False):
        if config == baseline:
            continue
        common, _ = pairing_flag(group["seed"], base["seed"])  # none where a seed is unknown or repeated
        ratios = (group.set_index("seed").loc[common, column].to_numpy(dtype=float)
                  / base.set_index("seed").loc[common, column].to_numpy(dtype=float) - 1)
        low, high = mean_ci(ratios)
        rows[config] = [ratios.mean() if len(ratios) else math.nan, low, high, len(ratios)]
    return pd.DataFrame.from_dict(rows, orient="index", columns=[f"{column}/{p}" for p in PAIRED])


def overhead_table(
    trials: pd.DataFrame, baseline: str | None = None, statuses: Iterable[str] = ("completed",)
) -> pd.DataFrame:
    """Per config: n, then for each resource logged its mean over counted trials and, with a baseline, `/rel`
    (0.19 = 19% more than the baseline) and its paired form (PAIRED: mean of per-seed ratios, 95% t-interval)."""
    statuses = tuple(statuses)
    out = None
    for column, *_ in resource_columns(trials):
        table = multiseed_table(trials, column, baseline=None, statuses=statuses)
        if out is None:
            out = table[["n"]].copy()
        out[column] = table["mean"]
        if baseline is not None:
            out[f"{column}/rel"] = table["mean"] / table.loc[baseline, "mean"] - 1
            if "seed" in trials.columns:
                out = out.join(_paired(trials, column, baseline, trials["status"].isin(statuses)))
    if out is None:
        return pd.DataFrame(index=pd.Index([], name="config"))
    if baseline is not None:  # the baseline first, as in the metric tables
        out = out.loc[[baseline, *[c for c in out.index if c != baseline]]]
    out.attrs = {"baseline": baseline, "statuses": statuses}
    return out


def _rel(x: float) -> str:
    return "—" if pd.isna(x) else "±0%" if abs(x) < 0.005 else f"{x:+.0%}"


def _relative(row: pd.Series, column: str) -> str:
    """"+3% [-2%, +8%]": paired over seeds with its 95% CI where there are 2 pairs or more, else the ratio of means."""
    low, high = row.get(f"{column}/rel_ci_low", math.nan), row.get(f"{column}/rel_ci_high", math.nan)
    if pd.isna(low) or pd.isna(high):
        return _rel(row[f"{column}/rel"])
    return f"{_rel(row[f'{column}/rel_paired'])} [{_rel(low)}, {_rel(high)}]"


def format_overhead_markdown(table: pd.DataFrame) -> str:
    """"1.93 s (+19% [+12%, +25%])" cells: absolute mean over seeds, then the change relative to the baseline."""
    if table.empty:
        return "no cost metrics (sys/epoch_s, sys/samples_per_s, sys/peak_mem_mb) were logged\n"
    baseline = table.attrs.get("baseline")
    present = resource_columns(table)
    head = ["config", "n", *[f"{name} ({unit})" for _, name, unit, _ in present]]
    lines = ["mean over counted trials (status " + ", ".join(table.attrs.get("statuses", ("completed",))) + ")"
             + ("; epoch time and throughput leave each trial's first epoch (its warm-up) out"
                if present[0][0] == EPOCH_TIME[0] else "")
             + (f"; (+k% [95% CI]): relative to {baseline}, the mean over seeds of config / {baseline} (same seed) - 1 "
                "and its t-interval (from 2 seeds; else the ratio of the means)" if baseline is not None else "") + ".",
             "", "| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
    for config, row in table.iterrows():
        cells = [str(config).replace("|", "\\|"), str(int(row["n"]))]
        for column, _, _, dec in present:
            cell = "—" if pd.isna(row[column]) else f"{row[column]:,.{dec}f}"
            if baseline is not None and config != baseline and not pd.isna(row[column]):
                cell += f" ({_relative(row, column)})"
            cells.append(cell)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def overhead_summary(table: pd.DataFrame) -> list[str]:
    """One phrase per non-baseline config, "beta=0.5 +1% [-2%, +4%]" (epoch time, paired over seeds, 95% CI), for
    the terminal."""
    baseline = table.attrs.get("baseline")
    column = next((c for c in EPOCH_TIME if f"{c}/rel" in table.columns), None)
    if baseline is None or column is None:
        return []
    return [f"{c} {_relative(r, column)}" for c, r in table.iterrows() if c != baseline]
