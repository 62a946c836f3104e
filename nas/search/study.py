"""The Optuna study of one search: its sampler, creating or resuming it, and counting its trial budget.

Where a study lives (results folder, ``study.json`` marker, storage URL) and how its storage opens are
read and written by ``nas.results``; the loop reaches them through this module's imports.
"""
from __future__ import annotations

import copy
import logging
import os
import socket
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.storages import RDBStorage
from optuna.trial import FrozenTrial, TrialState

from nas.errors import ConfigError
from nas.results.place import StudyPlace, redact
from nas.results.storage import open_storage
from nas.search.identity import check_definition

log = logging.getLogger("nas.search")

DUPLICATE_OF = "duplicate_of"  # user attribute: the trial whose candidate this one repeats, not retrained
HOST = socket.gethostname()
WORKER = f"{HOST}:{os.getpid()}"  # which process runs a trial (the ``worker`` user attribute)

DIRECTIONS_OPS = ["maximize", "minimize", "minimize"]  # accuracy, memory, ops (or latency)
OBJECTIVE_NAMES_OPS = ["accuracy", "memory_bytes", "ops"]
OBJECTIVE_NAMES_LATENCY = ["accuracy", "memory_bytes", "latency_ms"]


def open_study(
    place: StudyPlace,
    sampler: optuna.samplers.BaseSampler | None,
    directions: list[str],
    storage: RDBStorage | None = None,
    definition: dict | None = None,
) -> optuna.Study:
    """Create the study, or load it to resume; RUNNING trials of dead workers are failed and retried first.

    ``definition`` (``nas.search.identity.study_definition``): a resumed study must have been made with
    the same one (ConfigError naming each difference); None skips the check.
    """
    storage = storage or open_storage(place.storage_url)
    study = optuna.create_study(
        study_name=place.name, storage=storage, sampler=sampler, directions=directions, load_if_exists=True
    )
    if [d.name.lower() for d in study.directions] != directions:
        raise ConfigError(
            f"study {place.name!r} in {redact(place.storage_url)} optimises "
            f"{[d.name.lower() for d in study.directions]}, not {directions}: was it made with another board?"
        )
    if definition is not None:
        check_definition(study, definition)
    retry_trials_of_dead_local_workers(study)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
    return study


def retry_trials_of_dead_local_workers(study: optuna.Study) -> None:
    """Fail and retry now the RUNNING trials whose worker ran on this host and is gone.

    The heartbeat would find them only after its grace period; until then a rerun counts them as
    running and stops short. Trials of other hosts are left to the heartbeat: their pids mean nothing
    here. A retry is what the heartbeat's ``RetryHeartbeatStaleTrialCallback`` makes: a WAITING trial
    with the same parameters, run before any new proposal.
    """
    storage = study._storage  # Optuna's cached wrapper of the RDBStorage, as in ``fail_stale_trials``
    retry = getattr(storage, "get_heartbeat_stale_trial_callback", lambda: None)()  # None: heartbeats off
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        host, _, pid = str(trial.user_attrs.get("worker", "")).rpartition(":")
        if host != HOST or not pid.isdigit() or _alive(int(pid)):
            continue
        try:
            if not storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL):
                continue
        except UpdateFinishedTrialError:  # another worker on this host failed it first
            continue
        log.warning("trial %d: its worker %s is gone; it is failed and retried now", trial.number,
                    trial.user_attrs["worker"])
        if retry is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                retry(study, copy.deepcopy(storage.get_trial(trial._trial_id)))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only checks that the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    if not Path("/proc").is_dir():  # no /proc (macOS): signal 0 is all there is to know
        return True
    try:  # a killed worker its parent has not reaped yet still answers signal 0: a zombie is dead
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:  # it exited just now
        return False


def sampler_seed(seed: int, study: optuna.Study) -> int:
    """The seed of this run's sampler: ``seed`` offset by the trials the study already holds.

    A seeded sampler restarts its sequence in every process, so a resumed run would propose the
    first run's candidates again (trained twice); the offset keeps a rerun reproducible.
    """
    return seed + len(study.get_trials(deepcopy=False))


# --- counting trials --------------------------------------------------------------------------------

def is_infeasible(trial: FrozenTrial) -> bool:
    return any(v > 0 for v in trial.constraints.values())


def counts_toward_budget(trial: FrozenTrial) -> bool:
    """Whether a finished trial used one of the ``trials`` the user asked for.

    Feasible trials that finished (complete, pruned, or failed in the objective) count; infeasible
    samples cost milliseconds and do not, nor does a proposal of a candidate trained before (it reports
    that trial's results); a trial failed by heartbeat (its worker died) does not either, because its
    retry will run it again.
    """
    if trial.state in (TrialState.COMPLETE, TrialState.PRUNED):
        return not is_infeasible(trial) and DUPLICATE_OF not in trial.user_attrs
    return trial.state == TrialState.FAIL and "fail_reason" in trial.user_attrs


def budget_used(study: optuna.Study) -> tuple[int, int]:
    """(finished trials that count, trials RUNNING now) of the study, across all workers."""
    trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL, TrialState.RUNNING))
    finished = sum(counts_toward_budget(t) for t in trials)
    running = sum(t.state == TrialState.RUNNING for t in trials)
    return finished, running


@dataclass(frozen=True)
class TrialCounts:
    """What a study holds, by outcome, across all workers (read from the storage)."""

    trained: int  # feasible, trained to the end
    pruned: int  # feasible, stopped early as weak
    failed: int  # feasible, failed in the objective (``fail_reason``); a dead worker's trial is not counted
    infeasible: int  # over the budget, never trained
    duplicates: int  # proposals of a candidate trained before, not trained again

    def describe(self) -> str:
        repeated = f", {self.duplicates} repeated proposals not retrained" if self.duplicates else ""
        return (f"{self.trained} trials trained, {self.pruned} pruned, {self.failed} failed, "
                f"{self.infeasible} infeasible samples rejected{repeated}")


def count_trials(study: optuna.Study) -> TrialCounts:
    trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL))
    return TrialCounts(
        trained=sum(t.state == TrialState.COMPLETE and not is_infeasible(t) and DUPLICATE_OF not in t.user_attrs
                    for t in trials),
        pruned=sum(t.state == TrialState.PRUNED and not is_infeasible(t) for t in trials),
        failed=sum(t.state == TrialState.FAIL and "fail_reason" in t.user_attrs for t in trials),
        infeasible=sum(t.state == TrialState.COMPLETE and is_infeasible(t) for t in trials),
        duplicates=sum(DUPLICATE_OF in t.user_attrs for t in trials),
    )


# --- samplers ---------------------------------------------------------------------------------------

GRID_PARAM = "grid_index"


def _tpe(conf, seed: int, n_grid: int) -> optuna.samplers.BaseSampler:
    # constant_liar: workers sharing a study avoid proposing the same point while others run.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(
            seed=seed, n_startup_trials=conf.n_startup_trials, multivariate=True, group=True, constant_liar=True
        )


def _nsga2(conf, seed: int, n_grid: int) -> optuna.samplers.BaseSampler:
    return optuna.samplers.NSGAIISampler(seed=seed, population_size=conf.population_size)


def _random(conf, seed: int, n_grid: int) -> optuna.samplers.BaseSampler:
    return optuna.samplers.RandomSampler(seed=seed)


def _mutation(conf, seed: int, n_grid: int) -> optuna.samplers.BaseSampler:
    from nas.search.mutation import MutationSampler  # it reads trials through this module's helpers

    return MutationSampler(seed=seed, n_startup_trials=conf.n_startup_trials)


def _grid(conf, seed: int, n_grid: int) -> optuna.samplers.BaseSampler:
    # One categorical index over the spec list: GridSampler hands each index out once, also across
    # workers, and stops the study when all are done.
    return optuna.samplers.GridSampler({GRID_PARAM: list(range(n_grid))}, seed=seed)


SAMPLERS: dict[str, Callable] = {"tpe": _tpe, "nsga2": _nsga2, "random": _random, "grid": _grid,
                                 "mutation": _mutation}


def make_sampler(conf, seed: int, n_grid: int = 0) -> optuna.samplers.BaseSampler:
    """The sampler named by ``conf.name`` (a SamplerConf); ``n_grid``: number of specs for ``grid``."""
    if conf.name not in SAMPLERS:
        raise ConfigError(f"sampler.name: expected one of {sorted(SAMPLERS)}, got {conf.name!r}")
    return SAMPLERS[conf.name](conf, seed, n_grid)
