"""Which tests the GPU check runs (the files holding a gpu-marked test) and how it judges their outcome."""

from __future__ import annotations

from benchmarks import gpu_check_tests as gt


def test_the_files_with_a_gpu_marked_test_are_found(tmp_path):
    (tmp_path / "test_a.py").write_text("import pytest\n\n@pytest.mark.gpu\ndef test_x():\n    pass\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "test_b.py").write_text("import pytest\npytestmark = [pytest.mark.gpu]\n")
    (tmp_path / "test_c.py").write_text("# mentions pytest.mark.gpu in a comment only\n")
    assert gt.marked_files(tmp_path) == [tmp_path / "sub" / "test_b.py", tmp_path / "test_a.py"]
    assert {p.name for p in gt.marked_files()} >= {"test_ema.py", "test_randaugment.py"}


def test_on_a_gpu_a_test_must_pass_and_none_fail():
    assert gt.verdict({"passed": 2}, 0, need_pass=True)
    assert not gt.verdict({"skipped": 2}, 0, need_pass=True)  # skipped on a GPU: CUDA not seen
    assert gt.verdict({"skipped": 2}, 0, need_pass=False)
    assert not gt.verdict({"passed": 1, "failed": 1}, 1, need_pass=True)
    assert not gt.verdict({"passed": 1, "error": 1}, 1, need_pass=False)
    assert not gt.verdict({}, 4, need_pass=False)  # pytest's usage error
