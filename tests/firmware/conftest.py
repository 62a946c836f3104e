"""Fixtures for the kernel tests: the host kernel libraries and a disk cache of converted models."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest


from nas.atomic import write_bytes_atomic

from .kernel_lib import KernelLib, build_shared_library


@pytest.fixture(scope="session")
def kernels() -> KernelLib:
    """Reference and optimised kernels; the DSP paths run on the portable intrinsic emulation."""
    if shutil.which("gcc") is None:
        pytest.skip("host gcc is not installed")
    return KernelLib(build_shared_library(("KWS_DSP_EMULATE",)))


@pytest.fixture(scope="session")
def kernels_without_dsp() -> KernelLib:
    """The same sources built as for a core without the DSP extension (the _opt kernels fall back)."""
    if shutil.which("gcc") is None:
        pytest.skip("host gcc is not installed")
    return KernelLib(build_shared_library())


@pytest.fixture(scope="session")
def converted(pytestconfig):
    """Returns converted single-op models, cached on disk by a key naming the op and its shape."""
    import tensorflow as tf

    cache_dir = Path(pytestconfig.cache.mkdir("kws_kernel_models"))

    def get(key: str, make) -> bytes:
        digest = hashlib.sha256(f"{tf.__version__}|{key}".encode()).hexdigest()[:20]
        path = cache_dir / f"{digest}.tflite"
        if path.exists():
            return path.read_bytes()
        model = make()
        write_bytes_atomic(path, model)
        return model

    return get
