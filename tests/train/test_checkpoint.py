"""Checkpoints: weights_only loading, exact round trip, atomic writes, clear errors."""
from __future__ import annotations

import pytest
import torch

from nas.data.frontend_config import FrontEndConfig
from nas.errors import ConfigError
from nas.spaces import build_model, candidate_from_model_size_info
from nas.train import load_checkpoint, save_checkpoint

DS_CNN_SMALL = [5, 64, 10, 4, 2, 2, 64, 3, 3, 1, 1, 64, 3, 3, 1, 1, 64, 3, 3, 1, 1, 64, 3, 3, 1, 1]


def _trained_looking_model(candidate):
    torch.manual_seed(0)
    model = build_model(candidate)
    model.train()
    with torch.no_grad():
        for _ in range(3):  # moves BatchNorm running statistics away from their initial values
            model(torch.randn(8, *candidate.frontend.input_shape))
    return model.eval()


@pytest.fixture(scope="module")
def candidate():
    return candidate_from_model_size_info("ds_cnn", DS_CNN_SMALL, FrontEndConfig())


def test_round_trip_gives_identical_outputs_and_loads_weights_only(tmp_path, candidate):
    model = _trained_looking_model(candidate)
    extra = {"trial": 7, "val_acc": 0.91, "history": [{"epoch": 1, "val_acc": 0.5}], "note": ("a", "tuple")}
    path = save_checkpoint(tmp_path / "trials" / "7" / "model.pt", model, candidate.to_dict(), extra)

    raw = torch.load(path, weights_only=True)  # no pickled classes: loads under the safe unpickler
    assert set(raw["state_dict"]) == set(model.state_dict())

    loaded, candidate_dict, loaded_extra = load_checkpoint(path)
    assert candidate_dict == candidate.to_dict()
    assert loaded_extra == {**extra, "note": ["a", "tuple"]}  # stored as its JSON round trip
    assert not loaded.training
    x = torch.randn(16, *candidate.frontend.input_shape)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))
    assert [p.name for p in path.parent.iterdir()] == ["model.pt"]  # no temp file left behind


def test_weights_of_another_spec_are_a_config_error_naming_the_key(tmp_path, candidate):
    narrower = candidate_from_model_size_info("ds_cnn", [5, 48, 10, 4, 2, 2] + [48, 3, 3, 1, 1] * 4, FrontEndConfig())
    path = save_checkpoint(tmp_path / "model.pt", build_model(narrower), candidate.to_dict(), {})
    with pytest.raises(ConfigError, match=r"model\.pt: '[\w.]+weight' has shape \(48, 1, 10, 4\), .*expects \(64, 1, 10, 4\)"):
        load_checkpoint(path)


def test_missing_and_extra_keys_are_named(tmp_path, candidate):
    model = build_model(candidate)
    path = save_checkpoint(tmp_path / "model.pt", model, candidate.to_dict(), {})
    raw = torch.load(path, weights_only=True)
    first_key = next(iter(raw["state_dict"]))
    del raw["state_dict"][first_key]
    torch.save(raw, path)
    with pytest.raises(ConfigError, match=f"lack '{first_key}'"):
        load_checkpoint(path)


def test_a_file_that_is_not_a_checkpoint_is_a_config_error(tmp_path):
    garbage = tmp_path / "model.pt"
    garbage.write_bytes(b"not a zip archive")
    with pytest.raises(ConfigError, match="not a readable torch checkpoint"):
        load_checkpoint(garbage)
    torch.save({"weights": torch.zeros(2)}, garbage)
    with pytest.raises(ConfigError, match="not a kws-nas-checkpoint file"):
        load_checkpoint(garbage)
    with pytest.raises(ConfigError, match="no such file"):
        load_checkpoint(tmp_path / "absent.pt")


def test_a_failed_save_leaves_the_previous_checkpoint_whole(tmp_path, candidate):
    model = build_model(candidate)
    path = save_checkpoint(tmp_path / "model.pt", model, candidate.to_dict(), {"version": 1})
    before = path.read_bytes()
    with pytest.raises(ConfigError, match="JSON"):
        save_checkpoint(path, model, candidate.to_dict(), {"bad": object()})
    assert path.read_bytes() == before
    assert load_checkpoint(path)[2] == {"version": 1}


def test_a_writer_dying_mid_save_leaves_the_previous_checkpoint_and_no_temp_file(tmp_path, candidate, monkeypatch):
    model = build_model(candidate)
    path = save_checkpoint(tmp_path / "model.pt", model, candidate.to_dict(), {"version": 1})
    before = path.read_bytes()

    def dies_half_way(obj, handle):
        handle.write(b"PK\x03\x04 half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", dies_half_way)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, model, candidate.to_dict(), {"version": 2})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]
