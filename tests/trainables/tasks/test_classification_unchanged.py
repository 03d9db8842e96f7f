"""Classification through the Task protocol gives the metrics the loop gave before it (same seed, same numbers).

The expected figures were recorded with the pre-Task loop (commit bcfae42) on CPU with one thread; they matched
bit for bit when the refactor landed. The tolerance only absorbs another CPU's float kernels.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trainables.config import TrainConfig
from trainables.config.overrides import apply_overrides
from trainables.loop import run

RECORDED = json.loads((Path(__file__).parent / "classification_before_tasks.json").read_text())["cases"]
COMMON = {"epochs": 2, "data.limit_train": 256, "data.batch_size": 64, "num_threads": 1, "optim.lr": 0.05}


class _Reports:
    def __init__(self) -> None:
        self.reports: list[dict] = []

    def restore(self):
        return None

    def report(self, metrics, state) -> None:
        self.reports.append({k: v for k, v in metrics.items()
                             if isinstance(v, (int, float)) and not k.startswith("sys/")})  # sys/*: timings


@pytest.mark.parametrize("case", sorted(RECORDED))
def test_same_seed_gives_the_metrics_recorded_before_the_task_protocol(case):
    overrides = {k: tuple(v) if isinstance(v, list) else v for k, v in RECORDED[case]["overrides"].items()}
    sink = _Reports()
    run(apply_overrides(TrainConfig(), {**COMMON, **overrides}), sink)
    expected = RECORDED[case]["reports"]
    assert [sorted(r) for r in sink.reports] == [sorted(r) for r in expected]  # the same keys, epoch by epoch
    for got, want in zip(sink.reports, expected):
        assert got == pytest.approx(want, rel=1e-5, abs=1e-6)
