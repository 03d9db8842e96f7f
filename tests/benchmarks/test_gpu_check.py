"""The GPU check (`bash benchmarks/gpu_check.sh`): `--cpu-dry` end to end in a fresh process that never imports Ray,
Optuna or MLflow (a bare GPU machine has none of them), the no-GPU line, bad input, and the precision verdicts."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from benchmarks import gpu_check, gpu_check_parts
from benchmarks.gpu_check_parts import LOSS_TOLERANCE, Row, precision_check

REPO = Path(__file__).resolve().parents[2]
FORBIDDEN = ("ray", "optuna", "mlflow")
# Runs the check as `python -m benchmarks.gpu_check` would, then prints which forbidden packages it imported
DRY = """
import json, runpy, sys
sys.argv = ["gpu_check", "--cpu-dry", "--json", sys.argv[1]]
try:
    runpy.run_module("benchmarks.gpu_check", run_name="__main__", alter_sys=True)
except SystemExit as exit:
    code = exit.code
print(json.dumps({"exit": code, "imported": sorted({m.split(".")[0] for m in sys.modules} & set(FORBIDDEN))}))
""".replace("FORBIDDEN", repr(FORBIDDEN))


@pytest.mark.slow  # ~7-14 s: the default suite stays under 5 min on 2 cores
def test_cpu_dry_prints_one_table_of_every_part_without_ray_optuna_or_mlflow(tmp_path):
    out = tmp_path / "check.json"
    t0 = time.monotonic()
    done = subprocess.run([sys.executable, "-c", DRY, str(out)], cwd=REPO, capture_output=True, text=True,
                          timeout=120, check=False)
    seconds = time.monotonic() - t0
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    verdict = json.loads(lines[-1])
    assert verdict == {"exit": 0, "imported": []}, done.stderr[-3000:]
    assert lines[0].startswith("GPU check on CPU") and gpu_check.DRY_LABEL in lines[0] and "torch " in lines[0]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in lines if line.startswith("| ")][1:]
    assert [r[0] for r in rows] == ["precision"] * 3 + ["SES"] * 6 + ["trainer / plain loop"] * 2 + ["tests"]
    assert [r[1].split(", ")[1] for r in rows[:3]] == ["fp32", "bf16", "fp16 + GradScaler"]
    assert all(r[4].startswith("ok") for r in rows[:3]) and rows[-1][2:] == ["2 skipped", "-", "ok"]
    assert "12 SES hooks" in rows[6][1] and rows[7][2].endswith("ms/step)") and " x baseline " in rows[7][2]
    assert "torch.compile (eager)" in rows[10][1] and all(float(r[3].split(" / ")[0].replace(",", "")) > 0
                                                          for r in rows[9:11])
    saved = json.loads(out.read_text())
    assert saved["dry"] and saved["failed"] == [] and len(saved["rows"]) == len(rows)
    print(f"--cpu-dry: {seconds:.1f} s")


def test_without_a_gpu_it_says_so_in_one_line_and_exits_0(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert gpu_check.main([]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("no GPU is available") and "--cpu-dry" in out[0]


@pytest.mark.parametrize("argv, named", [(["--only", "ses,speedy"], "speedy"),
                                         (["--json", "/no/such/folder/x.json"], "/no/such/folder"),
                                         (["--cpu-dryrun"], "--cpu-dryrun")])
def test_bad_input_is_one_line_naming_the_value_and_exit_2(argv, named, capsys):
    with pytest.raises(SystemExit) as exit:
        gpu_check.main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert exit.value.code == 2 and len(err) == 1 and named in err[0] and err[0].startswith("error:")


REF = {"train/loss": 2.0, "val/loss": 2.1, "val/acc": 0.50}


@pytest.mark.parametrize("last, ok, says", [
    ({"train/loss": 2.1, "val/loss": 2.2, "val/acc": 0.48}, True, "+5.0% of fp32's"),
    ({"train/loss": 2.0 * (1 + LOSS_TOLERANCE) + 0.01, "val/loss": 2.2, "val/acc": 0.50}, False, "FAIL"),
    ({"train/loss": 2.0, "val/loss": 2.2, "val/acc": 0.40}, False, "-10.0 pt"),
    ({"train/loss": math.nan, "val/loss": 2.2, "val/acc": 0.50}, False, "not finite"),
    ({"train/loss": 2.0, "val/loss": math.inf, "val/acc": 0.50}, False, "not finite"),
])
def test_bf16_and_fp16_are_held_to_fp32_within_the_stated_tolerance(last, ok, says):
    check, passed = precision_check(last, REF, tolerance=True)
    assert passed is ok and says in check


def test_a_dry_run_checks_finiteness_only_and_fp32_is_the_reference():
    far = {"train/loss": 4.0, "val/loss": 4.0, "val/acc": 0.0}
    assert precision_check(far, REF, tolerance=False)[1] and precision_check(REF, None, tolerance=True)[1]
    assert not precision_check({**far, "val/loss": math.nan}, REF, tolerance=False)[1]


def test_the_table_is_one_markdown_row_per_result():
    lines = gpu_check.table([Row("SES", "resnet18 B=256", "1.020 x baseline", "1,234", "goal <= 1.05: met")])
    assert lines.splitlines() == ["| part | run | figure | peak MB | check |", "|---|---|---|---:|---|",
                                  "| SES | resnet18 B=256 | 1.020 x baseline | 1,234 | goal <= 1.05: met |"]


def test_the_gpu_sizes_are_the_issues():
    # ResNet-18 B=256 and ViT-S/4 B=512 for SES (32x32 inputs), a 50,000-image CIFAR-100-shaped set
    assert [(b.model, n) for b, n in gpu_check.GPU.ses] == [("resnet18", 256), ("vit_small_patch16_224", 512)]
    assert gpu_check.GPU.ses_image == 32 and gpu_check.GPU.train_images == 50_000 and gpu_check.GPU.tolerance
    assert gpu_check.GPU.model == "resnet18" and gpu_check.GPU.compile_backend == "inductor"


def test_a_run_that_raises_is_a_failed_row_and_the_others_stand(monkeypatch, tmp_path):
    def train(overrides, compile_backend=None):
        if overrides["precision"] == "fp16":
            raise RuntimeError("boom\nsecond line")
        return [{**REF, "sys/samples_per_s": 1.0, "sys/peak_mem_mb": 1.0}]

    monkeypatch.setattr(gpu_check_parts.gpu_check_trainer, "train", train)
    rows = gpu_check_parts.precisions(tmp_path, gpu_check.DRY, torch.device("cpu"))
    assert [r.ok for r in rows] == [True, True, False] and rows[2].figure == "RuntimeError: boom"


def test_a_failed_check_exits_1_naming_it(monkeypatch, capsys):
    bad = Row("tests", "pytest -m gpu (2 files)", "1 failed", "-", "FAIL", ok=False)
    monkeypatch.setattr(gpu_check, "run", lambda parts, sizes, device: ([bad], {"tests": 1.0}))
    assert gpu_check.main(["--cpu-dry", "--only", "tests"]) == 1
    captured = capsys.readouterr()
    assert "| tests | pytest -m gpu (2 files) | 1 failed | - | FAIL |" in captured.out
    assert "checks failed: tests: pytest -m gpu (2 files)" in captured.err
