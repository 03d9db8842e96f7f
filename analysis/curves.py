"""Figures per configuration: learning curves (mean ± std over seeds per epoch) and per-corruption robustness bars.

Uses the Agg backend that `analysis.plots` selects on import.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.formats import metric_unit
from analysis.plots import BASE, MAX_LABEL, axis_label, plt, save
from hpstudy.schema.metrics import MetricTable

MAX_CONFIGS = 10  # more lines than this are unreadable; a search's table order puts its best configs first


def _colors(configs: list[str], baseline: str | None) -> dict[str, str]:
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    others = [c for c in configs if c != baseline]
    return {**{c: cycle[i % len(cycle)] for i, c in enumerate(others)}, **({baseline: BASE} if baseline else {})}


def _curve(ax, history: pd.DataFrame, scale: float, color: str, name: str, thick: bool) -> None:
    """Mean over the config's trials at each epoch, ± std as a band; n = trials at the longest-run epoch."""
    g = history.groupby("step")["value"].agg(["mean", "std", "count"])
    steps, mean, std = g.index.to_numpy(), g["mean"].to_numpy() * scale, g["std"].fillna(0).to_numpy() * scale
    ax.plot(steps, mean, "-o", ms=3, color=color, lw=2 if thick else 1.4, label=f"{name} (n={int(g['count'].max())})")
    ax.fill_between(steps, mean - std, mean + std, color=color, alpha=0.15, lw=0)


def plot_learning_curves(history: pd.DataFrame, trials: pd.DataFrame, configs: list[str], keys: list[str],
                         path: Path, baseline: str | None = None, title: str = "Learning curves per configuration",
                         *, metric_table: MetricTable) -> Path:
    """One panel per key: per config (in `configs` order, at most MAX_CONFIGS) the mean over its trials at each
    epoch with a ± std band, in the units of the study's `metric_table`. `history` is `load_history`'s long frame
    for the trials to draw."""
    shown = configs[:MAX_CONFIGS]
    colors = _colors(shown, baseline)
    hist = history.merge(trials[["run_id", "config"]], on="run_id")
    fig, axes = plt.subplots(1, len(keys), figsize=(5.6 * len(keys), 4.2), squeeze=False)
    for ax, key in zip(axes[0], keys):
        scale = metric_unit(key, metric_table)[0]
        for config in shown:
            h = hist[(hist["config"] == config) & (hist["key"] == key)]
            if not h.empty:
                _curve(ax, h, scale, colors[config], str(config), thick=config == baseline)
        ax.set_xlabel("epoch")
        ax.set_ylabel(axis_label(key, metric_table))
        ax.grid(alpha=0.3)
        if not hist[hist["key"] == key].empty:
            ax.xaxis.get_major_locator().set_params(integer=True)
    # below the panels: a legend inside would cover curves, and a search's config names are long
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0), fontsize=8, title_fontsize=8,
               ncol=1 if max(map(len, labels), default=0) > MAX_LABEL else min(len(labels), 4) or 1,
               title="mean ± std over seeds")
    more = f" (the first {len(shown)} of {len(configs)} in table order)" if len(configs) > len(shown) else ""
    fig.suptitle(f"{title}{more}")
    return save(fig, path)


def corruption_columns(trials: pd.DataFrame, prefix: str = "rob/acc/") -> list[str]:
    """Per-corruption accuracy columns (`rob/acc/<corruption>`), in the order they appear."""
    return [c for c in trials.columns if c.startswith(prefix) and trials[c].notna().any()]


def plot_robustness(trials: pd.DataFrame, configs: list[str], columns: list[str], path: Path,
                    baseline: str | None = None, statuses=("completed",)) -> Path:
    """Grouped bars: per corruption (and their mean, `rob/acc`, first), one bar per config, ± std over seeds."""
    shown = configs[:MAX_CONFIGS]
    colors = _colors(shown, baseline)
    keys = (["rob/acc"] if "rob/acc" in trials.columns else []) + columns
    counted = trials[trials["status"].isin(statuses)]
    stats = counted.groupby("config")[keys].agg(["mean", "std"])
    width = 0.8 / max(len(shown), 1)
    x = np.arange(len(keys))
    fig, ax = plt.subplots(figsize=(max(6.4, 1.1 * len(keys) + 2), 4.4))
    for i, config in enumerate(shown):
        if config not in stats.index:
            continue
        mean = np.array([stats.loc[config, (k, "mean")] for k in keys]) * 100
        std = np.nan_to_num(np.array([stats.loc[config, (k, "std")] for k in keys])) * 100
        ax.bar(x + (i - (len(shown) - 1) / 2) * width, mean, width, yerr=std, capsize=2, color=colors[config],
               label=config, edgecolor="white", lw=0.5)
    ax.set_xticks(x, ["mean" if k == "rob/acc" else k[len("rob/acc/"):] for k in keys], rotation=30, ha="right")
    ax.set_ylabel("accuracy under corruption (%)")
    ax.set_title("Robustness per corruption (mean ± std over seeds)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="best", ncol=2 if len(shown) > 5 else 1)
    return save(fig, path)
