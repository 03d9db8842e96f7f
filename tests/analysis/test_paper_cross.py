"""The paper's figures that join two studies (Exp 17 = 17a + 17b): drawn from both halves' runs of one profile,
every configuration named by its half; otherwise the document says which half is missing or why they do not join."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from analysis.paper import build
from analysis.paper_cross import CROSS, cross_figures, joined_trials
from analysis.paper_runs import collect
from tests.analysis.conftest import T0
from tests.analysis.test_paper import SEEDS, _beta, _study, final_acc, latex_problems, run_main

BETAS = {"baseline": 0.55, "beta=0.3": 0.56, "beta=0.5": 0.58}
LAYERS = {"baseline": 0.55, "layers=first:4": 0.54, "layers=last:4": 0.57}
NAMES = [name for figures in CROSS.values() for name, _, _ in figures]


def _layers(config: str) -> dict:
    return ({"ses.enabled": False} if config == "baseline" else
            {"ses.enabled": True, "ses.layers": config.split("=")[1]}) | {"rob.enabled": True, "epochs": 3}


def _store(root, *, layers_profile: str | None):
    """ses_vit_beta_sweep (local) and, unless None, ses_vit_layers of `layers_profile`."""
    runs_dir = root / "hpstudy_runs"
    runs_dir.mkdir()
    uri = f"sqlite:///{runs_dir}/mlflow.db"
    client = MlflowClient(tracking_uri=uri)
    exp = client.create_experiment("ses_vit_beta_sweep", artifact_location=(runs_dir / "a").as_uri())
    beta = _study(client, exp, T0, study="ses_vit_beta_sweep", profile="local", status="completed",
                  configs=list(BETAS), params=_beta, with_rob=True, table=BETAS)
    layers = None
    if layers_profile is not None:
        exp = client.create_experiment("ses_vit_layers", artifact_location=(runs_dir / "b").as_uri())
        layers = _study(client, exp, T0, study="ses_vit_layers", profile=layers_profile, status="completed",
                        configs=list(LAYERS), params=_layers, with_rob=True, table=LAYERS)
    return SimpleNamespace(uri=uri, runs_dir=runs_dir, beta=beta, layers=layers)


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    store = _store(tmp_path_factory.mktemp("cross"), layers_profile="local")
    result = run_main(["--runs-dir", str(store.runs_dir)])
    assert result.rc == 0, result.err
    out = store.runs_dir / "paper"
    return SimpleNamespace(store=store, out=out, md=(out / "paper.md").read_text(),
                           tex=(out / "paper.tex").read_text())


def test_the_joined_figures_are_drawn_and_name_both_parent_runs(both):
    assert all((both.out / "figures" / name).is_file() for name in NAMES)
    part = both.md[both.md.index("## Exp 17: ses_vit_beta_sweep + ses_vit_layers (profile local, n = 3 seeds)"):]
    part = part[:part.index("\n## ", 1)]
    assert both.store.beta in part and both.store.layers in part
    assert all(f"![{name}](figures/{name})" in part for name in NAMES)
    assert r"\includegraphics[width=\linewidth]{figures/21_vit_ablations.png}" in both.tex
    assert latex_problems(both.tex) == []


def test_every_configuration_keeps_its_halfs_numbers_under_its_halfs_name(both):
    runs = collect(both.store.uri)
    sections = build(runs, both.out, both.store.uri)
    halves = {s.run.entry.experiment[-3:]: s for s in sections}
    trials, baseline = joined_trials({"17a": halves["17a"], "17b": halves["17b"]})
    assert baseline == "17a: baseline"
    assert set(trials["config"]) == {f"17a: {c}" for c in BETAS} | {f"17b: {c}" for c in LAYERS}
    last4 = trials.loc[trials["config"] == "17b: layers=last:4", "test/acc"]
    assert np.isclose(last4.mean(), np.mean([final_acc("layers=last:4", s, LAYERS) for s in SEEDS]))
    assert len(trials) == 3 * len(SEEDS) * 2


def test_a_half_not_run_is_named_in_the_figures_place(tmp_path):
    store = _store(tmp_path, layers_profile=None)
    runs = collect(store.uri)
    groups = cross_figures(build(runs, tmp_path / "paper", store.uri), runs, tmp_path / "paper", store.uri)
    (group,) = groups
    assert [f.drawn for f in group.figures] == [False] * len(NAMES)
    assert group.figures[0].why == "needs a finished run of Exp 17b (no study of it in the store)"
    assert not (tmp_path / "paper" / "figures" / "21_vit_ablations.png").exists()


def test_halves_of_different_profiles_are_not_joined(tmp_path):
    store = _store(tmp_path, layers_profile="full")
    runs = collect(store.uri)
    groups = cross_figures(build(runs, tmp_path / "paper", store.uri), runs, tmp_path / "paper", store.uri)
    assert groups[0].figures[0].why == ("their latest runs are of different profiles: Exp 17a local, Exp 17b full "
                                        "(give --profile)")
