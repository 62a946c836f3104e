"""Fixtures for the board tests: the firmware built once, one emulated board per session, and int8
test models made with TensorFlow directly (cached in pytest's cache folder)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest


from .tf_models import cached_tflite

ARCHS = ("dnn", "cnn", "ds_cnn")


def _need_toolchain() -> None:
    for tool in ("arm-none-eabi-gcc", "qemu-system-arm", "make"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (scripts/bootstrap.sh installs it)")


@pytest.fixture(scope="session")
def firmware_image():
    _need_toolchain()
    from nas.board.firmware_build import build_firmware

    return build_firmware("mps2_an500")


@pytest.fixture(scope="session")
def board(firmware_image):
    """One emulated Cortex-M7 shared by the tests that leave it usable."""
    from nas.board.emulated import EmulatedBoard

    with EmulatedBoard(image=firmware_image) as emulated:
        yield emulated


@pytest.fixture(scope="session")
def tflite_models(pytestconfig) -> dict[str, Path]:
    cache = Path(pytestconfig.cache.mkdir("kws_board_models"))
    return {arch: cached_tflite(cache, arch) for arch in ARCHS}
