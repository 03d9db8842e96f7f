"""Data-parallel shards of the training batches: N workers' slices of a step are one worker's batch N times larger."""

import pytest
import torch

from trainables.config import DataConfig
from trainables.data import ONE_PROCESS, Shard, build_data


def _steps(shard: Shard, batch_size: int, epoch: int, augment: bool = False):
    cfg = DataConfig(name="digits", limit_train=200, augment=augment, batch_size=batch_size)
    return list(build_data(cfg, seed=3, shard=shard).train_batches(epoch))


@pytest.mark.parametrize("epoch", [0, 1])
def test_the_ranks_slices_of_a_step_make_one_workers_batch(epoch):
    whole = _steps(ONE_PROCESS, 48, epoch)
    parts = [_steps(Shard(rank, 3), 16, epoch) for rank in range(3)]
    assert len(whole) == len(parts[0]) == 200 // 48
    for step, (x, y) in enumerate(whole):
        assert torch.equal(torch.cat([p[step][0] for p in parts]), x)
        assert torch.equal(torch.cat([p[step][1] for p in parts]), y)


def test_ranks_augment_differently_but_deterministically():
    first, again = (_steps(Shard(0, 2), 16, 0, augment=True) for _ in range(2))
    assert all(torch.equal(a[0], b[0]) for a, b in zip(first, again))
    whole = _steps(ONE_PROCESS, 32, 0, augment=True)
    other = _steps(Shard(1, 2), 16, 0, augment=True)
    assert torch.equal(torch.cat([first[0][1], other[0][1]]), whole[0][1])  # the same samples (labels) ...
    assert not torch.equal(torch.cat([first[0][0], other[0][0]]), whole[0][0])  # ... drawn from other streams


def test_a_small_training_set_still_gives_every_rank_a_step():
    cfg = DataConfig(name="digits", limit_train=20, augment=False, batch_size=128)
    bundle = build_data(cfg, seed=0, shard=Shard(1, 2))
    assert bundle.steps_per_epoch() == 1 and next(iter(bundle.train_batches(0)))[1].shape == (10,)
