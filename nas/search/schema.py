"""Structured-config schema of `kws-nas search`, registered in Hydra's ConfigStore.

These dataclasses are the one place where the search's defaults live. The YAML files under
``nas/conf/`` only pick group members and set what differs per member (a sampler's ``name``, a data
kind's ``root``); they never restate a default (tests/conf/test_compose.py checks it). So a key left
out of a YAML file takes the default written here, and a typo'd key or ``trials=many`` fails at
composition with a message naming the key.

``search_space`` and ``constraints`` stay free-form: each member names its own ``_target_`` class,
which checks its arguments (``nas.spaces``, ``nas.cost.budget``).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

from nas.search.measure_policy import MeasureMode
from nas.train import TrainConfig


@dataclass
class SamplerConf:
    """Which Optuna sampler proposes candidates (built by ``nas.search.study.make_sampler``).

    ``name`` comes from the member file (``sampler=tpe|mutation|nsga2|random|grid``); the other keys are the
    members' settings, each read only by its own sampler.
    """

    name: str = MISSING  # tpe | mutation | nsga2 | random | grid
    n_startup_trials: int = 8  # tpe, mutation: random trials before the model (or the mutations) kicks in
    population_size: int = 8  # nsga2: individuals per generation
    # grid: model_size_info lists to replay exactly; null = Hello Edge's published points of the arch
    specs: Optional[list[Any]] = None


@dataclass
class DataConf:
    """Where clips come from; features are cached by ``nas.data.cache.load_features``."""

    kind: str = MISSING  # synth: generated default dataset | folder: a Speech Commands layout at root
    root: Optional[str] = None  # synth: null = nas.data.synth.ensure_default_dataset()
    augment_copies: int = 0  # extra augmented copies of the training clips (cached like the rest)
    # folder: root is the official test-set archive's layout (12 class folders): split it by speaker
    # into train/validation/test (nas.data.speech_commands) instead of using every clip as test
    split_test_archive: bool = False
    cache_dir: Optional[str] = None  # null = nas.paths.features_cache_dir() (a user cache folder)


@dataclass
class ProbeConf:
    """The board hook of ``nas.board.probe.BoardLatencyProbe``. No clock here: the profile
    ``constraints/<board>.yaml`` holds it (one place per board)."""

    _target_: str = "nas.board.probe.BoardLatencyProbe"
    board: str = "mps2_an500"  # the board profile constraints/<board>.yaml
    port: Optional[str] = None  # null: start the emulator; a pyserial URL for a real or running board
    count: int = 3  # timed inferences per measurement
    warmup: int = 1


@dataclass
class BoardConf:
    """Latency measurement for trained feasible trials; ``none`` optimises ops instead of latency.

    ``probe`` is instantiated with ``hydra.utils.instantiate`` and satisfies
    ``nas.search.objective.LatencyProbe``.
    """

    name: str = "none"
    probe: Optional[ProbeConf] = None
    # which trained trials are measured: all, a sample, or only those entering the Pareto front;
    # the others trust the board's latency model (nas.search.measure_policy)
    measure: MeasureMode = MeasureMode.all
    sample_fraction: float = 0.25  # measure=sample: the share measured
    sample_seed: int = 0


@dataclass
class PrunerConf:
    """Dominance-aware median pruning of weak trials (``nas.search.pruning``)."""

    enabled: bool = True
    warmup_epochs: int = 1  # never prune before this many epochs (one epoch: 8,640 rows of the default set)
    min_peers: int = 3  # cheaper finished trials needed before comparing


class AccuracyKind(str, Enum):
    """Which validation accuracy is the search's accuracy objective."""

    float = "float"  # the trained torch model's (cheap)
    int8 = "int8"  # its full-int8 .tflite in the TFLite Micro host interpreter (what the board runs)


@dataclass
class ObjectiveConf:
    """``accuracy=int8``: every trained trial is converted to int8 (``trials/<n>/model.tflite``), its
    TFLite Micro accuracy becomes the objective and its measured flash + arena are checked against a
    deployment budget (a board profile, or a class with ``convention: deploy``). About 1-3 s per trial."""

    accuracy: AccuracyKind = AccuracyKind.float


# The `quick` recipe (the default): short, enough to rank candidates on generated speech within the
# demo's 15 minutes. Its epochs are those of the default set's 900 voices (8,640 training rows): 3 show
# about the rows that 10 did on the earlier 300-voice set, and its patience of 1 epoch the rows of 3.
# TrainConfig's own defaults stay Hello Edge's full recipe for other callers.
SEARCH_TRAINING = TrainConfig(
    epochs=3,
    batch_size=100,
    schedule="cosine",
    lr_phases=(0.003, 0.0001),
    early_stopping_patience=1,
    time_shift_frames=5,
    time_mask_frames=4,
    freq_mask_bins=2,
)


# Its final retraining: the search's, run longer, without early stopping (every seed gets the same
# number of epochs; 4 on 900 voices show the rows that 12 did on 300). Sized so `make demo` stays within
# 15 minutes on two cores: 24 trials, then up to 3 shortlist runs and 3 candidates x 3 seeds (README).
# distill_alpha: the exported student's share of its loss from the ensemble of its seeds (at 0.9 and 30
# epochs bench_real_speech's students score 77.0 % on real clips, 73.8 % trained on the labels; 0.5
# screened lower, 76.5 %)
RETRAIN_TRAINING = dataclasses.replace(SEARCH_TRAINING, epochs=4, early_stopping_patience=None, distill_alpha=0.9)


# The `hello_edge` recipe: ML-KWS-for-MCU's train_commands.txt, i.e. TensorFlow's speech_commands
# train.py as Hello Edge ran it: batch 100, Adam, 5e-4 -> 1e-4 -> 2e-5 over 3 x 10 k steps, no early stop
# (TrainConfig's defaults hold the batch, optimiser and rates). Its waveform augmentation (time shift
# +-100 ms, background noise on 80 % of clips at a volume <= 0.1: nas.data.augment.AugmentConfig's
# defaults) lives in HELLO_EDGE_AUGMENT_COPIES drawn copies of the training clips, so no feature-space
# augmentation is added on top; silence and unknown at 10 % each are the folder loader's defaults.
# Trials and the final retraining both train the full 30 k steps: the paper ranked and reported its
# models after the same recipe, and a shorter screening would rank the slow-starting recurrent models
# lower. Shorten the screening with `train.steps=10000` (the three phases shrink with it).
HELLO_EDGE_TRAINING = TrainConfig(steps=30_000, schedule="step", early_stopping_patience=None)
# Each copy draws its own shift and noise; the originals stay clean, so 80 % x 4/5 = 64 % of the clips
# an epoch shows carry noise (TensorFlow draws afresh every step, over the same distribution).
HELLO_EDGE_AUGMENT_COPIES = 4


@dataclass
class RetrainConf:
    """The final retraining after the search (``nas.search.retrain``): the best screened candidates and
    Hello Edge's configuration, each trained ``seeds`` times with ``train``."""

    enabled: bool = True  # run it at the end of `kws-nas search` (also: `kws-nas retrain DIR`)
    top_k: int = 1  # front candidates by screening accuracy, plus as many among those cheaper than Hello Edge
    seeds: int = 3  # training seeds 0..seeds-1, the same for every candidate
    # the candidates at most Hello Edge's cost with the best screening accuracy, this many, each get one
    # run at seed `seeds` (a seed the comparison never uses) and the top_k of those runs get every seed:
    # one short screening run is too noisy to pick the candidate worth comparing (<= top_k: no such runs)
    shortlist: int = 3
    # then the chosen candidate once more: a student distilled from the ensemble of its seeds' models,
    # exported when it validates at least as well as the best seed (train's distill_alpha and
    # distill_temperature; nas.search.retrain, nas.results.retrain.candidates_frame)
    distill: bool = True
    train: TrainConfig = field(default_factory=lambda: RETRAIN_TRAINING)


@dataclass
class SearchConf:
    """The primary config: one study of one search space under one budget."""

    search_space: dict[str, Any] = field(default_factory=dict)
    constraints: dict[str, Any] = field(default_factory=dict)
    sampler: SamplerConf = field(default_factory=SamplerConf)
    data: DataConf = field(default_factory=DataConf)
    board: BoardConf = field(default_factory=BoardConf)
    pruner: PrunerConf = field(default_factory=PrunerConf)
    objective: ObjectiveConf = field(default_factory=ObjectiveConf)
    retrain: RetrainConf = field(default_factory=RetrainConf)
    train: TrainConfig = field(default_factory=lambda: SEARCH_TRAINING)
    trials: int = 24  # trained trials (feasible candidates); infeasible samples do not count
    timeout: Optional[float] = None  # seconds for this worker; null = no limit
    seed: int = 0
    study_name: str = MISSING  # config.yaml: <search_space>_<constraints>
    results_dir: str = "results"  # the study lives in <results_dir>/<study_name>/
    storage: Optional[str] = None  # null = sqlite:///<results_dir>/<study_name>/study.db
    heartbeat_interval: int = 10  # seconds between a running trial's heartbeats
    grace_period: int = 30  # a RUNNING trial silent this long is failed and retried
    max_retry: int = 2  # retries of a trial whose worker died
    # --multirun: jobs per cell, all on the cell's one study (storage= a shared PostgreSQL server;
    # hydra/launcher=submitit_slurm|submitit_local|joblib runs them side by side)
    workers: int = 1
    worker: int = 0  # this job's index among its cell's workers (set by --multirun when workers > 1)
    enqueue_hello_edge: bool = True  # first trial: Hello Edge's published model for this arch and class
    max_rejected_in_a_row: int = 300  # infeasible samples in a row before giving up (BudgetError)
    progress: bool = True  # the live progress display (trials, best accuracy, rejected)
    verbose: bool = False  # per-epoch lines and TensorFlow's converter log on the console (also: -v)


# The `train` config group: a recipe sets how trials train, how the final retraining trains, and the
# data augmentation it needs, hence a global package (`train=hello_edge`; `train.steps=...` still sets
# one key of the composed recipe).
RECIPES: dict[str, dict[str, Any]] = {
    "quick": {"train": SEARCH_TRAINING, "retrain": {"train": RETRAIN_TRAINING}},
    "hello_edge": {"train": HELLO_EDGE_TRAINING, "retrain": {"train": HELLO_EDGE_TRAINING},
                   "data": {"augment_copies": HELLO_EDGE_AUGMENT_COPIES}},
}


def register_configs() -> None:
    """Put the schemas and the recipes in Hydra's ConfigStore (idempotent)."""
    cs = ConfigStore.instance()
    cs.store(name="search_schema", node=SearchConf)
    for name, recipe in RECIPES.items():
        cs.store(group="train", name=name, node=recipe, package="_global_")
