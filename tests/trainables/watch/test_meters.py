"""Epoch means are count-weighted over batches of any size; memory figures are plausible."""

import pytest
import torch

from trainables.watch.meters import Means, peak_memory_mb

CPU = torch.device("cpu")


def test_means_weight_by_count():
    means = Means(CPU)
    means.add("train/loss", torch.tensor(2.0) * 4, 4)  # batch of 4 with mean loss 2
    means.add("train/loss", torch.tensor(5.0) * 1, 1)  # short last batch
    means.add("train/acc", torch.tensor(3), 4)  # integer counts are fine
    means.add("train/acc", torch.tensor(1), 1)
    assert means.result() == pytest.approx({"train/loss": 13 / 5, "train/acc": 4 / 5})


def test_means_do_not_keep_graphs():
    w = torch.ones((), requires_grad=True)
    means = Means(CPU)
    means.add("x", w * 3, 1)
    assert means.result() == {"x": 3.0}


def test_empty_means():
    assert Means(CPU).result() == {}


def test_cpu_peak_memory_is_the_process_rss_in_mb():
    assert 10 < peak_memory_mb(CPU) < 1_000_000
