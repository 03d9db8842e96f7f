"""Rewrite the vendored KubeRay schemas from a KubeRay checkout: the v1 `openAPIV3Schema` of the RayCluster and RayJob
CRDs (ray-operator/config/crd/bases/), without `status`, as gzipped JSON. Run: python extract.py KUBERAY_GIT_DIR."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import yaml

CRDS = {"RayCluster": "ray.io_rayclusters.yaml", "RayJob": "ray.io_rayjobs.yaml"}
HERE = Path(__file__).parent


def v1_schema(git_dir: str, crd_file: str) -> dict:
    text = subprocess.check_output(["git", "-C", git_dir, "show", f"HEAD:ray-operator/config/crd/bases/{crd_file}"])
    crd = yaml.safe_load(text)
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
    schema = version["schema"]["openAPIV3Schema"]
    schema["properties"].pop("status")  # written by the operator, never by a manifest
    return schema


def main(git_dir: str) -> None:
    commit = subprocess.check_output(["git", "-C", git_dir, "log", "-1", "--format=%H %cs"], text=True).strip()
    tag = subprocess.check_output(["git", "-C", git_dir, "describe", "--tags"], text=True).strip()
    for kind, crd_file in CRDS.items():
        raw = json.dumps(v1_schema(git_dir, crd_file), sort_keys=True, separators=(",", ":")).encode()
        # mtime=0: the same schema gives the same bytes, so a rerun at the same commit changes nothing in git
        (HERE / f"{kind.lower()}.v1.schema.json.gz").write_bytes(gzip.compress(raw, 9, mtime=0))
    (HERE / "SOURCE").write_text(f"ray-project/kuberay {commit} ({tag}) ray-operator/config/crd/bases/\n")


if __name__ == "__main__":
    main(sys.argv[1])
