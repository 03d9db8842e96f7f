"""A study on a two-node Ray cluster: `--address` joins it, trials run on both nodes, checkpoints reach the
shared `--storage`; the worker node is killed mid-trial, its trial continues from its last checkpoint on the head
node, the study completes with exit 0 and MLflow shows each epoch once. Both nodes are processes on this machine
(`ray.cluster_utils.Cluster`, a raylet each with its own CPU), so the storage is shared by being one folder
(slow: ~40 s on 2 cores)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tests.studies.conftest import store, study_runs
from tests.studies.tune.test_trial_kill import _trial_processes

EPOCHS = 4


@pytest.mark.slow
def test_a_study_on_two_nodes_survives_losing_one(tmp_path):
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "resources": {"hpstudy_driver": 10_000}})
    try:
        worker = cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        raylets = {"head": cluster.head_node.all_processes["raylet"][0].process.pid,
                   "worker": worker.all_processes["raylet"][0].process.pid}
        seen: dict[str, set[int]] = {"head": set(), "worker": set()}
        out = tmp_path / "out.txt"
        cmd = [sys.executable, "-m", "studies.run", "ses_beta_sweep", "--seeds", "0", "-v", "--address",
               cluster.address, "--storage", str(tmp_path / "shared"), "--set", "data.limit_train=1024",
               "--set", f"epochs={EPOCHS}"]
        with open(out, "w") as o:
            proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=o, stderr=subprocess.STDOUT,
                                    env={**os.environ, "PYTHONUNBUFFERED": "1"})
            killed, deadline = False, time.time() + 600
            while proc.poll() is None and time.time() < deadline:
                for node in ("head",) if killed else ("head", "worker"):
                    seen[node] |= set(_trial_processes(raylets[node]))
                # both first trials have checkpointed an epoch, and one of them runs on the worker: kill that node
                if not killed and out.read_text().count("epoch 1/") >= 2 and _trial_processes(raylets["worker"]):
                    cluster.remove_node(worker, allow_graceful=False)
                    killed = True
                time.sleep(0.2)
            code = proc.wait(timeout=60)
    finally:
        cluster.shutdown()
    text = out.read_text()
    assert killed and code == 0, text[-3000:]
    assert seen["head"] and seen["worker"], f"trials ran on both nodes: {seen}"
    assert ": retried after epoch " in text, text[-3000:]
    assert list((tmp_path / "shared" / "ses_beta_sweep").glob("train_*/checkpoint_*/history.json"))
    client = store(tmp_path)
    _, trials = study_runs(client, "ses_beta_sweep")
    assert len(trials) == 5 and {t.data.tags["hpstudy.status"] for t in trials} == {"completed"}
    assert sum(t.data.tags.get("hpstudy.retries") == "1" for t in trials) == 1
    for trial in trials:  # the retried trial continued from its checkpoint: a restart would log epoch 1 twice
        steps = [m.step for m in client.get_metric_history(trial.info.run_id, "val/acc")]
        assert steps == list(range(1, EPOCHS + 1)), (trial.data.tags["hpstudy.config_name"], steps)


@pytest.mark.slow  # ~1-2 min: real training in waves on a two-node cluster
def test_sequential_replication_runs_its_waves_on_a_cluster(tmp_path):
    import json

    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "resources": {"hpstudy_driver": 10_000}})
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        cmd = [sys.executable, "-m", "studies.run", "ses_beta_sweep", "--seeds", "auto", "--replication",
               "minimum=2,maximum=3", "--address", cluster.address, "--storage", str(tmp_path / "shared"),
               "--set", "data.limit_train=512", "--set", "epochs=1"]
        done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    finally:
        cluster.shutdown()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "wave 1: seeds 0, 1 for" in done.stdout
    parents, trials = study_runs(store(tmp_path), "ses_beta_sweep")
    decisions = json.loads(parents[0].data.tags["hpstudy.decisions"])
    assert set(decisions) == {"beta=0.3", "beta=0.5", "beta=0.7", "beta=0.9"}
    assert 10 <= len(trials) <= 15 and {t.data.tags["hpstudy.status"] for t in trials} == {"completed"}
