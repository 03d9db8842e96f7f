"""The SES overhead benchmark: argument checks, and one tiny interleaved run that prints the three-variant table."""

import pytest

from benchmarks import ses_overhead
from trainables.config import OptimConfig


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
