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


BAD = {  # --set arguments -> what the one-line error must name
    "optim.lrr": (["--set", "optim.lrr=1"], "optim.lrr"),
    "cifar100_root": (["--set", "data.name=cifar100", "--set", "data.root=/nonexistent"], "/nonexistent"),
    "optim.lr": (["--set", "optim.lr=abc"], "optim.lr"),
}


@pytest.fixture(scope="module")
def launched(tmp_path_factory):
    """Every CLI call of this module, started at once: most of each one's time is importing torch and timm."""
    cases = {"good": [*TINY, "--set", "epochs=1"], **{name: args for name, (args, _) in BAD.items()}}
    procs = {}
    for name, args in cases.items():
        out = tmp_path_factory.mktemp(name.replace(".", "_"))
        procs[name] = out, subprocess.Popen([sys.executable, "-m", "trainables.train", *args, "--out", str(out)],
                                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    yield procs
    for _, proc in procs.values():
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def finish(launched, name):
    out, proc = launched[name]
    stdout, stderr = proc.communicate(timeout=120)
    return out, proc.returncode, stdout, stderr


def test_one_epoch_prints_json_lines_and_saves_a_checkpoint(launched):
    out, code, stdout, stderr = finish(launched, "good")
    assert code == 0, stderr
    lines = stdout.splitlines()
    assert len(lines) == 1
    metrics = json.loads(lines[0])
    assert metrics["epoch"] == 1
    assert {"train/loss", "val/acc", "lr", "sys/epoch_s"} <= set(metrics)
    assert checkpoint.load(out)["epoch"] == 1


@pytest.mark.parametrize("name", BAD)
def test_bad_config_exits_2_with_one_line_error(launched, name):
    out, code, stdout, stderr = finish(launched, name)
    assert code == 2
    assert stdout == ""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and BAD[name][1] in lines[0]
    assert not (out / checkpoint.STATE_FILE).exists()


def test_set_without_equals_exits_2(tmp_path, capsys):
    assert main(["--set", "noequals", "--out", str(tmp_path)]) == 2
    assert "noequals" in capsys.readouterr().err


def test_local_sink_resumes_only_when_asked(tmp_path, capsys):
    state = {"epoch": 2, "step": 8, "best": {"val/acc": 0.5}}
    LocalSink(tmp_path, resume=False).report({"epoch": 2, "val/acc": 0.1234567891}, state)
    assert json.loads(capsys.readouterr().out) == {"epoch": 2, "val/acc": 0.123457}
    assert LocalSink(tmp_path, resume=True).restore() == state
    assert LocalSink(tmp_path, resume=False).restore() is None
