"""What defines a study: speed-only settings and an unset `steps` do not; a generated set's generator does."""
import shutil

import pytest

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from nas.errors import ConfigError
from nas.search.cli import CONF_DIR
from nas.search.identity import defining_train_settings, differences, study_definition
from nas.search.schema import HELLO_EDGE_TRAINING, SEARCH_TRAINING, register_configs


def _config(overrides=()):
    register_configs()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", list(overrides))
    GlobalHydra.instance().clear()
    return cfg


def test_device_and_speed_settings_never_define_a_study():
    defining = defining_train_settings(SEARCH_TRAINING.to_dict())
    assert not {"device", "bf16", "channels_last", "num_threads", "seed"} & set(defining)
    assert defining["epochs"] == SEARCH_TRAINING.epochs


def test_steps_define_a_study_only_when_set_so_older_studies_still_resume():
    assert "steps" not in defining_train_settings(SEARCH_TRAINING.to_dict())  # as stored before `steps` existed
    assert defining_train_settings(HELLO_EDGE_TRAINING.to_dict())["steps"] == 30_000


def test_the_default_decimation_does_not_define_a_study_so_older_studies_still_resume():
    default = study_definition(_config(), "data")
    decimated = study_definition(_config(["search_space.frontend.decimation=2"]), "data")
    assert "decimation" not in default["search_space"]["frontend"]  # as stored before the key existed
    assert differences(default, decimated) == ["search_space.frontend.decimation: was (not set), now 2"]


def test_a_generated_set_defines_a_study_by_its_manifest_so_a_regenerated_folder_is_not_resumed(tmp_path,
                                                                                                 tiny_dataset_dir):
    folder = tmp_path / "synth"
    shutil.copytree(tiny_dataset_dir, folder)
    cfg = _config()
    before = study_definition(cfg, folder)
    assert len(before["data"]["generator"]) == 12
    assert study_definition(cfg, folder) == before
    manifest = folder / "synth.json"
    manifest.write_text(manifest.read_text().replace('"espeak-ng"', '"another-engine"'))  # other voices made it
    (difference,) = differences(before, study_definition(cfg, folder))
    assert difference.startswith("data.generator: was ")
    assert "generator" not in study_definition(cfg, tmp_path)["data"]  # real data: no manifest, no key


def test_a_study_stored_before_generators_were_recorded_still_resumes(tmp_path, tiny_dataset_dir, caplog):
    import optuna

    from nas.search.identity import check_definition

    folder = tmp_path / "synth"
    shutil.copytree(tiny_dataset_dir, folder)
    current = study_definition(_config(), folder)
    older = {**current, "data": {k: v for k, v in current["data"].items() if k != "generator"}}
    study = optuna.create_study()
    study.set_user_attr("definition", older)
    check_definition(study, current)  # resumes, with a warning
    assert "records no generator" in caplog.text
    study.set_user_attr("definition", {**current, "data": {**current["data"], "generator": "0" * 12}})
    with pytest.raises(ConfigError, match="data.generator: was"):
        check_definition(study, current)
