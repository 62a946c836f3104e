"""Every member of every config group of `kws-nas search` composes, and bad overrides are one clear error."""
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from nas.errors import ConfigError
from nas.search.cli import CONF_DIR, check_overrides
from nas.search.schema import RECIPES

REPO = Path(__file__).resolve().parents[2]


def _members(group_dir: Path) -> list[str]:
    return sorted(p.stem for p in group_dir.glob("*.yaml"))


GROUPS = {
    "search_space": _members(REPO / "search_spaces"),
    "constraints": _members(REPO / "constraints"),
    "sampler": _members(CONF_DIR / "sampler"),
    "data": _members(CONF_DIR / "data"),
    "board": _members(CONF_DIR / "board"),
    "train": sorted(RECIPES),  # recipes: schema nodes in the ConfigStore, no YAML
}
CASES = [(group, member) for group, members in GROUPS.items() for member in members]


def test_groups_come_from_the_top_level_folders():
    assert (CONF_DIR / "search_space").resolve() == (REPO / "search_spaces").resolve()
    assert (CONF_DIR / "constraints").resolve() == (REPO / "constraints").resolve()
    assert GROUPS["search_space"] == sorted(["dnn", "cnn", "basic_lstm", "lstm", "gru", "crnn", "ds_cnn", "tc_resnet",
                                             "ds_cnn_staged"])
    assert {"small", "medium", "large"} <= set(GROUPS["constraints"])
    assert GROUPS["sampler"] == ["grid", "mutation", "nsga2", "random", "tpe"]
    assert "none" in GROUPS["board"] and "synth" in GROUPS["data"]


def test_defaults(composer):
    cfg = composer([])
    choices = cfg.hydra.runtime.choices
    assert (choices.search_space, choices.constraints, choices.sampler, choices.data, choices.board) == (
        "ds_cnn", "small", "tpe", "synth", "none")
    assert cfg.study_name == "ds_cnn_small"
    assert cfg.storage is None and cfg.sampler.name == "tpe" and cfg.board.name == "none"
    assert cfg.train.seed == cfg.seed  # the trainer follows the search's seed
    assert cfg.hydra.run.dir == "results/ds_cnn_small/hydra"  # Hydra's files stay inside the study folder


@pytest.mark.parametrize("group, member", CASES, ids=[f"{g}={m}" for g, m in CASES])
def test_every_group_member_composes(composer, group, member):
    overrides = [f"{group}={member}"] + (["data.root=/some/dataset"] if (group, member) == ("data", "folder") else [])
    cfg = composer(overrides)
    assert cfg.hydra.runtime.choices[group] == member
    content = OmegaConf.to_container(cfg[group], resolve=True)
    assert content, f"{group}={member} composed to nothing"
    if group == "search_space":
        assert content["_target_"].startswith("nas.spaces.") and cfg.study_name == f"{member}_small"
    if group == "constraints":
        assert cfg.study_name == f"ds_cnn_{member}"
    if group == "sampler":
        assert content["name"] == member
    if group == "board":
        assert content["name"] == member


def test_overrides_of_keys_and_nested_train_settings(composer):
    cfg = composer(["trials=3", "train.epochs=1", "storage=postgresql://u:p@h/db", "study_name=mine"])
    assert (cfg.trials, cfg.train.epochs, cfg.storage, cfg.study_name) == (3, 1, "postgresql://u:p@h/db", "mine")


def test_unknown_group_member_lists_the_valid_choices():
    with pytest.raises(ConfigError) as err:
        check_overrides(["search_space=transformer"])
    assert "search_space/transformer" in str(err.value) and "ds_cnn" in str(err.value) and "gru" in str(err.value)


def test_unknown_member_hidden_in_a_multirun_sweep_is_found():
    check_overrides(["search_space=dnn,cnn", "constraints=small,large"])  # valid: no error
    with pytest.raises(ConfigError, match="sampler/annealing"):
        check_overrides(["search_space=dnn,cnn", "sampler=tpe,annealing"])


def test_unknown_key_and_wrong_type_are_one_clear_error():
    with pytest.raises(ConfigError, match=r"trails.*valid keys: .*trials"):
        check_overrides(["trails=3"])
    with pytest.raises(ConfigError, match="trials=many.*could not be converted to Integer"):
        check_overrides(["trials=many"])
    with pytest.raises(ConfigError, match=r"train.epochz.*valid keys of train: epochs"):
        check_overrides(["train.epochz=3"])


def test_int8_accuracy_objective_composes_and_bad_values_are_refused(composer):
    from nas.search.schema import AccuracyKind

    assert composer([]).objective.accuracy == AccuracyKind.float  # float by default: no conversion per trial
    cfg = composer(["objective.accuracy=int8"])
    assert cfg.objective.accuracy == AccuracyKind.int8 and cfg.objective.accuracy == "int8"
    with pytest.raises(ConfigError, match="objective.accuracy=int4"):
        check_overrides(["objective.accuracy=int4"])


# --- defaults live in one place: the schema (nas/search/schema.py) -----------------------------------

def _leaves(node, prefix=""):
    """(dotted key, value) of every leaf of a plain dict, lists taken whole."""
    for key, value in node.items():
        if isinstance(value, dict) and value:
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


OWN_YAML = {  # the files whose keys the schema types: config.yaml and experiments (minus defaults/hydra), two groups
    "": [CONF_DIR / "config.yaml", *sorted((CONF_DIR / "experiment").glob("*.yaml"))],
    "sampler.": sorted((CONF_DIR / "sampler").glob("*.yaml")),
    "data.": sorted((CONF_DIR / "data").glob("*.yaml")),
}


@pytest.mark.parametrize("prefix, path", [(p, f) for p, files in OWN_YAML.items() for f in files],
                         ids=lambda v: v.name if isinstance(v, Path) else v)
def test_no_yaml_file_restates_a_schema_default(prefix, path):
    """A value equal to the schema's default is a second copy that can drift (it did: 30 vs 10 epochs)."""
    from nas.search.schema import SearchConf

    defaults = dict(_leaves(OmegaConf.to_container(OmegaConf.structured(SearchConf), resolve=False)))
    text = OmegaConf.to_container(OmegaConf.load(path), resolve=False)
    text = {k: v for k, v in text.items() if k not in ("defaults", "hydra")}
    assert text, f"{path.name} sets nothing"
    for key, value in _leaves(text):
        full = prefix + key
        assert full in defaults, f"{path.name}: {key} is not in the schema"
        if defaults[full] == "???" or str(value).startswith("${"):
            continue  # nothing to restate: a member's own name, or an interpolation
        assert value != defaults[full], f"{path.name}: {key}: {value!r} restates the schema default"


def test_a_key_left_out_of_the_yaml_takes_the_one_default(composer):
    from nas.search.schema import SEARCH_TRAINING, PrunerConf, SamplerConf

    cfg = composer([])
    trained = OmegaConf.to_object(cfg.train)
    assert trained == type(SEARCH_TRAINING)(**{**SEARCH_TRAINING.__dict__, "seed": cfg.seed})
    assert cfg.train.epochs == SEARCH_TRAINING.epochs != type(SEARCH_TRAINING)().epochs  # the search's, not the library's
    assert cfg.pruner.warmup_epochs == PrunerConf().warmup_epochs
    assert cfg.sampler.n_startup_trials == SamplerConf().n_startup_trials
    assert composer(["sampler=nsga2"]).sampler.population_size == SamplerConf().population_size
    assert composer(["seed=7"]).train.seed == 7


def test_train_is_typed_and_checked_by_the_trainers_config(composer):
    from nas.train import TrainConfig

    cfg = composer(["train.schedule=linear"])
    with pytest.raises(ConfigError, match="schedule must be one of"):
        OmegaConf.to_object(cfg.train)
    assert isinstance(OmegaConf.to_object(composer(["train.lr_phases=[0.01]"]).train), TrainConfig)
    with pytest.raises(ConfigError, match="train.epochs=many.*could not be converted to Integer"):
        check_overrides(["train.epochs=many"])
