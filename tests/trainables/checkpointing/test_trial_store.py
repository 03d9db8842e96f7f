"""A trial's checkpoints kept by hpstudy in the study's storage: the newest whole one is found, earlier ones go."""

from __future__ import annotations

import json
from pathlib import Path

from trainables.checkpointing import trial_store
from trainables.checkpointing.checkpoint import HISTORY_FILE


def _writer(epoch: int, weights: str = "w"):
    def write(directory: str) -> None:
        (Path(directory) / "state.bin").write_text(f"{weights}{epoch}")
        (Path(directory) / HISTORY_FILE).write_text(json.dumps({"epoch": epoch, "history": [], "stop": None}))
    return write


def test_each_save_is_the_newest_and_the_earlier_ones_are_deleted(tmp_path):
    for epoch in (1, 2, 3):
        trial_store.save(str(tmp_path), "abc_00001", _writer(epoch))
    folder = tmp_path / "train_abc_00001"
    assert sorted(p.name for p in folder.iterdir()) == ["checkpoint_000002"]
    assert trial_store.history(str(tmp_path), "abc_00001")["epoch"] == 3
    with trial_store.newest(str(tmp_path), "abc_00001") as directory:
        assert (Path(directory) / "state.bin").read_text() == "w3"
    assert trial_store.history(str(tmp_path), "abc_00002") is None  # another trial's: none
    with trial_store.newest(str(tmp_path), "abc_00002") as directory:
        assert directory is None


def test_a_half_written_or_staged_checkpoint_is_not_taken_for_one(tmp_path):
    trial_store.save(str(tmp_path), "t1", _writer(1))
    folder = tmp_path / "train_t1"
    (folder / "checkpoint_000007").mkdir()  # no history file: a save cut short on an object store
    (folder / ".checkpoint_0a1b").mkdir()  # a staging folder a killed save left
    (folder / ".checkpoint_0a1b" / HISTORY_FILE).write_text(json.dumps({"epoch": 9}))
    assert trial_store.history(str(tmp_path), "t1")["epoch"] == 1
    trial_store.save(str(tmp_path), "t1", _writer(2))  # numbered after the highest, the cut-short one removed
    assert trial_store.history(str(tmp_path), "t1")["epoch"] == 2
    assert sorted(p.name for p in folder.iterdir()) == ["checkpoint_000008"]  # the staging folder went too


def test_a_storage_uri_is_written_and_read_through_its_file_system(tmp_path):
    uri = tmp_path.as_uri()  # file://: pyarrow's file system, as s3:// or gs:// would be
    trial_store.save(uri, "t1", _writer(1, "u"))
    trial_store.save(uri, "t1", _writer(2, "u"))
    assert trial_store.history(uri, "t1")["epoch"] == 2
    with trial_store.newest(uri, "t1") as directory:
        assert (Path(directory) / "state.bin").read_text() == "u2"


def test_a_worker_groups_train_run_folder_is_read_too(tmp_path):
    folder = tmp_path / "train_t9" / "checkpoint_2026-12-07_10-00-00.000001"  # Ray Train's names sort by time
    folder.mkdir(parents=True)
    (folder / HISTORY_FILE).write_text(json.dumps({"epoch": 4, "history": [], "stop": None}))
    later = tmp_path / "train_t9" / "checkpoint_2026-12-07_10-00-05.000001"
    later.mkdir()
    (later / HISTORY_FILE).write_text(json.dumps({"epoch": 5, "history": [], "stop": None}))
    assert trial_store.history(str(tmp_path), "t9")["epoch"] == 5
