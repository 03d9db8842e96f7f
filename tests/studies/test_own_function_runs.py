"""A training function of one's own, through the real CLI in its own process (slow: ~3 min on 2 cores): with
`--workers 2` it runs as a DDP group on gloo and its numbers match one worker's, and a trial process killed
mid-trial is retried and continues from `trial.checkpoint()`, every epoch in MLflow once."""

from __future__ import annotations

import math
import textwrap

import pytest

from tests.studies.conftest import cli, store, study_runs
from tests.studies.tune.test_trial_kill import run_killing_a_trial

pytestmark = pytest.mark.slow

DDP = '''
    import torch
    from torch import nn

    from hpstudy import Grid, Study

    def train(config, trial):
        """Least squares on fixed data: each rank takes every world_size-th row; DDP averages the ranks' gradients,
        which for equal shards is the whole batch's gradient, so one worker and two see the same numbers."""
        g = torch.Generator().manual_seed(1)
        x = torch.randn(64, 4, generator=g)
        y = x @ torch.tensor([1.0, -2.0, 0.5, 3.0])
        torch.manual_seed(0)
        model = nn.Linear(4, 1)
        net = nn.parallel.DistributedDataParallel(model) if trial.world_size > 1 else model
        opt = torch.optim.SGD(net.parameters(), lr=config["lr"])
        mine = slice(trial.rank, None, trial.world_size)
        for epoch in range(1, config["epochs"] + 1):
            opt.zero_grad()
            ((net(x[mine]).squeeze(1) - y[mine]) ** 2).mean().backward()
            opt.step()
            with torch.no_grad():
                full = ((model(x).squeeze(1) - y) ** 2).mean().item()
            trial.report(epoch, {"val/loss": full, "train/world": float(trial.world_size)})

    def get_study(profile):
        return Study(profile=profile, base={"lr": 0.05, "epochs": 4}, space={"seed": Grid((0,))}, train=train,
                     metric="val/loss")
'''
SLOW = '''
    import time

    from hpstudy import Grid, Study

    def train(config, trial):
        state = trial.checkpoint() or {"epoch": 0, "acc": 0.0}
        acc = state["acc"]
        for epoch in range(state["epoch"] + 1, config["epochs"] + 1):
            time.sleep(1.5)
            acc += 0.1 * (1.0 - acc)
            print(f"epoch {epoch} done", flush=True)
            trial.report(epoch, {"val/acc": acc, "train/started_after": float(state["epoch"])},
                         checkpoint={"epoch": epoch, "acc": acc})

    def get_study(profile):
        return Study(profile=profile, base={"epochs": 4}, space={"seed": Grid((0, 1))}, train=train, metric="val/acc")
'''


def _losses(cwd):
    client = store(cwd)
    _, trials = study_runs(client, "ddp_fit")
    (trial,) = trials
    history = sorted(client.get_metric_history(trial.info.run_id, "val/loss"), key=lambda m: m.step)
    world = client.get_metric_history(trial.info.run_id, "train/world")[0].value
    return [m.value for m in history], world


def test_a_function_under_two_ddp_workers_matches_one(tmp_path):
    (tmp_path / "ddp_fit.py").write_text(textwrap.dedent(DDP))
    runs = {}
    for workers in (1, 2):
        cwd = tmp_path / f"w{workers}"
        cwd.mkdir()
        done = cli([str(tmp_path / "ddp_fit.py"), "--workers", str(workers)], cwd)
        assert done.returncode == 0, done.stderr[-3000:]
        runs[workers] = _losses(cwd)
    (one, world1), (two, world2) = runs[1], runs[2]
    assert (world1, world2) == (1.0, 2.0) and len(one) == len(two) == 4
    assert all(math.isclose(a, b, rel_tol=1e-5) for a, b in zip(one, two)), (one, two)
    assert one[-1] < one[0]  # it learned


def test_a_killed_trial_process_of_a_function_continues_from_its_checkpoint(tmp_path):
    (tmp_path / "slow_fn.py").write_text(textwrap.dedent(SLOW))
    code, text = run_killing_a_trial([str(tmp_path / "slow_fn.py"), "-v"], tmp_path, "epoch 2/4")
    assert code == 0, text[-3000:]
    assert ": retried " in text
    client = store(tmp_path)
    _, trials = study_runs(client, "slow_fn")
    assert len(trials) == 2 and {t.data.tags["hpstudy.status"] for t in trials} == {"completed"}
    assert sum(t.data.tags.get("hpstudy.retries") == "1" for t in trials) == 1
    for trial in trials:
        history = sorted(client.get_metric_history(trial.info.run_id, "val/acc"), key=lambda m: m.step)
        assert [m.step for m in history] == [1, 2, 3, 4]
        assert math.isclose(history[-1].value, 1 - 0.9 ** 4)
    retried = next(t for t in trials if t.data.tags.get("hpstudy.retries") == "1")
    started = client.get_metric_history(retried.info.run_id, "train/started_after")
    assert max(m.value for m in started) >= 1  # the retry continued after a checkpointed epoch, not from scratch


CLUSTER_STUDY = '''
    import my_settings  # a module beside the study file: on a cluster, Ray's working_dir brings it to every node

    from hpstudy import Grid, Study

    def train(config, trial):
        for epoch in range(1, config["epochs"] + 1):
            trial.report(epoch, {"val/acc": my_settings.SCALE * epoch / config["epochs"]})

    def get_study(profile):
        return Study(profile=profile, base={"epochs": 2}, space={"seed": Grid((0, 1))}, train=train, metric="val/acc")
'''


def test_on_a_cluster_the_study_files_folder_reaches_every_node(tmp_path):
    from ray.cluster_utils import Cluster

    folder = tmp_path / "research"
    folder.mkdir()
    (folder / "my_settings.py").write_text("SCALE = 0.5\n")
    (folder / "on_nodes.py").write_text(textwrap.dedent(CLUSTER_STUDY))
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "resources": {"hpstudy_driver": 10_000}})
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        done = cli([str(folder / "on_nodes.py"), "--address", cluster.address, "--storage", str(tmp_path / "shared")],
                   tmp_path)
    finally:
        cluster.shutdown()
    assert done.returncode == 0, done.stderr[-3000:]
    client = store(tmp_path)
    _, trials = study_runs(client, "on_nodes")
    assert len(trials) == 2 and all(t.data.metrics["val/acc"] == 0.5 for t in trials)


RELATIVE = '''

    from hpstudy import Grid, Study

    def train(config, trial):
        with open(config["data"]) as f:  # relative: to the folder the study runs from
            trial.report(1, {"val/acc": float(f.read())})

    def get_study(profile):
        return Study(profile=profile, base={"data": "numbers/acc.txt"}, space={"seed": Grid((0,))}, train=train,
                     metric="val/acc")
'''


def test_a_relative_path_in_a_functions_defaults_is_read_from_the_studys_folder(tmp_path):
    (tmp_path / "relative.py").write_text(textwrap.dedent(RELATIVE))
    (tmp_path / "numbers").mkdir()
    (tmp_path / "numbers" / "acc.txt").write_text("0.75")
    done = cli([str(tmp_path / "relative.py")], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    _, trials = study_runs(store(tmp_path), "relative")
    assert trials[0].data.metrics["val/acc"] == 0.75
