"""Final retraining: the screened study's best candidates and Hello Edge's configuration, S seeds each.

The search ranks each candidate by one short, noisy training run. Here the candidates that matter are
trained again with the full recipe (``retrain.train``) and seeds 0..S-1, the same data, recipe and seeds
for every candidate, Hello Edge's configuration included, so the final choice and the comparison with
the hand-designed model rest on means over seeds (``nas.results.retrain``, ``nas.results.dominance``).

Which candidates (``select_sources``): the study's trial with the ``hello_edge`` attribute; the ``top_k``
trials of the feasible Pareto front by screening accuracy; and the ``top_k`` trained trials by screening
accuracy among those at most Hello Edge's memory and ops, the ones that can dominate it. Duplicates once.

Storage: a second study ``<study>.retrain`` beside the search's, with one trial per (source trial, seed).
Runs are enqueued as WAITING trials and claimed one at a time by any worker (the storage's own
WAITING → RUNNING transition, as Optuna's ``ask`` does it), each with a heartbeat, so several workers
share the work and a killed one loses only its run in progress: a rerun first fails and re-enqueues the
RUNNING runs of dead workers (``nas.search.study``), then enqueues what is still missing, then runs.
Two workers enqueueing at the same moment may both add a run; the reader counts it once.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.trial import FrozenTrial, TrialState

from nas.errors import ConfigError
from nas.results.retrain import retrain_name
from nas.search import study as study_mod
from nas.search.identity import DEFINITION_ATTR, defining_train_settings, differences
from nas.search.study import WORKER

log = logging.getLogger("nas.search")

UNFINISHED_OR_DONE = (TrialState.COMPLETE, TrialState.WAITING, TrialState.RUNNING)


@dataclass(frozen=True)
class RetrainOutcome:
    study_name: str
    sources: list[int]  # source trial numbers retrained
    seeds: int
    ran: int  # runs this worker trained
    failures: list[str]  # their fail reasons, for those that failed


def check_conf(conf) -> None:
    """ConfigError for a RetrainConf that cannot run (a loop needs at least one candidate and one seed)."""
    if conf.top_k < 1 or conf.seeds < 1:
        raise ConfigError(f"retrain: need top_k >= 1 and seeds >= 1; got top_k={conf.top_k}, seeds={conf.seeds}")


def select_sources(study: optuna.Study, top_k: int) -> list[FrozenTrial]:
    """The screened trials to retrain (module docstring), Hello Edge's first, then by screening accuracy."""
    trained = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
               if not study_mod.is_infeasible(t) and "candidate" in t.user_attrs and t.values]
    ranked = sorted(trained, key=lambda t: (-t.values[0], t.values[1], t.number))
    hello = [t for t in ranked if "hello_edge" in t.user_attrs][:1]
    searched = [t for t in ranked if "hello_edge" not in t.user_attrs]
    front = {t.number for t in study.best_trials}
    chosen = [t for t in searched if t.number in front][:top_k]
    if hello:
        chosen += [t for t in searched if _at_most(t, hello[0])][:top_k]
    unique = {t.number: t for t in chosen}
    return hello + sorted(unique.values(), key=lambda t: (-t.values[0], t.values[1], t.number))


def _at_most(trial: FrozenTrial, reference: FrozenTrial) -> bool:
    """At most ``reference``'s memory and ops (or latency): the objectives 2 and 3 of the study."""
    return trial.values[1] <= reference.values[1] and trial.values[2] <= reference.values[2]


def recipe_definition(recipe) -> dict:
    """The recipe settings that define the retraining study's numbers (as ``nas.search.identity``)."""
    return {"train": defining_train_settings(json.loads(json.dumps(recipe.to_dict())))}


def open_retrain_study(study: optuna.Study, recipe) -> optuna.Study:
    """Create or resume ``<study>.retrain`` in ``study``'s storage; dead workers' runs are retried first.

    Raises:
        ConfigError: it was made with another recipe (its runs would not compare with this one's).
    """
    retrain = optuna.create_study(study_name=retrain_name(study.study_name), storage=study._storage,
                                  direction="maximize", load_if_exists=True)
    definition = recipe_definition(recipe)
    stored = retrain.user_attrs.get(DEFINITION_ATTR)
    if stored is None:
        retrain.set_user_attr(DEFINITION_ATTR, definition)
        retrain.set_user_attr("source_study", study.study_name)
    elif diffs := differences(stored, definition):
        raise ConfigError(
            f"study {retrain.study_name!r} was retrained with another recipe, so its runs would not compare with "
            f"this one's: {'; '.join(diffs)}. Pass the stored settings (e.g. retrain.train.epochs=...) to add runs, "
            f"or delete it to start over (optuna delete-study --study-name {retrain.study_name} --storage URL)")
    study_mod.retry_trials_of_dead_local_workers(retrain)
    with warnings.catch_warnings():  # other hosts' runs whose heartbeat stopped: failed and re-enqueued
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(retrain)
    return retrain


def enqueue_missing(retrain: optuna.Study, sources: list[FrozenTrial], seeds: int, budget_class: str) -> int:
    """Enqueue each (source, seed) run that is neither done nor waiting nor running; how many were added."""
    present = {(t.user_attrs.get("source_trial"), t.user_attrs.get("seed"))
               for t in retrain.get_trials(deepcopy=False, states=UNFINISHED_OR_DONE)}
    added = 0
    for source in sources:
        a = source.user_attrs
        for seed in range(seeds):
            if (source.number, seed) in present:
                continue
            retrain.enqueue_trial({}, user_attrs={
                "source_trial": source.number, "seed": seed, "hello_edge": "hello_edge" in a,
                "candidate": a["candidate"], "arch": a.get("arch", ""), "budget_class": budget_class,
                "screening_accuracy": source.values[0], "memory_bytes": a.get("memory_bytes", source.values[1]),
                "ops": a.get("ops"), **({"latency_ms": a["latency_ms"]} if "latency_ms" in a else {}),
            })
            added += 1
    return added


def claim_next(retrain: optuna.Study) -> optuna.Trial | None:
    """A WAITING run moved to RUNNING for this worker, or None when no run is waiting."""
    storage = retrain._storage
    for waiting in retrain.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
        try:
            if storage.set_trial_state_values(waiting._trial_id, state=TrialState.RUNNING):
                trial = optuna.Trial(retrain, waiting._trial_id)
                trial.set_user_attr("worker", WORKER)  # a dead worker's run is found by this
                return trial
        except UpdateFinishedTrialError:  # another worker claimed and finished it meanwhile
            continue
    return None


class RunTrainer:
    """Trains one retraining run: the source's candidate with the recipe and the run's seed; its weights
    go to ``<results_dir>/retrain/<source trial>/seed<seed>/model.pt`` (the chosen model's for export).

    Args:
        features: feature sets per front end (``nas.search.features.CachedFeatures``).
        recipe: the ``nas.train.TrainConfig`` every run uses (its seed is replaced by the run's).
        results_dir: the study's folder.
    """

    def __init__(self, features, recipe, results_dir: Path):
        self.features, self.recipe, self.results_dir = features, recipe, Path(results_dir)

    def __call__(self, trial: optuna.Trial) -> float:
        from nas.spaces import Candidate, build_model
        from nas.train import evaluate, save_checkpoint, train

        a = trial.user_attrs
        candidate = Candidate.from_dict(a["candidate"])
        config = dataclasses.replace(self.recipe, seed=int(a["seed"]))
        trial.set_user_attr("recipe", config.to_dict())
        train_set = self.features.split(candidate.frontend, "train")
        val_set = self.features.split(candidate.frontend, "validation")
        started = time.perf_counter()
        model = build_model(candidate)
        result = train(model, train_set, val_set, config)  # the model ends holding its best epoch's weights
        trial.set_user_attr("train_seconds", time.perf_counter() - started)
        trial.set_user_attr("epochs", len(result.history))
        trial.set_user_attr("best_epoch", int(result.best_epoch))
        if result.fallback:
            trial.set_user_attr("precision_fallback", result.fallback)
        test_acc = float(evaluate(model, self.features.split(candidate.frontend, "test"))["accuracy"])
        trial.set_user_attr("test_acc", test_acc)
        checkpoint = self.results_dir / "retrain" / str(a["source_trial"]) / f"seed{a['seed']}" / "model.pt"
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        save_checkpoint(checkpoint, model, candidate.to_dict(), {  # atomic: temp file + rename
            "trial": a["source_trial"], "seed": a["seed"], "val_acc": result.best_val_acc, "test_acc": test_acc})
        trial.set_user_attr("checkpoint", str(checkpoint.relative_to(self.results_dir)))
        return float(result.best_val_acc)


def run_waiting(retrain: optuna.Study, run: RunTrainer) -> tuple[int, list[str]]:
    """Claim and train WAITING runs until none is left; (runs trained, fail reasons of those that failed)."""
    from optuna.storages._heartbeat import get_heartbeat_thread  # what study.optimize wraps each trial in

    ran, failures = 0, []
    while (trial := claim_next(retrain)) is not None:
        a = trial.user_attrs
        with get_heartbeat_thread(trial._trial_id, retrain._storage):
            try:
                value = run(trial)
            except Exception as err:  # one bad run does not stop the others; KeyboardInterrupt does
                reason = f"{type(err).__name__}: {err}"[:2000]
                trial.set_user_attr("fail_reason", reason)
                retrain.tell(trial, state=TrialState.FAIL)
                failures.append(reason)
                log.warning("retrain trial %d seed %d failed: %s", a["source_trial"], a["seed"], reason)
            else:
                retrain.tell(trial, value)
                log.info("retrain trial %d seed %d%s: accuracy %.3f (test %.3f) in %.0f s", a["source_trial"],
                         a["seed"], " (Hello Edge)" if a.get("hello_edge") else "", value,
                         trial.user_attrs["test_acc"], trial.user_attrs["train_seconds"])
        ran += 1
    return ran, failures


def retrain_study(study: optuna.Study, features, conf, results_dir: Path) -> RetrainOutcome:
    """Retrain ``study``'s candidates (``conf``: a RetrainConf) with the missing (candidate, seed) runs;
    ``results_dir``: the study's folder (checkpoints go under ``retrain/``)."""
    check_conf(conf)
    recipe = conf.train
    sources = select_sources(study, conf.top_k)
    if not sources:
        log.warning("study %s has no trained feasible trial: nothing to retrain", study.study_name)
        return RetrainOutcome(study.study_name, [], conf.seeds, 0, [])
    if "hello_edge" not in sources[0].user_attrs:
        log.warning("study %s has no trained Hello Edge trial: its candidates are retrained without the "
                    "comparison", study.study_name)
    retrain = open_retrain_study(study, recipe)
    enqueue_missing(retrain, sources, conf.seeds, study.user_attrs.get("constraints", ""))
    waiting = len(retrain.get_trials(deepcopy=False, states=(TrialState.WAITING,)))
    length = f"{recipe.steps} steps" if recipe.steps is not None else f"{recipe.epochs} epochs"
    log.info("retraining %d candidates of %s × %d seeds, %s each: %d runs to do",
             len(sources), study.study_name, conf.seeds, length, waiting)
    ran, failures = run_waiting(retrain, RunTrainer(features, recipe, results_dir))
    return RetrainOutcome(study.study_name, [t.number for t in sources], conf.seeds, ran, failures)
