"""Shared fixtures: a tiny generated dataset on disk, and the real Speech Commands clips beside the repo."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REAL_DATA_DEFAULT = REPO.parent / "shared" / "data" / "speech_commands_test_v2_half_a"


@pytest.fixture(scope="session")
def tiny_synth_settings():
    """6 voices × (10 keywords + 2 other words), 3 s noise beds, one process: about a second to make."""
    from nas.data.synth import SynthSettings

    return SynthSettings(seed=0, per_word=6, unknown_per_voice=2, noise_seconds=3.0, workers=1)


@pytest.fixture(scope="session")
def tiny_dataset_dir(tmp_path_factory, tiny_synth_settings) -> Path:
    """A generated dataset in the Speech Commands layout (read-only: copy it before changing it)."""
    from nas.data.synth import generate

    return generate(tmp_path_factory.mktemp("tiny") / "speech_commands", tiny_synth_settings, progress=False)


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """2,351 real clips of the official v0.02 test set; present on development and CI machines only."""
    path = Path(os.environ.get("KWS_NAS_REAL_DATA", REAL_DATA_DEFAULT))
    if not (path / "manifest.csv").is_file():
        pytest.skip(f"real Speech Commands clips not found at {path} (set KWS_NAS_REAL_DATA); "
                    f"they exist beside the repo on development and CI machines only")
    return path


@pytest.fixture(scope="session", autouse=True)
def user_cache_folder(tmp_path_factory):
    """Feature caches and other rebuildable files of the test session go to a folder of its own."""
    previous = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg_cache"))
    yield
    if previous is None:
        del os.environ["XDG_CACHE_HOME"]
    else:
        os.environ["XDG_CACHE_HOME"] = previous
