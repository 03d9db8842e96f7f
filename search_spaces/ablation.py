"""Ablation from a best configuration: the leave-one-out arms of `best` against a `reference` (the baseline's
values), as the Variants of one paired study.

Each arm reverts one changed hyperparameter (or one named group of them, e.g. a loss and its smoothing) to the
reference's value while keeping the rest of `best`; with `best` as the study's baseline, each arm's Δ is what that
change is worth in the company of the others, and the report's Holm-adjusted p (analysis.tables) holds the
family's error rate. The `reference` arm reverts everything: the whole gain.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from search_spaces.distributions import Variants

BEST, REFERENCE = "best", "reference"


class AblationError(ValueError):
    """An ablation that cannot be built; one line naming the key."""


def leave_one_out(best: Mapping[str, Any], reference: Mapping[str, Any], *,
                  groups: Mapping[str, Iterable[str]] | None = None, best_name: str = BEST,
                  reference_name: str = REFERENCE) -> Variants:
    """Variants: `best_name` (all of `best`), one "without <change>" arm per changed key or named group (that part
    reverted to `reference`), and `reference_name` (everything reverted). Keys are override keys ("optim.lr")."""
    missing = sorted(set(best) - set(reference))
    if missing:
        raise AblationError(f"leave_one_out: the reference has no value for {', '.join(missing)}; give the "
                            "baseline's value of every key the best config sets")
    changed = [k for k in best if best[k] != reference[k]]
    if not changed:
        raise AblationError("leave_one_out: the best config equals the reference; nothing to ablate")
    named = {name: list(keys) for name, keys in (groups or {}).items()}
    grouped = [k for keys in named.values() for k in keys]
    unknown = sorted(set(grouped) - set(changed))
    twice = sorted({k for k in grouped if grouped.count(k) > 1})
    if unknown or twice:
        raise AblationError("leave_one_out: groups name " + "; ".join(
            [f"{', '.join(unknown)}, which the best config does not change"] * bool(unknown)
            + [f"{', '.join(twice)} in more than one group"] * bool(twice)))
    parts = {**named, **{k: [k] for k in changed if k not in grouped}}
    arms = [{"name": best_name, **best}]
    arms += [{"name": f"without {part}", **best, **{k: reference[k] for k in keys}} for part, keys in parts.items()]
    arms.append({"name": reference_name, **best, **{k: reference[k] for k in changed}})
    return Variants(tuple(arms))
