"""What defines a study's training: speed-only settings and an unset `steps` do not."""
from nas.search.identity import defining_train_settings
from nas.search.schema import HELLO_EDGE_TRAINING, SEARCH_TRAINING


def test_device_and_speed_settings_never_define_a_study():
    defining = defining_train_settings(SEARCH_TRAINING.to_dict())
    assert not {"device", "bf16", "channels_last", "num_threads", "seed"} & set(defining)
    assert defining["epochs"] == SEARCH_TRAINING.epochs


def test_steps_define_a_study_only_when_set_so_older_studies_still_resume():
    assert "steps" not in defining_train_settings(SEARCH_TRAINING.to_dict())  # as stored before `steps` existed
    assert defining_train_settings(HELLO_EDGE_TRAINING.to_dict())["steps"] == 30_000


def test_the_default_decimation_does_not_define_a_study_so_older_studies_still_resume():
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from nas.search.cli import CONF_DIR
    from nas.search.identity import differences, study_definition
    from nas.search.schema import register_configs

    register_configs()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        default = study_definition(compose("config"), "data")
        decimated = study_definition(compose("config", ["search_space.frontend.decimation=2"]), "data")
    GlobalHydra.instance().clear()
    assert "decimation" not in default["search_space"]["frontend"]  # as stored before the key existed
    assert differences(default, decimated) == ["search_space.frontend.decimation: was (not set), now 2"]
