"""A study without --address starts a Ray of its own, even while another cluster runs on this machine (a `ray start`
one, which Ray would otherwise find and join, refusing the CPUs asked for). Slow: a cluster and a study, ~30 s."""

from __future__ import annotations

import textwrap

import pytest

from tests.studies.conftest import cli, store, study_runs

STUDY = '''
    from hpstudy import Grid, Study

    def train(config, trial):
        trial.report(1, {"val/acc": 0.5})

    def get_study(profile):
        return Study(profile=profile, base={}, space={"seed": Grid((0,))}, train=train, metric="val/acc")
'''


@pytest.mark.slow
def test_a_study_starts_its_own_ray_beside_a_running_cluster(tmp_path):
    from ray.cluster_utils import Cluster

    (tmp_path / "beside.py").write_text(textwrap.dedent(STUDY))
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        done = cli([str(tmp_path / "beside.py")], tmp_path)
    finally:
        cluster.shutdown()
    assert done.returncode == 0, done.stderr[-3000:]
    _, trials = study_runs(store(tmp_path), "beside")
    assert len(trials) == 1
