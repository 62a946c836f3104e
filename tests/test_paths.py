"""An installed kws-nas (a wheel, no checkout) finds its configs, firmware and reference data."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import nas.paths as paths

REPO = Path(__file__).resolve().parents[1]

INSTALLED_CHECK = """
import json, nas, nas.paths as p
from nas.board.firmware_build import build_firmware, ports
from nas.cost.budget import load_budget
from nas.report.study_report import load_reference
from nas.spaces.loader import get_space
image = build_firmware("mps2_an500", build_root={build!r})
print(json.dumps({{
    "package": nas.__file__, "checkout": str(p.checkout_root()), "data_home": str(p.data_home()),
    "spaces": sorted(x.stem for x in p.SEARCH_SPACES_DIR.glob("*.yaml")),
    "dnn_space": type(get_space("dnn")).__name__, "small_ops": load_budget("small").max_ops,
    "reference_rows": len(load_reference()), "ports": ports(), "flash": image.flash_bytes,
}}))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The package built into a wheel from the working tree and installed into a bare folder."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs a git checkout to know which files are part of the tree")
    tmp = tmp_path_factory.mktemp("wheel")
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO,
                           capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        src, dst = REPO / name, tmp / "src" / name
        if src.is_symlink() or src.is_file():
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_symlink():
                dst.symlink_to(os.readlink(src))
            else:
                shutil.copy2(src, dst)
    pip = [sys.executable, "-m", "pip", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp / "dist"), str(tmp / "src")],
                   check=True, capture_output=True)
    wheel = next((tmp / "dist").glob("kws_nas-*.whl"))
    subprocess.run([*pip, "install", "--no-deps", "--target", str(tmp / "site"), str(wheel)], check=True, capture_output=True)
    return tmp


@pytest.mark.firmware
def test_an_installed_wheel_has_configs_firmware_and_reference_data(installed):
    env = {**os.environ, "PYTHONPATH": str(installed / "site"), "HOME": str(installed / "home")}
    env.pop("KWS_NAS_DATA_DIR", None)
    code = INSTALLED_CHECK.format(build=str(installed / "firmware_build"))
    out = subprocess.run([sys.executable, "-c", code], cwd=installed, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    facts = json.loads(out.stdout.splitlines()[-1])
    assert Path(facts["package"]).is_relative_to(installed / "site")
    assert facts["checkout"] == "None"
    assert facts["data_home"] == str(installed / "home" / ".local" / "share" / "kws-nas")
    assert facts["spaces"] == sorted(p.stem for p in (REPO / "search_spaces").glob("*.yaml"))
    assert facts["dnn_space"] == "DnnSpace" and facts["small_ops"] == 6_000_000
    assert facts["reference_rows"] == 21  # Hello Edge: 7 architectures x 3 classes
    assert facts["ports"] == sorted(p.name for p in (REPO / "firmware" / "port").glob("*") if (p / "port.mk").is_file())
    assert facts["flash"] > 10_000
    assert not list((installed / "site" / "nas" / "firmware").glob("build*")), "the build went to build_root"


def test_an_installed_search_composes_every_config_group(installed):
    env = {**os.environ, "PYTHONPATH": str(installed / "site"), "HOME": str(installed / "home")}
    out = subprocess.run([sys.executable, "-m", "nas", "search", "search_space=gru", "constraints=large",
                          "sampler=nsga2", "--cfg", "job"], cwd=installed, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "nas.spaces.gru.GruSpace" in out.stdout and "80000000" in out.stdout.replace("_", "")


def test_a_checkout_keeps_data_and_builds_inside_it():
    assert paths.checkout_root() == REPO
    assert paths.data_home() == REPO / "data"
    assert paths.FIRMWARE_DIR == REPO / "firmware" and paths.firmware_build_root() == REPO / "firmware" / "build"
    assert (paths.REFERENCE_DIR / "hello_edge.csv").resolve() == REPO / "results" / "reference" / "hello_edge.csv"


def test_a_read_only_firmware_folder_builds_into_the_user_cache(monkeypatch, tmp_path):
    monkeypatch.setattr(paths.os, "access", lambda path, mode: Path(path) != paths.FIRMWARE_DIR)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert paths.firmware_build_root() == tmp_path / "kws-nas" / "firmware"
