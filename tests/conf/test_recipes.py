"""The `train` recipe group and `+experiment=hello_edge`: what they compose to, cell by cell."""
import contextlib
import inspect
import io

from omegaconf import OmegaConf

from nas.data.augment import AugmentConfig
from nas.data.speech_commands import SpeechCommands
from nas.search import cli
from nas.search.cli import compose_config, multirun_cells
from nas.search.schema import HELLO_EDGE_AUGMENT_COPIES, RETRAIN_TRAINING, SEARCH_TRAINING
from nas.train import TrainConfig

ARCHS = {"dnn", "cnn", "basic_lstm", "lstm", "gru", "crnn", "ds_cnn"}
CLASSES = {"small", "medium", "large"}


def _recipes(cfg) -> tuple[TrainConfig, TrainConfig]:
    return OmegaConf.to_object(cfg.train), OmegaConf.to_object(cfg.retrain.train)


def _is_the_papers(recipe: TrainConfig) -> bool:
    """batch 100, Adam's 5e-4 -> 1e-4 -> 2e-5 in three equal phases of 30 k steps, no early stop, and
    no feature-space augmentation (the recipe's is in the waveform copies)."""
    total = recipe.total_steps(85_511)
    return (recipe.batch_size == 100 and total == 30_000 and recipe.schedule == "step"
            and [recipe.lr_at(s, total) for s in (0, 10_000, 20_000)] == [5e-4, 1e-4, 2e-5]
            and recipe.early_stopping_patience is None
            and (recipe.time_shift_frames, recipe.time_mask_frames, recipe.freq_mask_bins) == (0, 0, 0))


def test_quick_is_the_default_and_changes_nothing(composer):
    default, quick = composer([]), composer(["train=quick"])
    assert default.hydra.runtime.choices.train == "quick"
    for cfg in (default, quick):
        trained, retrained = _recipes(cfg)
        assert trained.to_dict() == {**SEARCH_TRAINING.to_dict(), "seed": cfg.seed}
        assert retrained == RETRAIN_TRAINING and cfg.data.augment_copies == 0


def test_hello_edge_is_the_papers_recipe_for_trials_and_retraining(composer):
    cfg = composer(["train=hello_edge", "seed=3"])
    trained, retrained = _recipes(cfg)
    assert _is_the_papers(trained) and _is_the_papers(retrained) and trained.seed == 3
    assert cfg.data.augment_copies == HELLO_EDGE_AUGMENT_COPIES > 0  # noise and shift: waveform copies
    assert AugmentConfig() == AugmentConfig(time_shift_ms=100.0, background_share=0.8, background_volume=0.1)
    defaults = inspect.signature(SpeechCommands).parameters
    # silence and unknown at 10 % each: the folder loader's defaults
    assert (defaults["unknown_percent"].default, defaults["silence_percent"].default) == (10.0, 10.0)


def test_a_recipe_key_can_still_be_overridden(composer):
    cfg = composer(["train=hello_edge", "train.steps=1000", "data.augment_copies=1"])
    assert (cfg.train.steps, cfg.retrain.train.steps, cfg.data.augment_copies) == (1000, 30_000, 1)
    assert composer(["train=quick", "train.device=cpu"]).train.device == "cpu"


def test_the_hello_edge_experiment_is_21_cells_of_the_papers_recipe():
    cells = multirun_cells(["+experiment=hello_edge", "data=folder", "data.root=/data/sc"])
    assert len(cells) == 21
    seen = set()
    for cell in cells:
        cfg = compose_config(cell)
        trained, retrained = _recipes(cfg)
        assert _is_the_papers(trained) and _is_the_papers(retrained)
        assert cfg.trials >= 40 and cfg.data.root == "/data/sc"
        seen.add((cfg.search_space._target_, cfg.study_name))
    assert {name for _, name in seen} == {f"{a}_{c}" for a in ARCHS for c in CLASSES}


def test_command_line_overrides_shrink_the_experiment():
    cells = multirun_cells(["+experiment=hello_edge", "search_space=gru,ds_cnn", "trials=2", "train.steps=200"])
    assert len(cells) == 6
    cfg = compose_config(cells[-1])
    assert (cfg.study_name, cfg.trials, cfg.train.steps, cfg.retrain.train.steps) == ("ds_cnn_large", 2, 200, 30_000)


def test_multirun_cfg_job_prints_every_cell():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = cli.main(["--multirun", "+experiment=hello_edge", "--cfg", "job", "--resolve"])
    text = out.getvalue()
    assert status == 0
    assert text.count("# cell ") == 21 and "# cell 21/21: search_space=ds_cnn constraints=large" in text
    assert text.count("steps: 30000") == 42  # train and retrain.train of each cell


def test_multirun_cfg_with_a_bad_member_is_one_clear_error(capsys):
    assert cli.main(["--multirun", "+experiment=hello_edge", "train=paper", "--cfg", "job"]) == 2
    assert "train/paper" in capsys.readouterr().err
