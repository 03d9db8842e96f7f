"""The SES overhead benchmark: argument checks, one tiny interleaved run that prints the three-variant table, and
a clipped bench's step that clips."""

import pytest
import torch

from benchmarks import ses_overhead
from trainables.config import ModelConfig, OptimConfig
from trainables.models.by_name import build_model
from trainables.optim.precision import build_precision


@pytest.mark.parametrize(
    "argv, match",
    [(["--steps", "15"], "multiple of 10"), (["--steps", "10", "--block", "4"], "block"),
     (["--block", "0"], "block"), (["--batch", "1"], "batch"), (["--models", "resnet18,vgg"], "vgg")],
)
def test_bad_arguments_are_named(argv, match, capsys):
    with pytest.raises(SystemExit):
        ses_overhead.parse_args(argv)
    assert match in capsys.readouterr().err


def test_tiny_run_prints_every_variant_with_its_ratio(monkeypatch, capsys):
    small = ses_overhead.Bench("small_cnn", OptimConfig(name="sgd", lr=0.1), 0.0)
    monkeypatch.setattr(ses_overhead, "BENCHES", {"small_cnn": small})
    monkeypatch.setattr(ses_overhead, "IMAGE", 8)  # 8x8 images keep 30 training steps well under a second
    ses_overhead.main(["--device", "cpu", "--batch", "8", "--steps", "10", "--block", "5", "--warmup", "0",
                       "--models", "small_cnn"])
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.startswith("small_cnn")]
    assert [" ".join(r[2:-3]) for r in rows] == ["baseline", "ses every_k=1", "ses every_k=10"]
    assert all(r[1] == "4" for r in rows)  # small_cnn's four hook points
    assert float(rows[0][-1]) == 1.0 and all(float(r[-1]) > 0 for r in rows)
    assert "cpu" in out.lower() and "batch 8" in out


def test_a_bench_with_clipping_clips_every_step(monkeypatch):
    # ViT-S/4 trains clipped at 1.0: its timed steps must clip too, which bounds each SGD update by lr * clip
    monkeypatch.setattr(ses_overhead, "IMAGE", 8)
    clipped = ses_overhead.Bench("small_cnn", OptimConfig(name="sgd", lr=1.0, momentum=0.0, weight_decay=0.0), 1e-3)
    args = ses_overhead.parse_args(["--batch", "8", "--steps", "10", "--block", "10", "--warmup", "0"])
    torch.manual_seed(0)
    start = build_model(ModelConfig(name="small_cnn"), num_classes=ses_overhead.NUM_CLASSES, in_chans=3, image_size=8)
    variants, _ = ses_overhead.measure(clipped, args, torch.device("cpu"), build_precision("fp32", torch.device("cpu")))
    moved = torch.cat([(a - b).flatten() for a, b in zip(variants[0].model.parameters(), start.parameters())])
    assert 0 < moved.norm().item() <= 10 * 1e-3 * 1.0001 and variants[0].step == 10
