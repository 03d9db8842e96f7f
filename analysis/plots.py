"""Figures for a study report: the Pareto front and a metric against a swept parameter, as PNG files.

Agg backend: reports are written on headless machines and at the end of studies, never shown on a screen.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen before pyplot loads)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from analysis.formats import metric_unit  # noqa: E402
from hpstudy.schema.metrics import MetricTable  # noqa: E402

DPI = 150  # sharp in a PDF at column width, small enough to preview in the MLflow UI
FRONT, OTHER, BASE = "tab:red", "tab:blue", "0.3"  # front members, dominated configs, the baseline
MAX_LABEL = 24  # characters of a config name written next to a point; longer names become "#k" with a key


def axis_label(metric: str, metric_table: MetricTable) -> str:
    _, unit, _ = metric_unit(metric, metric_table)
    return f"{metric} ({unit})" if unit else metric


def save(fig, path: Path) -> Path:
    fig.tight_layout()
    # "tight" keeps legends and keys placed outside the axes (long config names) inside the image
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return path


def short_names(configs) -> dict[str, str]:
    """Configs as labels on a plot: themselves, or "#1", "#2", ... when any is too long (a search's "lr=..., ...")."""
    configs = [str(c) for c in configs]
    if max(map(len, configs), default=0) <= MAX_LABEL:
        return {c: c for c in configs}
    return {c: f"#{i + 1}" for i, c in enumerate(configs)}


def name_key(fig, names: dict[str, str]) -> None:
    """Under the figure, what each "#k" stands for (nothing when the names are the configs themselves)."""
    key = [f"{short}: {config}" for config, short in names.items() if short != config]
    if key:
        fig.text(0.01, 0, "\n".join(key), fontsize=7, va="top", ha="left")


def _pareto_panel(ax, table: pd.DataFrame, x: tuple[str, str], y: tuple[str, str], baseline: str | None,
                  curve: bool, names: dict[str, str], metric_table: MetricTable) -> None:
    (mx, dx), (my, dy) = x, y
    sx, sy = metric_unit(mx, metric_table)[0], metric_unit(my, metric_table)[0]
    for on_front, color, name in ((False, OTHER, "dominated"), (True, FRONT, "Pareto front")):
        part = table[table["on_front"] == on_front].dropna(subset=[mx, my])
        ax.errorbar(part[mx] * sx, part[my] * sy, xerr=part[f"{mx}/std"].fillna(0) * sx,
                    yerr=part[f"{my}/std"].fillna(0) * sy, fmt="o", color=color, ecolor=color, alpha=0.85,
                    capsize=3, label=f"{name} ({len(part)})")
        for config, row in part.iterrows():
            ax.annotate(names[str(config)], (row[mx] * sx, row[my] * sy), textcoords="offset points", xytext=(5, 4),
                        fontsize=8, fontweight="bold" if config == baseline else "normal",
                        bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.7})
    front = table[table["on_front"]].dropna(subset=[mx, my]).sort_values(mx)
    if curve and len(front) > 1:  # with two objectives the front is a monotone trade-off curve in this order
        ax.plot(front[mx] * sx, front[my] * sy, "--", color=FRONT, alpha=0.5, lw=1)
    ax.set_xlabel(f"{axis_label(mx, metric_table)}  [{'→' if dx == 'max' else '←'} better]")
    ax.set_ylabel(f"{axis_label(my, metric_table)}  [{'↑' if dy == 'max' else '↓'} better]")
    ax.grid(alpha=0.3)


def plot_pareto(table: pd.DataFrame, path: Path, title: str = "", baseline: str | None = None,
                order: list[str] | None = None, *, metric_table: MetricTable) -> Path:
    """The front of `pareto.pareto_table`: means over seeds ± std; three objectives as three pairwise panels, in the
    units of the study's `metric_table`. Long config names are numbered in `order` (the report's table order: #1 is
    its first row)."""
    objectives = table.attrs["objectives"]
    pairs = [(0, 1)] if len(objectives) == 2 else [(0, 1), (0, 2), (1, 2)]
    names = short_names(order or table.index)
    fig, axes = plt.subplots(1, len(pairs), figsize=(6.4 * len(pairs), 4.8), squeeze=False)
    for ax, (i, j) in zip(axes[0], pairs):
        # a 3-objective front seen in two of them is no curve: its members are only marked
        _pareto_panel(ax, table, objectives[i], objectives[j], baseline, curve=len(objectives) == 2, names=names,
                      metric_table=metric_table)
    name_key(fig, names)
    axes[0][0].legend(loc="best", fontsize=8, title="error bars: ± std over seeds", title_fontsize=8)
    fig.suptitle(title or "Pareto front over configurations (mean over seeds)")
    return save(fig, path)


def plot_hypervolume(history: pd.DataFrame, path: Path, title: str = "") -> Path:
    """`hypervolume.hypervolume_history`: the normalized hypervolume as a step against the epochs spent, a dot at
    each trial (red where a counted trial moved it)."""
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    x, y = history["epochs_spent"].to_numpy(), history["hypervolume"].to_numpy()
    ax.step(np.r_[0, x], np.r_[0.0, y], where="post", color=OTHER)
    moved = np.diff(np.r_[0.0, y]) > 0
    ax.plot(x[~moved], y[~moved], "o", color=OTHER, ms=3, label="a trial")
    ax.plot(x[moved], y[moved], "o", color=FRONT, ms=4, label="a trial that added volume")
    objectives = ", ".join(f"{m} {'↑' if d == 'max' else '↓'}" for m, d in history.attrs["objectives"])
    ax.set_xlabel("epochs spent by all trials so far (in the order they started)")
    ax.set_ylabel(f"hypervolume (normalized; reference {history.attrs['reference']})")
    ax.set_title(objectives, fontsize=9)
    ax.legend(loc="lower right", fontsize=8)
    fig.suptitle(title or "Hypervolume against epochs spent")
    return save(fig, path)


def _log_x(x: np.ndarray) -> bool:
    # learning rates and weight decays are swept over decades; β and dropout are not
    return bool(len(x) and (x > 0).all() and x.max() / x.min() >= 20)


def _baseline_band(ax, row: pd.Series, name: str, scale: float, unit: str) -> None:
    ax.axhline(row["mean"] * scale, color=BASE, lw=1.2, label=f"{name} (mean, n={int(row['n'])})")
    if not pd.isna(row["ci_low"]):
        low, top = row["ci_low"] * scale, row["ci_high"] * scale
        if unit == "%":  # a percentage lives in [0, 100], whatever a t-interval on 2 seeds says
            low, top = max(low, 0.0), min(top, 100.0)
        ax.axhspan(low, top, color=BASE, alpha=0.12, label=f"{name} 95% CI")


def plot_vs_param(trials: pd.DataFrame, table: pd.DataFrame, values: pd.Series, param: str, path: Path,
                  connect: bool = True, *, metric_table: MetricTable) -> Path:
    """A metric (mean, 95% CI band, each seed as a dot) against a swept param; the baseline as a horizontal band.

    `connect=False` (several params swept at once, as in a search) draws the means as points only: a line
    through them would suggest that this param alone moves the metric."""
    metric, baseline = table.attrs["metric"], table.attrs.get("baseline")
    statuses = table.attrs.get("statuses", ("completed",))
    scale, unit, _ = metric_unit(metric, metric_table)
    counts = table["n"].reindex(values.index)  # one lookup for all, not one per config: a search has thousands
    configs = list(values.index[counts.notna() & (counts > 0)])
    x = values[configs].to_numpy(dtype=float)
    order = np.argsort(x, kind="stable")
    cfg = [configs[i] for i in order]
    means, lo, hi = (table.loc[cfg, c].to_numpy(dtype=float) * scale for c in ("mean", "ci_low", "ci_high"))
    if unit == "%":  # a t-interval of 2 seeds reaches past 100%; the band stops where accuracy does
        lo, hi = np.clip(lo, 0, 100), np.clip(hi, 0, 100)
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    if baseline is not None and table.loc[baseline, "n"] > 0:
        _baseline_band(ax, table.loc[baseline], str(baseline), scale, unit)
    unique_x = len(set(x)) == len(x)
    if connect and unique_x and len(cfg) > 1:
        ax.plot(x[order], means, "o-", color=OTHER, label="mean over seeds")
        ax.fill_between(x[order], lo, hi, color=OTHER, alpha=0.18, label="95% CI of the mean")
    else:
        ax.plot(x[order], means, "o", color=OTHER, label="mean over seeds")
    counted = trials[trials["status"].isin(statuses) & trials["config"].isin(cfg)]
    ax.scatter(counted["config"].map(values).astype(float), counted[metric] * scale, s=12, color="k", alpha=0.5,
               zorder=3, label="one seed")
    if _log_x(x):
        ax.set_xscale("log")
        # 0.01, 0.02, 0.05, 0.1, ...: readable values; labelled minor ticks would overlap
        ax.xaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel(param)
    ax.set_ylabel(axis_label(metric, metric_table))
    n = sorted({int(k) for k in table["n"].reindex(cfg)})
    seeds = "seed" if n == [1] else "seeds"
    ax.set_title(f"{metric} vs {param} (n = {', '.join(map(str, n))} {seeds} per point)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return save(fig, path)
