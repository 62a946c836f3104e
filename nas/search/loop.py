"""Run one study from a composed config: the body of `kws-nas search` (and of each multirun cell).

Before the study is opened, a search that cannot work is refused with one line (``preflight``): values
that make no sense, a budget below the space's least cost, a dataset that is missing, malformed or
holds a file that cannot be decoded (the first trial's features are loaded up front).

The study stops when ``trials`` trained trials have finished across all its workers (a rerun of the
same command resumes and only runs what is missing), when this worker's ``timeout`` passes, or with a
BudgetError when ``max_rejected_in_a_row`` samples in a row were infeasible and none was ever feasible.
A study that reached its trial budget (and has no trial still running elsewhere) is then retrained
(``retrain.enabled``): its best candidates and Hello Edge's configuration, several seeds each
(``nas.search.retrain``); a rerun does only the runs that are missing. The results folder's tables and
figures are rewritten at the end, also after an error or Ctrl-C. The outcome counts the study from its
storage (all workers), says whether every trial of this run failed, and gives the dominance verdict.
"""
from __future__ import annotations

import functools

import dataclasses
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import optuna
from omegaconf import DictConfig, OmegaConf

from nas.errors import BudgetError, ConfigError
from nas.results import place as place_mod
from nas.results.storage import open_storage
from nas.cost.budget import Limits
from nas.search import preflight, study as study_mod
from nas.search.console import SearchConsole
from nas.search.features import CachedFeatures, dataset_root
from nas.search.identity import study_definition
from nas.search.measure_policy import MeasureMode, MeasurePolicy
from nas.search.mutation import MutationSampler, costs_from_space
from nas.search.objective import LatencyProbe, ListSource, SpaceSource, TrialRunner
from nas.search.pruning import DominanceMedianPruner
from nas.search.retrain import check_conf as check_retrain_conf
from nas.spaces import SearchSpace
from nas.train import TrainConfig

log = logging.getLogger("nas.search")


@dataclass
class SearchOutcome:
    study_name: str
    results_dir: Path
    counts: study_mod.TrialCounts  # what the study holds, all workers
    ran: int  # trials of this worker that counted toward ``trials``
    failures: list[str]  # their fail reasons, for those that failed
    verdicts: list[str] = dataclasses.field(default_factory=list)  # the retrained comparison, for people

    @property
    def all_failed(self) -> bool:
        return self.ran > 0 and len(self.failures) == self.ran


class SearchMonitor:
    """Optuna callback: progress display, stopping at the trial budget, and the infeasible-streak guard."""

    def __init__(self, target: int, max_rejected_in_a_row: int, display: SearchConsole | None = None):
        self.target, self.max_rejected = target, max_rejected_in_a_row
        self.display = display
        self.rejected_in_a_row = 0
        self.rejected = 0
        self.ran = 0
        self.failures: list[str] = []
        self.best_acc: float | None = None

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        infeasible = study_mod.is_infeasible(trial) and trial.state == optuna.trial.TrialState.COMPLETE
        if infeasible:
            self.rejected += 1
        if infeasible or study_mod.DUPLICATE_OF in trial.user_attrs:  # neither trains: a sampler stuck
            self.rejected_in_a_row += 1  # on them would otherwise run forever
        else:
            self.rejected_in_a_row = 0
        if not infeasible:
            log_trial(trial)
        if study_mod.counts_toward_budget(trial):
            self.ran += 1
            if trial.state == optuna.trial.TrialState.FAIL:
                self.failures.append(trial.user_attrs["fail_reason"])
        finished, running = study_mod.budget_used(study)
        feasible_accs = [t.values[0] for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
                         if not study_mod.is_infeasible(t)]
        self.best_acc = max(feasible_accs) if feasible_accs else None
        if self.display is not None:
            self.display.update(min(finished, self.target), self.best_acc, self.rejected)
        # Other workers' RUNNING trials will finish too: stop when they would fill the budget.
        if finished + running >= self.target:
            study.stop()
        if self.rejected_in_a_row >= self.max_rejected:
            study.stop()
            if self.best_acc is None:
                raise BudgetError(
                    f"{self.rejected_in_a_row} candidates in a row violated the budget of study {study.study_name!r} "
                    f"and none so far fitted (closest: {closest_miss(study)}): the budget is too small for this "
                    f"search space; choose a larger constraints class or narrow the space"
                )
            log.warning("%d samples in a row were infeasible or trained before: stopping the search",
                        self.rejected_in_a_row)


def log_trial(trial: optuna.trial.FrozenTrial) -> None:
    """One line per trained, pruned or failed trial, printed above the progress display."""
    attrs = trial.user_attrs
    size = f"{attrs['memory_bytes'] / 1000:.1f} KB, {attrs['ops'] / 1e6:.2f} MOps" if "ops" in attrs else ""
    seconds = f" in {attrs['train_seconds']:.0f} s" if "train_seconds" in attrs else ""
    if study_mod.DUPLICATE_OF in attrs:
        log.info("trial %d: the candidate of trial %d again, not retrained", trial.number, attrs[study_mod.DUPLICATE_OF])
    elif trial.state == optuna.trial.TrialState.COMPLETE:
        log.info("trial %d: accuracy %.3f, %s%s", trial.number, trial.values[0], size, seconds)
    elif trial.state == optuna.trial.TrialState.PRUNED:
        log.info("trial %d: pruned at epoch %s (%s)", trial.number, attrs.get("pruned_at_epoch", "?"), size)
    elif trial.state == optuna.trial.TrialState.FAIL and "fail_reason" in attrs:
        log.warning("trial %d failed: %s (traceback: -v, or hydra/search.log)", trial.number, attrs["fail_reason"])


def closest_miss(study: optuna.Study) -> str:
    """The infeasible trial with the smallest total violation, as 'name +value' text."""
    trials = [t for t in study.get_trials(deepcopy=False) if t.constraints]
    if not trials:
        return "no trial recorded"
    best = min(trials, key=lambda t: sum(max(v, 0.0) for v in t.constraints.values()))
    return ", ".join(f"{k} {v:+g}" for k, v in best.constraints.items())


def run_search(cfg: DictConfig) -> SearchOutcome:
    """Run (or resume) the study described by ``cfg`` and write its results folder."""
    # Optuna's own warnings (a failed trial) go through the root logger: above the display, into the log file.
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    optuna.logging.disable_default_handler()
    optuna.logging.enable_propagation()
    with SearchConsole(cfg.progress, cfg.verbose, multirun_label(cfg)) as display:  # set-up lines show too
        return _run_study(cfg, display)


def multirun_label(cfg: DictConfig) -> str:
    """This job's place in a --multirun grid ('cell 3/21 ds_cnn small'), or '' for a single run."""
    import os

    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from nas.search.console import CELLS_ENV, cell_label

    if not HydraConfig.initialized() or HydraConfig.get().mode != RunMode.MULTIRUN:
        return ""
    cells = os.environ.get(CELLS_ENV, "")
    return cell_label(HydraConfig.get().job.num, int(cells) if cells.isdigit() else None, cfg.workers, cfg.worker,
                      _choice(cfg, "search_space"), _choice(cfg, "constraints"))


def _run_study(cfg: DictConfig, display: SearchConsole) -> SearchOutcome:
    from nas.report.study_report import study_verdicts, write_study_report

    preflight.check_config(cfg)
    retrain_conf = OmegaConf.to_object(cfg.retrain)  # its recipe is checked here, before any trial
    if cfg.retrain.enabled:
        check_retrain_conf(retrain_conf)
    parts = build_parts(cfg)  # the dataset is read here: a search that cannot work opens no study
    place = place_mod.place_for(cfg.study_name, cfg.results_dir, cfg.storage)
    place_mod.check_results_dir(place)  # before anything is written there
    if cfg.storage is None:
        place.results_dir.mkdir(parents=True, exist_ok=True)  # the SQLite file lives there
    storage = open_storage(place.storage_url, cfg.heartbeat_interval, cfg.grace_period, cfg.max_retry)
    place_mod.claim_results_dir(place)
    directions = study_mod.DIRECTIONS_OPS
    n_grid = len(parts.source.candidates) if isinstance(parts.source, ListSource) else 0
    definition = study_definition(cfg, parts.dataset_root)
    study = study_mod.open_study(place, None, directions, storage, definition)  # its sampler: seeded below
    study.sampler = study_mod.make_sampler(cfg.sampler, study_mod.sampler_seed(cfg.seed, study), n_grid)
    if isinstance(study.sampler, MutationSampler):  # it narrows children to Hello Edge's cost
        study.sampler.cost_of = costs_from_space(parts.space, parts.estimate, parts.budget)
    with warnings.catch_warnings():  # experimental since optuna 3.2; only labels the dashboard's axes
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.set_metric_names(study_mod.OBJECTIVE_NAMES_LATENCY if parts.probe else study_mod.OBJECTIVE_NAMES_OPS)
    study.set_user_attr("search_space", _choice(cfg, "search_space"))
    study.set_user_attr("constraints", _choice(cfg, "constraints"))
    study.set_user_attr("board", cfg.board.name)
    study.set_user_attr("dataset", parts.dataset)
    study.set_user_attr("dataset_root", parts.dataset_root)
    study.set_user_attr("split_test_archive", bool(cfg.data.split_test_archive))
    study.set_user_attr("accuracy_objective", "int8" if cfg.objective.accuracy == "int8" else "float")
    study.set_user_attr("limits", parts.budget.plot_limits())

    if cfg.enqueue_hello_edge and not n_grid:
        enqueue_hello_edge(study, parts.space, _choice(cfg, "constraints"))
    target = n_grid if n_grid else cfg.trials
    finished, _ = study_mod.budget_used(study)
    runner = TrialRunner(
        parts.source, parts.estimate, parts.budget, parts.features, parts.train_config,
        place.results_dir, parts.pruner, parts.probe, int8=cfg.objective.accuracy == "int8", measure=parts.measure,
    )
    monitor = SearchMonitor(target, cfg.max_rejected_in_a_row, display)
    try:
        if finished >= target:
            log.info("study %s already has %d of %d trials: nothing to run", place.name, finished, target)
        else:
            display.start(target, finished)
            study.optimize(runner, timeout=cfg.timeout, catch=(Exception,), callbacks=[monitor])
        display.stop()  # the retraining's lines go below it
        if cfg.retrain.enabled and n_grid == 0:
            retrain_when_done(study, parts.features, retrain_conf, target, place.results_dir)
    finally:
        display.stop()  # the report's own lines (a figure it could not render) go below it
        if parts.probe is not None:
            parts.probe.close()
        write_study_report(place.results_dir, study)
    return SearchOutcome(place.name, place.results_dir, study_mod.count_trials(study), monitor.ran, monitor.failures,
                         [v.describe() for v in study_verdicts(study)])


def retrain_when_done(study: optuna.Study, features: CachedFeatures, conf, target: int, results_dir: Path) -> None:
    """Retrain the study's candidates once it holds its ``target`` trials and none is running."""
    from nas.search.retrain import retrain_study

    finished, running = study_mod.budget_used(study)
    if finished < target or running:
        log.info("study %s holds %d of %d trials (%d running): retraining waits for the whole study "
                 "(rerun, or `kws-nas retrain %s` after)", study.study_name, finished, target, running,
                 results_dir)
        return
    retrain_study(study, features, conf, results_dir)


@dataclass(frozen=True)
class SearchParts:
    """Everything a TrialRunner needs, built (and validated) from the config before the first trial."""

    space: SearchSpace
    source: ListSource | SpaceSource  # grid specs, or samples of the space
    estimate: Callable  # nas.cost.estimate
    budget: Limits  # a budget class or a board profile
    train_config: TrainConfig
    features: CachedFeatures
    pruner: DominanceMedianPruner | None
    probe: LatencyProbe | None  # None: optimise ops instead of latency
    measure: MeasurePolicy  # which trained trials the probe measures
    dataset: str  # the dataset folder, with a note when it is generated speech
    dataset_root: str


def build_parts(cfg: DictConfig) -> SearchParts:
    """The search's parts from a composed config (bad values and datasets fail here, before any trial)."""
    from nas.data.frontend_config import FrontEndConfig

    space = instantiate_group(cfg.search_space, "search_space", _choice(cfg, "search_space"), SearchSpace,
                              "a nas.spaces.SearchSpace")
    budget = instantiate_group(cfg.constraints, "constraints", _choice(cfg, "constraints"), Limits,
                               "a nas.cost.budget.Budget or BoardProfile")
    estimate = latency_estimate(budget, cfg.board.probe.board if cfg.board.probe is not None else None)
    train_config = OmegaConf.to_object(cfg.train)  # the schema's TrainConfig: checked in its __post_init__
    train_config.torch_device()  # train.device=cuda without a GPU: one line now, not a failure per trial
    if cfg.sampler.name == "grid":
        source = ListSource(grid_candidates(space.arch, cfg.sampler.specs, _choice(cfg, "constraints")))
        first_frontend = source.candidates[0].frontend
    else:
        preflight.check_budget_reachable(space, budget, _choice(cfg, "search_space"), _choice(cfg, "constraints"),
                                         estimate)
        source = SpaceSource(space)
        first_frontend = FrontEndConfig(decimation=space.decimation)  # Hello Edge's: the enqueued first trial's
    probe = None
    if cfg.board.name != "none":
        if cfg.board.probe is None:
            raise ConfigError(f"board {cfg.board.name!r}: no probe configured (board.probe._target_)")
        from hydra.utils import instantiate

        probe = instantiate(cfg.board.probe)
    measure = measure_policy(cfg.board, estimate)
    pruner = DominanceMedianPruner(cfg.pruner.warmup_epochs, cfg.pruner.min_peers) if cfg.pruner.enabled else None
    root = dataset_root(cfg.data)
    if cfg.data.split_test_archive and cfg.data.kind != "folder":
        raise ConfigError("data.split_test_archive: only for data=folder (a folder in the official test-set "
                          "archive's layout); the generated dataset has its own split")
    features = CachedFeatures(root, cfg.data.augment_copies, cfg.seed, cfg.data.cache_dir, cfg.data.split_test_archive)
    features.check(first_frontend)
    dataset = f"{root}" + (" (generated speech: it ranks candidates but says little about accuracy on people)"
                           if cfg.data.kind == "synth" else
                           " (the test-set archive, split by speaker)" if cfg.data.split_test_archive else "")
    return SearchParts(space, source, estimate, budget, train_config, features, pruner, probe, measure, dataset,
                       str(root))


def measure_policy(board_conf, estimate: Callable) -> MeasurePolicy:
    """``board.measure`` and its sample; trusting predictions needs a board and its latency model."""
    policy = MeasurePolicy(MeasureMode(board_conf.measure), board_conf.sample_fraction, board_conf.sample_seed)
    if policy.trusts_predictions and (board_conf.name == "none" or estimate.keywords.get("latency") is None):
        why = "no board is configured" if board_conf.name == "none" else f"board {board_conf.probe.board} has no latency model"
        raise ConfigError(f"board.measure={policy.mode.value}: the trials not measured take the predicted latency, "
                          f"but {why} (kws-nas board calibrate --board NAME)")
    return policy


def latency_estimate(budget: Limits, board: str | None) -> Callable:
    """``nas.cost.estimate`` with the predicted latency of the board the study targets (the profile it
    is constrained by, else the board that measures it), when that board has a latency model: its
    ``max_latency_ms`` then rejects candidates before training. A limit without a model is refused."""
    from nas.cost import estimate, latency
    from nas.cost.budget import BoardProfile, load_board

    profile = budget if isinstance(budget, BoardProfile) else load_board(board) if board else None
    predictor = latency.for_board(profile) if profile is not None else None
    if getattr(budget, "max_latency_ms", None) is not None and predictor is None:
        where = f"board {profile.name} has no latency model" if profile else "no board is configured"
        raise ConfigError(f"constraints {budget.name}: max_latency_ms needs a predicted latency, but {where} "
                          "(kws-nas board calibrate --board NAME; or board=mps2_an500)")
    return functools.partial(estimate, latency=predictor)


def enqueue_hello_edge(study: optuna.Study, space, budget_class: str) -> None:
    """Queue Hello Edge's published model of this architecture and class as a trial (once).

    It gives the sampler a known-good point from the start and puts the paper's model, trained on
    our data, on the same front as the searched ones.
    """
    from nas.spaces import hello_edge_candidates

    for published, candidate in hello_edge_candidates(space.arch):
        if published.budget == budget_class and space.contains(candidate):
            study.enqueue_trial(space.to_params(candidate), user_attrs={"hello_edge": budget_class}, skip_if_exists=True)


def grid_candidates(arch: str, specs, constraints: str) -> list:
    """The grid sampler's candidates: ``specs`` (model_size_info lists, or dicts with
    ``model_size_info`` and optional ``frontend``), or Hello Edge's published points of ``arch`` for
    the study's class ``constraints`` (all three classes under a board profile, which has no class)."""
    from nas.data.frontend_config import FrontEndConfig
    from nas.spaces import candidate_from_model_size_info, hello_edge_candidates

    if specs is None:
        published = hello_edge_candidates(arch)
        of_class = [candidate for model, candidate in published if model.budget == constraints]
        return of_class or [candidate for _, candidate in published]
    candidates = []
    for i, spec in enumerate(OmegaConf.to_container(specs, resolve=True) if not isinstance(specs, list) else specs):
        if isinstance(spec, dict):
            frontend = FrontEndConfig.from_dict(spec.get("frontend", {}))
            candidates.append(candidate_from_model_size_info(arch, spec["model_size_info"], frontend))
        elif isinstance(spec, list):
            candidates.append(candidate_from_model_size_info(arch, spec))
        else:
            raise ConfigError(f"sampler.specs[{i}]: expected a model_size_info list, got {spec!r}")
    if not candidates:
        raise ConfigError("sampler.specs: the grid is empty")
    return candidates


def instantiate_group(node: DictConfig, group: str, name: str, expected: type, what: str):
    """The object the composed config group ``group`` (member ``name``) builds with its ``_target_``.

    ConfigError naming ``group=name`` when it cannot be built or builds something other than ``expected``.
    """
    from hydra.errors import InstantiationException
    from hydra.utils import instantiate

    try:
        built = instantiate(node, _convert_="all")
    except InstantiationException as err:
        cause = err.__cause__ if isinstance(err.__cause__, ConfigError) else err
        raise ConfigError(f"{group}={name}: {cause}") from None
    if not isinstance(built, expected):
        raise ConfigError(f"{group}={name}: _target_ must build {what}, got {type(built).__name__}")
    return built


def _choice(cfg: DictConfig, group: str) -> str:
    """The selected member of a config group (e.g. 'ds_cnn'), from Hydra's runtime choices."""
    from hydra.core.hydra_config import HydraConfig

    if HydraConfig.initialized():
        return HydraConfig.get().runtime.choices[group]
    raise ConfigError(f"{group}: composed without Hydra's runtime choices")
