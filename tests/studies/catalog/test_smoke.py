"""`--smoke` rehearses every registered study's full profile on CPU: its model, data reader, hooks and recipe on
generated data in the dataset's on-disk layout, through Ray Tune, Ray Train, MLflow and the report."""

from __future__ import annotations

import pytest

from search_spaces import Variants, to_overrides, walk
from studies import registry
from studies.tracking.logged_config import applies
from tests.studies.conftest import cli, store, study_runs
from trainables.config.overrides import apply_overrides, flatten


# Each rehearsal trains its study's full-profile model through Ray for minutes on 2 cores: slow (`pytest -m slow`).
# The default suite's real end-to-end study is test_study_e2e.py; the tuner's side runs in seconds in test_tuner_*.py.
@pytest.mark.slow
@pytest.mark.parametrize("name", registry.study_names())
def test_smoke_runs_the_full_profile_shrunk(tmp_path, name):
    result = cli([name, "--smoke"], tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "profile smoke" in result.stdout.splitlines()[0]
    full_study = registry.load(name).get_study("full")
    variants = {c["name"]: c for v in full_study.space.values() if isinstance(v, Variants) for c in v.configs}
    searched = {key for key, _, _ in walk(full_study.space)}  # sampled per trial (ses_search's ses.layers)
    parents, trials = study_runs(store(tmp_path), name)
    assert parents[0].data.tags["hpstudy.profile"] == "smoke" and trials
    for trial in trials:
        params = trial.data.params
        # the full profile's config of this trial's variant (a study whose base has SES off turns it on in one)
        chosen = variants.get(trial.data.tags["hpstudy.config_name"])
        full = flatten(apply_overrides(full_study.base, to_overrides({"variant": chosen})[1] if chosen else {}))
        fixed = {"model.name", "model.small_input", "data.name", "sched.name", "optim.name", "ses.layers"} - searched
        for key in sorted(fixed):
            # the full profile's own choices (a param of a section that is off, e.g. ses.* without SES, is not logged)
            assert params.get(key) == (str(full[key]) if applies(key, full) else None), key
        assert params["epochs"] == "2"
        if full["data.root"]:  # on-disk data: its generated copy; embedded data (toy2d, breast_cancer) has no root
            assert params["data.root"].startswith(str(tmp_path / "hpstudy_runs"))
        else:
            assert not params.get("data.root")
        assert trial.data.tags["hpstudy.status"] in ("completed", "early_stopped")
    assert f"{name} (smoke): {len(trials)} trials" in result.stdout
