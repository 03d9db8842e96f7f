"""`python -m trainables.train`: JSON lines per epoch, checkpoints in --out, exit code 2 with one-line errors."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from trainables import checkpoint
from trainables.train import LocalSink, main

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--set", "data.name=digits", "--set", "data.limit_train=256", "--set", "num_threads=1"]


def cli(*args: str, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "trainables.train", *args, "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_one_epoch_prints_json_lines_and_saves_a_checkpoint(tmp_path):
    done = cli(*TINY, "--set", "epochs=1", out=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1
    metrics = json.loads(lines[0])
    assert metrics["epoch"] == 1
    assert {"train/loss", "val/acc", "lr", "sys/epoch_s"} <= set(metrics)
    assert checkpoint.load(tmp_path)["epoch"] == 1


@pytest.mark.parametrize(("args", "named"), [
    (["--set", "optim.lrr=1"], "optim.lrr"),
    (["--set", "data.name=cifar100", "--set", "data.root=/nonexistent"], "/nonexistent"),
    (["--set", "optim.lr=abc"], "optim.lr"),
])
def test_bad_config_exits_2_with_one_line_error(tmp_path, args, named):
    done = cli(*args, out=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0]
    assert not (tmp_path / checkpoint.STATE_FILE).exists()


def test_set_without_equals_exits_2(tmp_path, capsys):
    assert main(["--set", "noequals", "--out", str(tmp_path)]) == 2
    assert "noequals" in capsys.readouterr().err


def test_local_sink_resumes_only_when_asked(tmp_path, capsys):
    state = {"epoch": 2, "step": 8, "best": {"val/acc": 0.5}}
    LocalSink(tmp_path, resume=False).report({"epoch": 2, "val/acc": 0.1234567891}, state)
    assert json.loads(capsys.readouterr().out) == {"epoch": 2, "val/acc": 0.123457}
    assert LocalSink(tmp_path, resume=True).restore() == state
    assert LocalSink(tmp_path, resume=False).restore() is None
