"""`python -m trainables.train`: JSON lines per epoch, checkpoints in --out, exit code 2 with one-line errors."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from trainables.checkpointing import checkpoint
from trainables.train import LocalSink, main

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--set", "data.name=digits", "--set", "data.limit_train=256", "--set", "num_threads=1"]


BAD = {  # --set arguments -> what the one-line error must name
    "optim.lrr": (["--set", "optim.lrr=1"], "optim.lrr"),
    "cifar100_root": (["--set", "data.name=cifar100", "--set", "data.root=/nonexistent"], "/nonexistent"),
    "optim.lr": (["--set", "optim.lr=abc"], "optim.lr"),
}


@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    """One real CLI process (its time is mostly importing torch and timm): one epoch on digits."""
    out = tmp_path_factory.mktemp("good")
    proc = subprocess.run([sys.executable, "-m", "trainables.train", *TINY, "--set", "epochs=1", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    return out, proc.returncode, proc.stdout, proc.stderr


def test_one_epoch_prints_json_lines_and_saves_a_checkpoint(good_run):
    out, code, stdout, stderr = good_run
    assert code == 0, stderr
    lines = stdout.splitlines()
    assert len(lines) == 1
    metrics = json.loads(lines[0])
    assert metrics["epoch"] == 1
    assert {"train/loss", "val/acc", "lr", "sys/epoch_s"} <= set(metrics)
    assert checkpoint.load(out)["epoch"] == 1


@pytest.mark.parametrize("name", BAD)
def test_bad_config_exits_2_with_one_line_error(tmp_path, capsys, name):
    """In this process (`main` is what `python -m trainables.train` runs): the exit code and what it prints."""
    args, named = BAD[name]
    code = main([*args, "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and named in lines[0]
    assert not (tmp_path / "out" / checkpoint.STATE_FILE).exists()


def test_set_without_equals_exits_2(tmp_path, capsys):
    assert main(["--set", "noequals", "--out", str(tmp_path)]) == 2
    assert "noequals" in capsys.readouterr().err


def test_local_sink_resumes_only_when_asked(tmp_path, capsys):
    state = {"epoch": 2, "step": 8, "best": {"val/acc": 0.5}}
    LocalSink(tmp_path, resume=False).report({"epoch": 2, "val/acc": 0.1234567891}, state)
    assert json.loads(capsys.readouterr().out) == {"epoch": 2, "val/acc": 0.123457}
    assert LocalSink(tmp_path, resume=True).restore() == state
    assert LocalSink(tmp_path, resume=False).restore() is None
