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
