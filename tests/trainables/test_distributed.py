"""Data-parallel training (trainables.distributed): 2 gloo workers on CPU against 1 worker, for the same seed.

Two workers with batch B/2 train on exactly the samples one worker with batch B trains on, step by step; only the
float summation order differs (DDP sums two half-batch gradients, one worker one full-batch reduction; the train
means are reduced in float64 rather than float32). Measured on toy2d: |d train/loss| <= 5e-8, every accuracy and
val/test loss equal. Asserted: losses within LOSS_TOL, accuracies within one validation sample.

All 2-worker jobs run in one pair of spawned processes (the `ranks` fixture): a spawn costs ~10 s of imports.
"""

from __future__ import annotations

import os
import socket
from datetime import timedelta

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from trainables import distributed, loop
from trainables.config import TrainConfig
from trainables.config.overrides import ConfigError, apply_overrides
from trainables.models.by_name import SmallCNN
from trainables.parts import build_parts
from trainables.validate import validate
from trainables.watch.monitors import Monitors

WORLD = 2
BATCH = 32  # one worker's; each of the WORLD workers trains on BATCH // WORLD
TOY = {"data.name": "toy2d", "model.name": "toy_mlp", "data.augment": False, "num_threads": 1, "epochs": 2}
BN = {"data.name": "digits", "data.limit_train": 256, "data.batch_size": 32, "num_threads": 1, "epochs": 2,
      "ema.enabled": True, "ema.decay": 0.9}  # small_cnn (BatchNorm), 4 steps of 2 x 32 per epoch
UNCERTAINTY = {"loss_weighting": "uncertainty", "epochs": 1}  # its log-variances train outside the DDP model
SES = {"ses.enabled": True, "ses.beta": 0.5}  # 0.5 log 64 is reachable at the shards' B = 16: no clamp warning
LOSS_TOL = 1e-4  # float summation order only (see the module docstring)
ACC_TOL = 1 / 160 + 1e-9  # one of toy2d's 160 validation points; train and test hold more


class Sink:
    def __init__(self):
        self.reports, self.states = [], []

    def restore(self):
        return None

    def report(self, metrics, state):
        self.reports.append(dict(metrics))
        self.states.append(state)


def _cfg(base: dict, **overrides) -> TrainConfig:
    return apply_overrides(TrainConfig(), {**base, **overrides})


def _run(cfg: TrainConfig) -> Sink:
    sink = Sink()
    loop.run(cfg, sink)
    return sink


# --- jobs, run on every rank of the spawned group ---------------------------------------------------------------

def _equivalence(rank: int):
    return _run(_cfg(TOY, **{"data.batch_size": BATCH // WORLD})).reports


def _batchnorm(rank: int):
    sink = _run(_cfg(BN))
    return {"reports": sink.reports, "model": sink.states[-1]["model"], "ema": sink.states[-1]["ema"]}


def _uncertainty(rank: int):
    return _run(_cfg(TOY, **UNCERTAINTY, **{"data.batch_size": BATCH // WORLD})).states[-1]["weighting"]


def _diverged_on_rank1(rank: int):
    """Rank 1's monitor alone sees a non-finite loss at step 3 (its training is untouched)."""
    original = Monitors.check_step

    def poisoned(self, step, loss):
        original(self, step, torch.full_like(loss, float("nan")) if step == 3 else loss)

    Monitors.check_step = poisoned if rank == 1 else original
    try:
        return _run(_cfg(TOY, **{"data.batch_size": BATCH // WORLD})).reports
    finally:
        Monitors.check_step = original


def _ses_first_step(rank: int):
    p = build_parts(_cfg(TOY, **SES, **{"data.batch_size": BATCH // WORLD}))
    x, _ = next(iter(p.data.train_batches(0)))
    p.train_model.train()
    p.ses.begin_step(0)
    p.task.forward(p.train_model, x)
    penalty, _ = p.ses.penalty(0)
    p.ses.close()
    return {"x": x, "penalty": penalty.item()}


JOBS = {"equivalence": _equivalence, "batchnorm": _batchnorm, "uncertainty": _uncertainty,
        "diverged": _diverged_on_rank1, "ses": _ses_first_step}


def _worker(rank: int, world: int, port: int, out: str) -> None:
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world,
                            timeout=timedelta(seconds=60))  # a collective one rank skips fails, not hangs
    try:
        torch.save({name: job(rank) for name, job in JOBS.items()}, os.path.join(out, f"rank{rank}.pt"))
        dist.barrier()  # neither tears gloo down while the other still talks to it
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    """[rank 0's results, rank 1's], by job name."""
    out = tmp_path_factory.mktemp("ddp")
    mp.start_processes(_worker, args=(WORLD, _free_port(), str(out)), nprocs=WORLD, start_method="spawn")
    return [torch.load(out / f"rank{r}.pt", weights_only=False) for r in range(WORLD)]


@pytest.fixture(autouse=True)
def _keep_thread_count():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def _learned(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if not k.startswith("sys/")}


# --- tests ------------------------------------------------------------------------------------------------------

def test_two_workers_of_half_the_batch_train_as_one_worker(ranks):
    one = _run(_cfg(TOY, **{"data.batch_size": BATCH})).reports
    two = ranks[0]["equivalence"]
    assert two == ranks[1]["equivalence"]  # every rank reports the same figures
    assert [m["step"] for m in two] == [m["step"] for m in one]
    for single, parallel in zip(one, two):
        for key in ("train/loss", "val/loss"):
            assert parallel[key] == pytest.approx(single[key], abs=LOSS_TOL), key
        for key in ("train/acc", "val/acc"):
            assert parallel[key] == pytest.approx(single[key], abs=ACC_TOL), key
    assert two[-1]["test/acc"] == pytest.approx(one[-1]["test/acc"], abs=ACC_TOL)
    assert two[-1]["test/loss"] == pytest.approx(one[-1]["test/loss"], abs=LOSS_TOL)


def test_learned_loss_weights_average_their_gradients_over_the_ranks(ranks):
    one = _run(_cfg(TOY, **UNCERTAINTY, **{"data.batch_size": BATCH})).states[-1]["weighting"]
    first, second = (r["uncertainty"] for r in ranks)
    assert torch.equal(first["log_vars"], second["log_vars"])
    assert torch.allclose(first["log_vars"], one["log_vars"], atol=LOSS_TOL)


def test_ranks_agree_on_batchnorm_statistics_and_the_ema(ranks):
    first, second = (r["batchnorm"] for r in ranks)
    assert first["reports"] == second["reports"]
    for part in ("model", "ema"):
        assert first[part].keys() == second[part].keys()
        for key, value in first[part].items():
            assert torch.equal(value, second[part][key]), (part, key)
    assert any("running_mean" in k for k in first["model"])  # the BatchNorm buffers were compared too


def test_checkpoints_load_into_a_one_worker_model(ranks):
    state = ranks[0]["batchnorm"]["model"]
    assert not any(k.startswith("module.") for k in state)
    single = build_parts(_cfg(BN)).model
    assert isinstance(single, SmallCNN)
    single.load_state_dict(state, strict=True)


def test_a_divergence_on_one_rank_stops_every_rank(ranks):
    first, second = (r["diverged"] for r in ranks)
    assert first == second
    last = first[-1]
    assert last[loop.STOP_REASON] == "diverged"
    assert "at step 3 on rank 1" in last[loop.STOP_DETAIL]
    assert last["epoch"] == 1 and len(first) == 1


def test_ses_penalty_of_a_rank_is_that_of_its_shard_alone(ranks):
    p = build_parts(_cfg(TOY, **SES, **{"data.batch_size": BATCH}))  # one worker, the global batch
    x, _ = next(iter(p.data.train_batches(0)))
    p.model.train()
    alone = []
    for rank, result in enumerate(r["ses"] for r in ranks):
        shard = x[rank * (BATCH // WORLD):(rank + 1) * (BATCH // WORLD)]
        assert torch.equal(result["x"], shard)  # rank r trains on the r-th slice of the global batch
        p.ses.begin_step(0)
        p.task.forward(p.model, shard)
        alone.append(p.ses.penalty(0)[0].item())
        assert result["penalty"] == pytest.approx(alone[-1], rel=1e-6, abs=1e-9)
    p.ses.begin_step(0)
    p.task.forward(p.model, x)
    whole = p.ses.penalty(0)[0].item()
    p.ses.close()
    assert alone[0] != alone[1] and whole not in alone  # per local batch: neither shard gives the global figure


def test_one_process_helpers_are_the_identity():
    assert distributed.world() == 1 and distributed.rank() == 0
    assert distributed.global_means({"train/loss": (0.5, 10)}) == {"train/loss": 0.5}
    assert distributed.total(7) == 7 and distributed.from_rank0({"a": 1}) == {"a": 1}
    model = torch.nn.BatchNorm1d(3)
    assert distributed.data_parallel(model, torch.device("cpu")) is model
    assert distributed.sync_batchnorm(model, True, torch.device("cpu")) is model  # one worker: nothing to sync
    assert distributed.first_flagged(torch.tensor(-1), torch.tensor(0.0))[0] == -1


def test_sync_bn_is_a_switch_refused_on_cpu():
    cfg = apply_overrides(TrainConfig(), {"dist.sync_bn": "true", "device": "cpu"})
    assert cfg.dist.sync_bn is True
    with pytest.raises(ConfigError, match="dist.sync_bn"):
        validate(cfg, check_data=False)
    validate(apply_overrides(TrainConfig(), {"dist.sync_bn": "true", "device": "auto"}), check_data=False)
