"""Where the driver's time goes: a cProfile of the hpstudy side's main thread (where Tune's controller loop, its
callbacks and hpstudy's tracker run), summed by area, with the top cumulative entries."""

from __future__ import annotations

import pstats
from pathlib import Path
from typing import Any

ROOT = f"{Path(__file__).resolve().parents[1]}/"  # this repository: its files print relative to it

# area -> does (file, function) belong to it; the first matching area owns a function.
AREAS: tuple[tuple[str, Any], ...] = (
    ("Tune experiment-state snapshot",
     lambda f, fn: f.endswith("ray/tune/execution/experiment_state.py")
     or (f.endswith("ray/tune/execution/tune_controller.py") and fn in ("checkpoint", "save_to_dir"))),
    ("MLflow (its SQLite store included)",
     lambda f, fn: any(p in f for p in ("/mlflow/", "/sqlalchemy/", "/alembic/"))),
    ("Optuna", lambda f, fn: "/optuna/" in f),
    ("waiting on Ray (ray.wait/ray.get)", lambda f, fn: f.endswith("ray/_private/worker.py") and fn in ("wait", "get")),
)
# phases of the run, printed beside the areas (they hold calls of the areas: not summed with them)
PHASES: tuple[tuple[str, Any], ...] = (
    ("Ray start (studies.tune.cluster.connect)",
     lambda f, fn: f.endswith("studies/tune/cluster.py") and fn == "connect"),
    ("Tune's run (ray.tune.Tuner.fit)", lambda f, fn: f.endswith("ray/tune/tuner.py") and fn == "fit"),
    ("after the trials (studies.cli.execute._close)", lambda f, fn: f.endswith("studies/cli/execute.py")
     and fn == "_close"),
)
TOP = 15  # cumulative entries printed
PASSES = 40  # of _shares: deeper call chains than this leave their tail's time to other


def area_of(key: tuple[str, int, str]) -> str | None:
    file, _, function = key
    return next((name for name, owns in AREAS if owns(file, function)), None)


def summarize(stats: pstats.Stats) -> dict[str, Any]:
    """{'total_s', 'areas': {area: s}, 'other_s', 'phases', 'top': [(s, area, 'file:line(function)')]}. Every
    function's own time goes to its area; a function of no area (the standard library, Tune's loop) splits its own
    time among its callers' areas in proportion to the time each call brought it, as gprof assumes: so the areas and
    other are exclusive and sum to the profiled total."""
    raw = stats.stats  # type: ignore[attr-defined]  # {func: (cc, nc, tt, ct, callers{caller: (cc, nc, tt, ct)})}
    owner = {func: area_of(func) for func in raw}
    share = _shares(raw, owner)
    areas = {name: 0.0 for name, _ in AREAS}
    other = 0.0
    for func, (_, _, tt, _, _) in raw.items():
        for area, weight in share[func].items():
            if area is None:
                other += tt * weight
            else:
                areas[area] += tt * weight
    total = sum(tt for _, _, tt, _, _ in raw.values())
    top = sorted(((ct, owner[func], _where(func)) for func, (_, _, _, ct, _) in raw.items()
                  if _interesting(func) and ct < 0.9 * total), key=lambda entry: entry[0], reverse=True)[:TOP]
    phases = {name: sum(ct for func, (_, _, _, ct, _) in raw.items() if owns(func[0], func[2]))
              for name, owns in PHASES}
    return {"total_s": total, "areas": areas, "other_s": other, "top": top, "phases": phases}


def _shares(raw: dict, owner: dict) -> dict[Any, dict[str | None, float]]:
    """Each function's {area (None: other): fraction of its time}, passed down from its callers, PASSES times."""
    share: dict[Any, dict[str | None, float]] = {func: {owner[func]: 1.0} for func in raw}
    for _ in range(PASSES):
        new = {}
        for func, (_, _, _, _, callers) in raw.items():
            brought = sum(edge[3] for edge in callers.values())
            if owner[func] is not None or not brought:
                new[func] = {owner[func]: 1.0}
                continue
            mix: dict[str | None, float] = {}
            for caller, edge in callers.items():
                for area, weight in share.get(caller, {None: 1.0}).items():
                    mix[area] = mix.get(area, 0.0) + weight * edge[3] / brought
            new[func] = mix
        share = new
    return share


def _interesting(func: tuple[str, int, str]) -> bool:
    file = func[0]
    return any(p in file for p in ("/ray/tune/", "/mlflow/", "/optuna/", "/studies/", "/sqlalchemy/", "json"))


def _where(func: tuple[str, int, str]) -> str:
    file, line, function = func
    for marker in ("site-packages/", ROOT):
        if marker in file:
            file = file.split(marker, 1)[1]
    return f"{file}:{line}({function})"


def lines(summary: dict[str, Any]) -> list[str]:
    total = summary["total_s"]
    out = [f"driver main thread under cProfile: {total:.1f} s of own time, by area (exclusive; a helper's time goes "
           "to its callers' areas):"]
    for name, s in [*summary["areas"].items(), ("other", summary["other_s"])]:
        out.append(f"  {name:<40} {s:8.1f} s  {100 * s / total:5.1f} %")
    out.append("phases (they contain calls of the areas above):")
    out += [f"  {name:<46} {s:8.1f} s" for name, s in summary["phases"].items()]
    out.append(f"top {TOP} cumulative entries (Tune, MLflow, Optuna, studies, json):")
    out += [f"  {s:8.1f} s  {area or '':<36} {where}" for s, area, where in summary["top"]]
    return out
