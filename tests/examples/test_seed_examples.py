"""The seed notes' situations as code of one's own (examples/seed002_dual_branch, examples/seed003_own_segmentation):
each task trains through hpstudy's loop in this process, as its study's trials do (their studies ran end to end on
2026-12-07: docs/benchmarks.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.trainables.sinks import Reports
from trainables.config import TrainConfig
from trainables.config.overrides import apply_overrides
from trainables.data import DataError
from trainables.loop import run
from trainables.validate import validate

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def on_path(monkeypatch):
    def add(folder: str, *modules: str) -> None:
        monkeypatch.syspath_prepend(str(EXAMPLES / folder))
        for name in modules:
            sys.modules.pop(name, None)
    return add


def test_three_heads_are_weighted_by_bounded_learned_uncertainty(on_path):
    on_path("seed002_dual_branch", "dual_branch")
    cfg = apply_overrides(TrainConfig(), {
        "task.module": "dual_branch:DualBranchTask", "data.name": "digits", "data.limit_train": 512, "epochs": 3,
        "loss_weighting": "uncertainty", "log_var_bounds": "(-2.0, 2.0)", "num_threads": 1,
        "monitor.memory_growth_mb": 64.0, "monitor.collapse_epochs": 3, "optim.name": "adamw", "optim.lr": 0.002,
        "data.batch_size": 16})
    validate(cfg)
    sink = Reports()
    run(cfg, sink)
    last = sink.reports[-1]
    for head in ("global", "local", "pair"):
        assert f"train/loss_{head}" in last and -2.0 <= last[f"loss_log_var/{head}"] <= 2.0
    assert last["val/acc"] > 0.5  # three epochs of 512 digits: learning, through the heads' mean


def test_a_segmentation_model_of_ones_own_on_masks_of_ones_own(on_path, tmp_path):
    on_path("seed003_own_segmentation", "micro_seg", "make_data")
    from make_data import write

    root = write(tmp_path / "data", train=48, test=16)
    cfg = apply_overrides(TrainConfig(), {
        "task.module": "micro_seg:MicroSegTask", "data.name": "task", "data.root": str(root), "epochs": 2,
        "data.batch_size": 8, "num_threads": 1, "task.dice_weight": 1.0})
    validate(cfg)
    sink = Reports()
    run(cfg, sink)
    last = sink.reports[-1]
    assert {"val/fscore", "val/iou", "test/fscore"} <= set(last) and 0.0 <= last["val/fscore"] <= 1.0
    with pytest.raises(DataError, match="micro_seg: no images in"):
        run(apply_overrides(cfg, {"data.root": str(tmp_path / "empty")}), Reports())
