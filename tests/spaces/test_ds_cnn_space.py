"""The DS-CNN space in stages (search_spaces/ds_cnn_staged.yaml) beside the per-layer default."""
import optuna
import pytest

from nas.data.frontend_config import FrontEndConfig
from nas.errors import ConfigError
from nas.spaces import candidate_from_model_size_info, get_space, hello_edge_candidates
from nas.spaces.ds_cnn import DsCnnSpace, DsCnnStagedSpace

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _ds(first, rest, stride_ms=20.0):
    msi = [1 + len(rest), *first] + [x for block in rest for x in block]
    return candidate_from_model_size_info("ds_cnn", msi, FrontEndConfig(stride_ms=stride_ms))


def test_the_staged_space_is_opt_in_and_holds_hello_edge():
    assert type(get_space("ds_cnn")) is DsCnnSpace  # the default stays per layer
    staged = get_space("ds_cnn_staged")
    assert type(staged) is DsCnnStagedSpace
    assert all(staged.contains(c) for _, c in hello_edge_candidates("ds_cnn"))


def test_two_stages_round_trip_through_their_parameters():
    space = get_space("ds_cnn_staged")
    # stage 1: two 48-wide 3x3 blocks; stage 2: three 96-wide 5x3 blocks, the first strided 2x1
    candidate = _ds((48, 10, 4, 2, 2), [(48, 3, 3, 1, 1)] * 2 + [(96, 5, 3, 2, 1)] + [(96, 5, 3, 1, 1)] * 2)
    params = space.to_params(candidate)
    assert (params["stage1_depth"], params["stage1_width"], params["stage2_depth"], params["stage2_width"]) == (2, 48, 3, 96)
    assert (params["stage2_stride_t"], params["stage2_stride_f"], params["stage2_kernel_t"]) == (2, 1, 5)
    assert space.contains(candidate)
    assert space.sample(optuna.trial.FixedTrial(params)) == candidate


def test_hello_edge_small_is_one_stage_and_the_empty_stage_adds_nothing():
    space = get_space("ds_cnn_staged")
    (_, small), = [(p, c) for p, c in hello_edge_candidates("ds_cnn") if p.budget == "small"]
    params = space.to_params(small)
    assert (params["stage1_depth"], params["stage2_depth"]) == (4, 0)
    wider_empty_stage = {**params, "stage2_width": 500, "stage2_stride_t": 2}  # unused while its depth is 0
    assert space.sample(optuna.trial.FixedTrial(wider_empty_stage)) == small


def test_a_spec_with_more_stages_than_the_space_is_outside_it():
    space = get_space("ds_cnn_staged")
    three_stages = _ds((32, 10, 4, 2, 2), [(32, 3, 3, 1, 1), (64, 3, 3, 2, 1), (128, 3, 3, 2, 1)])
    two_stages = _ds((32, 10, 4, 2, 2), [(32, 3, 3, 1, 1), (64, 3, 3, 2, 1), (64, 3, 3, 1, 1)])
    assert not space.contains(three_stages)
    assert space.contains(two_stages)
    # the per-layer default holds both: five free numbers per layer
    assert get_space("ds_cnn").contains(three_stages)


def test_every_trial_draws_the_same_twenty_parameters():
    space = get_space("ds_cnn_staged")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    names = set()
    depths = set()
    for _ in range(200):
        trial = study.ask()
        candidate = space.sample(trial)
        names.add(frozenset(trial.params))
        depths.add(len(candidate.spec.blocks))
    assert len(names) == 1 and len(next(iter(names))) == 3 + 5 + 2 * 6
    assert min(depths) <= 3 and max(depths) >= 11  # empty stages and two full ones are both drawn
    per_layer = get_space("ds_cnn")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trials = [study.ask() for _ in range(50)]
    for trial in trials:
        per_layer.sample(trial)
    assert max(len(t.params) for t in trials) == 3 + 1 + 5 * 8  # the 43 of before, 8 layers deep


@pytest.mark.parametrize("field, value, expected", [
    ("stages", 0, "ds_cnn.stages must be a positive integer"),
    ("depth", [0, -1, 2], "ds_cnn.depth must list integers >= 0"),
    ("depth", [], "ds_cnn.depth must be a non-empty list"),
])
def test_bad_stage_settings_are_one_config_error(field, value, expected):
    from omegaconf import OmegaConf

    from nas.paths import SEARCH_SPACES_DIR

    kwargs = OmegaConf.to_container(OmegaConf.load(SEARCH_SPACES_DIR / "ds_cnn_staged.yaml"))
    kwargs.pop("_target_")
    with pytest.raises(ConfigError, match=expected):
        DsCnnStagedSpace(**{**kwargs, field: value})
