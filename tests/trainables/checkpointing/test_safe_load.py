"""Every .pt file the trainer reads (a trial's checkpoint, a pretraining's, a warm start's) goes through torch's
weights_only unpickler: tensors, plain values and numpy arrays come back; anything else is refused in one line
naming the file, and what it would have run never runs."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from trainables.checkpointing import checkpoint, safe_load, warm_start
from trainables.config import InitConfig


class Payload:
    """Unpickling it would create `marker`: a stand-in for any code a tampered file runs."""

    def __init__(self, marker) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


READERS = {  # how each reader is pointed at a folder holding state.pt
    "trial resume (checkpoint.load)": checkpoint.load,
    "pretraining / init.checkpoint (warm_start.load)": warm_start.load,
}


@pytest.mark.parametrize("read", READERS.values(), ids=READERS.keys())
def test_every_reader_refuses_a_payload_without_running_it(tmp_path, read):
    marker = tmp_path / "payload_ran"
    path = tmp_path / checkpoint.STATE_FILE
    torch.save({"model": {"w": torch.ones(2)}, "epoch": 3, "extra": Payload(marker)}, path)
    with pytest.raises(safe_load.UnsafeFile) as err:
        read(tmp_path)
    assert not marker.exists(), "the pickled payload ran"
    assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_a_pretraining_checkpoint_with_a_payload_fails_the_trial_before_training(tmp_path):
    marker = tmp_path / "payload_ran"
    torch.save({"model": {}, "optimizer": Payload(marker)}, tmp_path / checkpoint.STATE_FILE)
    model = torch.nn.Linear(2, 2)
    with pytest.raises(ValueError, match="init.checkpoint: .* holds posix.system"):
        warm_start.apply_init(InitConfig(checkpoint=str(tmp_path)), model, torch.optim.SGD(model.parameters(), 0.1))
    assert not marker.exists()


def test_numpy_arrays_and_scalars_come_back(tmp_path):
    path = tmp_path / "f.pt"
    torch.save({"a": np.arange(4, dtype=np.uint32), "b": np.float64(0.25), "c": [1, "x", None, (2.0,)]}, path)
    got = safe_load.load(path, what="test", hint="")
    assert got["a"].tolist() == [0, 1, 2, 3] and got["b"] == 0.25 and got["c"] == [1, "x", None, (2.0,)]


def test_a_numpy_object_array_is_refused(tmp_path):
    """Its items are pickles of anything: not the raw bytes of numbers."""
    path = tmp_path / "f.pt"
    torch.save({"a": np.array([1, "x"], dtype=object)}, path)
    with pytest.raises(safe_load.UnsafeFile, match="ObjectDType"):
        safe_load.load(path, what="test", hint="")


@pytest.mark.parametrize("content", [b"not a torch file", b""])
def test_an_unreadable_file_is_one_line_naming_it(tmp_path, content):
    path = tmp_path / "f.pt"
    path.write_bytes(content)
    with pytest.raises(safe_load.UnsafeFile) as err:
        safe_load.load(path, what="init.checkpoint", hint="")
    message = str(err.value)
    assert "\n" not in message and message.startswith("init.checkpoint: ") and str(path) in message
