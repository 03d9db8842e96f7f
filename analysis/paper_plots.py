"""The paper's bar charts: each configuration's figures (mean ± std over seeds, each seed a dot) and its paired Δ.

Uses the Agg backend that `analysis.plots` selects on import.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.formats import metric_unit
from analysis.plots import BASE, OTHER, axis_label, plt, save, short_names
from analysis.seed_table import COUNTED, SeedTable

COLORS = (OTHER, "tab:orange")  # Acc, Rob


def _xticks(ax, configs: list[str]) -> None:
    names = short_names(configs)
    ax.set_xticks(np.arange(len(configs)), [names[c] for c in configs], rotation=30, ha="right", fontsize=8)


def plot_bars(trials: pd.DataFrame, table: SeedTable, configs: list[str], path: Path, title: str) -> Path:
    """Per config: a bar per measured metric (the test lead, and robustness where measured), ± std, seeds as dots."""
    keys = [k for k in (table.keys.acc, table.keys.rob) if k in trials and trials[k].notna().any()]
    if not keys:
        raise ValueError(f"neither {table.keys.acc} nor {table.keys.rob} was logged")
    counted = trials[trials["status"].isin(COUNTED)]
    width = 0.8 / len(keys)
    x = np.arange(len(configs))
    fig, ax = plt.subplots(figsize=(max(6.4, 0.9 * len(configs) + 2), 4.4))
    for i, (key, color) in enumerate(zip(keys, COLORS)):
        scale, label = metric_unit(key, table.metric_table)[0], axis_label(key, table.metric_table)
        groups = [counted.loc[counted["config"].astype(str) == c, key].dropna() * scale for c in configs]
        means = [g.mean() if len(g) else np.nan for g in groups]
        stds = [g.std(ddof=1) if len(g) > 1 else 0.0 for g in groups]
        offset = (i - (len(keys) - 1) / 2) * width
        ax.bar(x + offset, means, width, yerr=stds, capsize=3, color=color, alpha=0.8, label=label)
        for j, g in enumerate(groups):
            ax.scatter(np.full(len(g), x[j] + offset), g, s=10, color="k", alpha=0.6, zorder=3)
    _xticks(ax, configs)
    ax.set_ylabel("mean ± std over seeds")
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return save(fig, path)


def plot_delta(table: SeedTable, path: Path, title: str) -> Path:
    """Per config but the baseline: paired Δ of the lead (and of robustness), with its 95% CI where one exists."""
    rows = table.rows[table.rows["vs"].notna()]
    attrs = [a for a in ("acc", "rob") if f"d_{a}" in rows and rows[f"d_{a}"].notna().any()]
    if rows.empty or not attrs:
        raise ValueError("no paired Δ: the study has no baseline, or no configuration shares seeds with it")
    configs = [str(c) for c in rows.index]
    width = 0.8 / len(attrs)
    x = np.arange(len(configs))
    fig, ax = plt.subplots(figsize=(max(6.4, 0.9 * len(configs) + 2), 4.4))
    for i, (attr, color) in enumerate(zip(attrs, COLORS)):
        key = getattr(table.keys, attr)
        scale, _, dunit = metric_unit(key, table.metric_table)
        d = rows[f"d_{attr}"].astype(float).to_numpy() * scale
        low = rows.get(f"d_{attr}/low", pd.Series(np.nan, index=rows.index)).astype(float).to_numpy() * scale
        high = rows.get(f"d_{attr}/high", pd.Series(np.nan, index=rows.index)).astype(float).to_numpy() * scale
        err = np.nan_to_num(np.vstack([d - low, high - d]))  # no bar where no CI was computed
        ax.bar(x + (i - (len(attrs) - 1) / 2) * width, d, width, yerr=err, capsize=3, color=color, alpha=0.8,
               label=f"Δ {key} ({dunit or 'as logged'})")
    ax.axhline(0, color=BASE, lw=1)
    _xticks(ax, configs)
    ax.set_ylabel("paired Δ vs its reference (95% CI where n ≥ 3 pairs)")
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return save(fig, path)
