"""`from hpstudy import ...`: the public API in one import, each name its room's own, loaded on first use."""

from __future__ import annotations

import subprocess
import sys

import pytest

import hpstudy


def test_every_name_of_the_api_is_its_rooms_own():
    from search_spaces import LogUniform
    from studies.study import Study
    from trainables.config import TrainConfig

    assert (hpstudy.Study, hpstudy.LogUniform, hpstudy.TrainConfig) == (Study, LogUniform, TrainConfig)
    assert all(getattr(hpstudy, name) is not None for name in hpstudy.__all__)


def test_an_unknown_name_lists_the_api():
    with pytest.raises(AttributeError, match="no attribute 'Studdy'; its API: .*Study"):
        hpstudy.Studdy  # noqa: B018


def test_importing_hpstudy_loads_nothing_heavy(tmp_path):
    code = "import sys, hpstudy; print(sorted(m for m in ('torch', 'ray', 'mlflow', 'studies') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
