"""The order Tune's variant generator hands out a grid's trials, read from the searcher the tuner builds (no Ray
started, no trial run): seed by seed, as the dry run lists it, so no configuration's trials all come first."""

from __future__ import annotations

from dataclasses import replace

import pytest
from ray.tune.experiment import Experiment

from search_spaces import Grid
from studies import registry
from studies.cli.dry_run import grid_trials
from studies.tune.tuner import _samples, _searcher, _space


def _noop(config):
    pass


def tune_order(study, tmp_path) -> list[tuple[str | None, int]]:
    """(variant, seed) of each trial, in the order Tune would start them."""
    searcher, _ = _searcher(study, limit=2)
    if searcher is None:  # a grid without a seed Grid: Tune's default generator
        from ray.tune.search import BasicVariantGenerator

        searcher = BasicVariantGenerator()
    searcher.add_configurations([Experiment("order", run=_noop, config=_space(study), num_samples=_samples(study),
                                            storage_path=str(tmp_path))])
    searcher.max_concurrent = 0  # hand out every trial now: none is running to wait for
    order = []
    while (trial := searcher.next_trial()) is not None:
        variant = trial.config.get("variant")
        order.append((variant["name"] if variant else None, trial.config.get("seed", 0)))
    return order


def _sweep(**changes):
    study = registry.load("ses_beta_sweep").get_study("local")
    return replace(study, **changes)


@pytest.mark.parametrize("study", [
    _sweep(), _sweep(num_samples=2, space={**_sweep().space, "seed": Grid((3, 4, 5))}),
    _sweep(space={"variant": _sweep().space["variant"]}),  # no seed Grid: Tune's own order
], ids=["sweep", "three-seeds-twice", "one-seed"])
def test_tune_starts_the_grid_in_the_dry_runs_order(study, tmp_path):
    planned = [(t.variant, t.seed) for t in grid_trials(study)]
    assert tune_order(study, tmp_path) == planned
    assert len(planned) == study.total_trials()


def test_each_seed_round_holds_every_configuration(tmp_path):
    order = tune_order(_sweep(), tmp_path)
    assert [seed for _, seed in order] == [0] * 5 + [1] * 5
    assert order[:5] == [(name, 0) for name in ("baseline", "beta=0.3", "beta=0.5", "beta=0.7", "beta=0.9")]
