"""Hypervolume of a search against what it spent: after each trial (in the order trials started), the volume the
trials so far dominate, and the epochs they trained. Pure: the trials frame in, a frame out.

Objectives live on different scales (an accuracy, a robustness, seconds per epoch), so each is mapped onto the
study's own observed range before the volume is taken: 0 at its best value among the counted trials, 1 at its
worst, and the reference point is 1.1 in every objective (the worst values, 10% of the range further out; a common
choice, so the trials at an extreme still add volume). The figure is comparable along one study's history, not
between studies: the normalization is the study's. The volume itself is Optuna's (`compute_hypervolume`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from optuna._hypervolume import compute_hypervolume  # in optuna._hypervolume's __all__; used by

# optuna.visualization.plot_hypervolume_history: Optuna's exact WFG algorithm, with a fast 2-D path

EPOCHS = "sys/epochs"  # analysis.load's count of the epochs a trial trained
REFERENCE = 1.1  # the reference point, in normalized units (0 best, 1 worst observed)
COLUMNS = ("trial", "config", "status", "epochs", "epochs_spent", "hypervolume", "of_final")


def hypervolume(points: Iterable[Sequence[float]], reference: Sequence[float]) -> float:
    """The volume dominated by `points` (every objective minimized) inside the box below `reference`; points not
    strictly better than the reference in every objective, or with a NaN, add nothing."""
    ref = np.asarray(reference, dtype=float)
    inside = [p for p in points if all(math.isfinite(v) for v in p) and np.all(np.asarray(p, dtype=float) < ref)]
    if not inside:
        return 0.0
    return float(compute_hypervolume(np.asarray(inside, dtype=float), ref))


def normalized(values: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    """(n, k) objective values -> minimized, 0 at each column's best finite value and 1 at its worst (a column
    whose values are all equal maps to 0). NaNs stay NaN."""
    signed = values * np.where(np.asarray(directions) == "max", -1.0, 1.0)
    low, high = np.nanmin(signed, axis=0), np.nanmax(signed, axis=0)
    span = np.where(high > low, high - low, 1.0)
    return (signed - low) / span


def hypervolume_history(trials: pd.DataFrame, objectives: Sequence[tuple[str, str]],
                        statuses: Iterable[str] = ("completed",)) -> pd.DataFrame:
    """One row per trial, in the frame's order (analysis.load sorts trials by start): its epochs, the epochs all
    trials so far trained (every trial costs its epochs, however it ended), and the normalized hypervolume of the
    final objective values of the trials so far whose status is in `statuses` (the same trials the Pareto table
    counts), also as a fraction of the study's final hypervolume."""
    statuses = tuple(statuses)
    metrics = [m for m, _ in objectives]
    missing = [m for m in (*metrics, EPOCHS) if m not in trials.columns]
    if missing:
        raise ValueError(f"the trials frame lacks {', '.join(missing)}")
    counted = trials["status"].isin(statuses).to_numpy()
    values = trials[metrics].to_numpy(dtype=float, copy=True)
    values[~counted] = np.nan
    points = normalized(values, [d for _, d in objectives]) if counted.any() else values
    reference = [REFERENCE] * len(objectives)
    epochs = trials[EPOCHS].fillna(0).astype(int).to_numpy()
    volumes = [hypervolume(points[: i + 1], reference) for i in range(len(trials))]
    final = volumes[-1] if volumes else 0.0
    out = pd.DataFrame({
        "trial": range(1, len(trials) + 1), "config": trials["config"].astype(str).to_numpy(),
        "status": trials["status"].to_numpy(), "epochs": epochs, "epochs_spent": np.cumsum(epochs),
        "hypervolume": volumes, "of_final": [v / final if final > 0 else math.nan for v in volumes]},
        columns=list(COLUMNS))
    out.attrs = {"objectives": list(objectives), "statuses": statuses, "reference": REFERENCE}
    return out


def format_hypervolume_markdown(history: pd.DataFrame, rows: int = 12) -> str:
    """The history at about `rows` evenly spaced trials (always the last), with what the numbers mean."""
    objectives = ", ".join(f"{m} {'↑' if d == 'max' else '↓'}" for m, d in history.attrs["objectives"])
    n = len(history)
    picks = sorted({round(i * (n - 1) / max(rows - 1, 1)) for i in range(min(rows, n))}) if n else []
    lines = [f"Hypervolume of the trials so far ({objectives}; each objective scaled to 0 at the study's best, 1 at "
             f"its worst; reference {history.attrs['reference']}), against the epochs all trials so far trained. "
             f"Counted: {', '.join(history.attrs['statuses'])} trials.", "",
             "| trials | epochs spent | hypervolume | of the final |", "|---:|---:|---:|---:|"]
    for i in picks:
        row = history.iloc[i]
        share = "—" if math.isnan(row["of_final"]) else f"{row['of_final']:.2f}"
        lines.append(f"| {int(row['trial'])} | {int(row['epochs_spent'])} | {row['hypervolume']:.4f} | {share} |")
    return "\n".join(lines) + "\n"
