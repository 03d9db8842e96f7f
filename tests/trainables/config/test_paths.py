"""Path fields are declared as such, and the driver makes each one absolute (trials run in Ray's folders)."""

from __future__ import annotations

import dataclasses
import re

from trainables.config import TrainConfig
from trainables.config.overrides import apply_overrides, flatten
from trainables.config.paths import absolute, absolute_paths, path_keys

PATHLIKE = re.compile(r"(root|checkpoint|path|dir|file)$")


def test_every_field_named_like_a_path_is_declared_a_path():
    cfg = TrainConfig()
    strings = {k for k, v in flatten(cfg).items() if isinstance(v, str)}
    assert {k for k in strings if PATHLIKE.search(k.split(".")[-1])} == set(path_keys(cfg)) == {
        "data.root", "init.checkpoint"}


def test_relative_paths_are_made_absolute_against_the_users_folder(tmp_path):
    cfg = apply_overrides(TrainConfig(), {"data.root": "data", "init.checkpoint": "runs/../ckpt/state.pt"})
    out = absolute_paths(cfg, tmp_path)
    assert out.data.root == str(tmp_path / "data") and out.init.checkpoint == str(tmp_path / "ckpt" / "state.pt")
    assert dataclasses.replace(out, data=cfg.data, init=cfg.init) == cfg, "nothing else changes"


def test_unset_absolute_and_uri_values_stay(tmp_path):
    assert absolute("", tmp_path) == ""
    assert absolute("/data/cifar", tmp_path) == "/data/cifar"
    assert absolute("s3://bucket/cifar", tmp_path) == "s3://bucket/cifar"
    assert absolute("~/cifar", tmp_path).endswith("/cifar") and not absolute("~/cifar", tmp_path).startswith("~")
