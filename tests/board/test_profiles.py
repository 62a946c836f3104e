"""One board, one clock: the search's budget, its latency probe and `kws-nas bench` read the same
profile (constraints/<board>.yaml), and no other YAML restates a clock."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.utils import instantiate

from nas.board.base import Measurement
from nas.cost.budget import load_board
from nas.paths import CONF_DIR

REPO = Path(__file__).resolve().parents[2]
TIME_KEYS = {"clock_hz", "cycles_per_instruction"}


def _keys(node) -> set[str]:
    if isinstance(node, dict):
        return set(node) | set().union(*(_keys(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_keys(v) for v in node)) if node else set()
    return set()


def test_only_the_board_profiles_state_a_clock():
    stating = sorted(str(p.relative_to(REPO)) for p in REPO.rglob("*.yaml")
                     if ".venv" not in p.parts and "results" not in p.parts and p.resolve() == p.absolute()
                     and TIME_KEYS & _keys(yaml.safe_load(p.read_text())))
    assert stating and all(s.startswith("constraints/") for s in stating), stating
    for name in ("mps2_an500", "stm32f746g_disco"):
        assert f"constraints/{name}.yaml" in stating


class _FakeBoard:
    """Reports every stage as 216,000 instructions (1 ms at 216 MHz)."""

    name = "fake"

    def __init__(self, *args, **kwargs):
        self.loaded = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def open(self):
        pass

    def close(self):
        pass

    def load(self, blob):
        self.loaded = blob
        return {"name": "m", "ops": 1}

    def _measure(self, stages, count, warmup):
        return Measurement("instructions", {s: 216_000.0 for s in stages}, np.zeros(12, np.int8), [0.0] * 12,
                           count, warmup)

    def infer(self, features, count=1, warmup=0):
        return self._measure(["network"], count, warmup)

    def stages(self, audio, count=1, warmup=0, new_frames=0):
        return self._measure(["features", "network", "post"], count, warmup)


def _compose(overrides: list[str]):
    from nas.search.schema import register_configs

    register_configs()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            return compose("config", overrides=overrides)
    finally:
        GlobalHydra.instance().clear()


@pytest.mark.parametrize("name, clock", [("mps2_an500", 216e6), ("mps2_an386", 64e6)])
def test_every_emulated_board_has_one_profile_that_its_probe_and_budget_load(name, clock):
    from nas.board.connect import EMULATED

    assert name in EMULATED
    cfg = _compose([f"board={name}", f"constraints={name}"])
    budget, probe = instantiate(cfg.constraints, _convert_="all"), instantiate(cfg.board.probe)
    assert budget == probe.profile == load_board(name) and budget.clock_hz == clock
    assert probe.port is None  # emulated


def test_the_serial_board_names_its_profile():
    probe = instantiate(_compose(["board=serial"]).board.probe)
    assert probe.profile == load_board("stm32f746g_disco") and probe.port == "/dev/ttyACM0"


def test_budget_probe_and_bench_share_one_mps2_an500_clock(tflite_models, monkeypatch, capsys):
    import argparse

    from nas.board import bench_cli, connect, probe as probe_mod

    monkeypatch.setattr(connect, "open_board", lambda name, port=None: _FakeBoard())
    monkeypatch.setattr(probe_mod, "open_board", lambda name, port=None: _FakeBoard())
    cfg = _compose(["board=mps2_an500", "constraints=mps2_an500"])
    budget = instantiate(cfg.constraints, _convert_="all")
    probe = instantiate(cfg.board.probe)
    assert budget == probe.profile == load_board("mps2_an500")
    assert budget.clock_hz == 216e6
    # the probe's ms: 216,000 instructions at 216 MHz
    assert probe.measure(tflite_models["dnn"].read_bytes()) == pytest.approx(1.0)
    probe.close()
    # the bench's ms and its note, from the same profile
    args = argparse.Namespace(model=tflite_models["dnn"], board="mps2_an500", port=None, count=1, warmup=0, out=None,
                              rate=10.0, sparse="auto")
    assert bench_cli.run(args) == 0
    printed = capsys.readouterr().out
    assert "estimate at 216 MHz" in printed
    assert printed.count("1.000") == 6  # features, network, post at 1 ms each, whole clip and always-on
    assert "duty cycle 3.0%" in printed  # 3 ms per inference, 10 per second
