"""Final retraining: the screened study's best candidates and Hello Edge's configuration, S seeds each.

The search ranks each candidate by one short, noisy training run. Here the candidates that matter are
trained again with the full recipe (``retrain.train``) and seeds 0..S-1, the same data, recipe and seeds
for every candidate, Hello Edge's configuration included, so the final choice and the comparison with
the hand-designed model rest on means over seeds (``nas.results.retrain``, ``nas.results.dominance``).

Which candidates (``ranked_sources``, ``retrain_study``): the study's trial with the ``hello_edge`` attribute; the ``top_k``
trials of the feasible Pareto front by screening accuracy; and ``top_k`` trained trials among those at most
Hello Edge's memory and ops, the ones that can dominate it. Duplicates once. Those cheaper ones are not
taken on screening accuracy alone, whose winner is mostly the luckiest short run: the ``shortlist`` best
screened each get one run at seed ``seeds`` first (a shortlist run; the comparison uses seeds
0..seeds-1 only, so the run that chose a candidate never counts in its mean), and the ``top_k`` best of
those runs get every seed.

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
from nas.results.retrain import (COMPARED_STAGE, DISTILLED_STAGE, SHORTLIST_STAGE, candidates_frame, final_choice,
                                 finished_runs, retrain_name, runs_frame)
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
    if conf.top_k < 1 or conf.seeds < 1 or conf.shortlist < 0:
        raise ConfigError(f"retrain: need top_k >= 1, seeds >= 1 and shortlist >= 0; got top_k={conf.top_k}, "
                          f"seeds={conf.seeds}, shortlist={conf.shortlist}")


def ranked_sources(study: optuna.Study) -> tuple[list[FrozenTrial], list[FrozenTrial], list[FrozenTrial]]:
    """(Hello Edge's trial or nothing, the searched front, the searched trials at most Hello Edge's cost),
    each ranked by screening accuracy."""
    trained = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
               if not study_mod.is_infeasible(t) and "candidate" in t.user_attrs and t.values
               and study_mod.DUPLICATE_OF not in t.user_attrs]  # a repeat is its earlier trial's candidate
    ranked = sorted(trained, key=lambda t: (-t.values[0], t.values[1], t.number))
    hello = [t for t in ranked if "hello_edge" in t.user_attrs][:1]
    searched = [t for t in ranked if "hello_edge" not in t.user_attrs]
    front = {t.number for t in study.best_trials}
    cheaper = [t for t in searched if _at_most(t, hello[0])] if hello else []
    return hello, [t for t in searched if t.number in front], cheaper


def _hello_first(hello: list[FrozenTrial], chosen: list[FrozenTrial]) -> list[FrozenTrial]:
    unique = {t.number: t for t in chosen if t.number not in {h.number for h in hello}}
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


def enqueue_missing(retrain: optuna.Study, sources: list[FrozenTrial], seeds, budget_class: str,
                    stage: str = COMPARED_STAGE, extra: dict | None = None) -> int:
    """Enqueue each (source, seed) run that is neither done nor waiting nor running (``seeds``: a count,
    0..seeds-1, or the seeds themselves; ``extra``: more user attributes of each run); how many were added."""
    extra = extra or {}

    def key(attrs: dict) -> tuple:  # a run with other extra attributes (another teacher set) is another run
        return (attrs.get("source_trial"), attrs.get("seed"), attrs.get("stage", COMPARED_STAGE),
                json.dumps([attrs.get(k) for k in sorted(extra)]))

    present = {key(t.user_attrs) for t in retrain.get_trials(deepcopy=False, states=UNFINISHED_OR_DONE)}
    added = 0
    for source in sources:
        a = source.user_attrs
        for seed in range(seeds) if isinstance(seeds, int) else seeds:
            if key({"source_trial": source.number, "seed": seed, "stage": stage, **extra}) in present:
                continue
            retrain.enqueue_trial({}, user_attrs={
                "source_trial": source.number, "seed": seed, "hello_edge": "hello_edge" in a, "stage": stage,
                "candidate": a["candidate"], "arch": a.get("arch", ""), "budget_class": budget_class,
                "screening_accuracy": source.values[0], "memory_bytes": a.get("memory_bytes", source.values[1]),
                "ops": a.get("ops"), **({"latency_ms": a["latency_ms"]} if "latency_ms" in a else {}),
                **extra,
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
    go to ``<results_dir>/retrain/<source trial>/seed<seed>/model.pt``. A run of DISTILLED_STAGE learns
    from the ensemble of the checkpoints its ``teachers`` attribute names (relative to ``results_dir``,
    at the recipe's ``distill_alpha`` and ``distill_temperature``) and goes to ``.../distilled/model.pt``.

    Args:
        features: feature sets per front end (``nas.search.features.CachedFeatures``).
        recipe: the ``nas.train.TrainConfig`` every run uses (its seed is replaced by the run's).
        results_dir: the study's folder.
    """

    def __init__(self, features, recipe, results_dir: Path):
        self.features, self.recipe, self.results_dir = features, recipe, Path(results_dir)

    def __call__(self, trial: optuna.Trial) -> float:
        from nas.spaces import Candidate, build_model
        from nas.train import Ensemble, evaluate, load_checkpoint, save_checkpoint, train

        a = trial.user_attrs
        teacher = Ensemble([load_checkpoint(self.results_dir / path)[0] for path in a["teachers"]]) \
            if a.get("stage") == DISTILLED_STAGE else None
        candidate = Candidate.from_dict(a["candidate"])
        config = dataclasses.replace(self.recipe, seed=int(a["seed"]))
        trial.set_user_attr("recipe", config.to_dict())
        train_set = self.features.split(candidate.frontend, "train")
        val_set = self.features.split(candidate.frontend, "validation")
        started = time.perf_counter()
        model = build_model(candidate, seed=config.seed)
        result = train(model, train_set, val_set, config, teacher=teacher)  # ends holding its best epoch's weights
        trial.set_user_attr("train_seconds", time.perf_counter() - started)
        trial.set_user_attr("epochs", len(result.history))
        trial.set_user_attr("best_epoch", int(result.best_epoch))
        if result.fallback:
            trial.set_user_attr("precision_fallback", result.fallback)
        test_acc = float(evaluate(model, self.features.split(candidate.frontend, "test"))["accuracy"])
        trial.set_user_attr("test_acc", test_acc)
        run_folder = "distilled" if teacher is not None else f"seed{a['seed']}"
        checkpoint = self.results_dir / "retrain" / str(a["source_trial"]) / run_folder / "model.pt"
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
                log.info("retrain trial %d %s%s: accuracy %.3f (test %.3f) in %.0f s", a["source_trial"],
                         "distilled" if a.get("stage") == DISTILLED_STAGE else f"seed {a['seed']}",
                         " (Hello Edge)" if a.get("hello_edge") else "", value,
                         trial.user_attrs["test_acc"], trial.user_attrs["train_seconds"])
        ran += 1
    return ran, failures


def retrain_study(study: optuna.Study, features, conf, results_dir: Path) -> RetrainOutcome:
    """Retrain ``study``'s candidates (``conf``: a RetrainConf) with the missing (candidate, seed) runs;
    ``results_dir``: the study's folder (checkpoints go under ``retrain/``)."""
    check_conf(conf)
    recipe = conf.train
    hello, front, cheaper = ranked_sources(study)
    if not hello and not front:
        log.warning("study %s has no trained feasible trial: nothing to retrain", study.study_name)
        return RetrainOutcome(study.study_name, [], conf.seeds, 0, [])
    if not hello:
        log.warning("study %s has no trained Hello Edge trial: its candidates are retrained without the "
                    "comparison", study.study_name)
    retrain = open_retrain_study(study, recipe)
    budget_class = study.user_attrs.get("constraints", "")
    run = RunTrainer(features, recipe, results_dir)
    ran, failures = 0, []
    shortlist = cheaper[:conf.shortlist] if conf.shortlist > conf.top_k else []
    if shortlist:
        enqueue_missing(retrain, shortlist, [conf.seeds], budget_class, SHORTLIST_STAGE)
        log.info("shortlist of %s: trials %s, the best screened at most Hello Edge's cost, one run each at "
                 "seed %d", study.study_name, ", ".join(str(t.number) for t in shortlist), conf.seeds)
        ran, failures = run_waiting(retrain, run)
        _wait_for_others(retrain, SHORTLIST_STAGE)
        cheaper = shortlisted(retrain, shortlist, conf.seeds)
    sources = _hello_first(hello, front[:conf.top_k] + cheaper[:conf.top_k])
    enqueue_missing(retrain, sources, conf.seeds, budget_class)
    waiting = len(retrain.get_trials(deepcopy=False, states=(TrialState.WAITING,)))
    length = f"{recipe.steps} steps" if recipe.steps is not None else f"{recipe.epochs} epochs"
    log.info("retraining %d candidates of %s × %d seeds, %s each: %d runs to do",
             len(sources), study.study_name, conf.seeds, length, waiting)
    more, more_failures = run_waiting(retrain, run)
    ran, failures = ran + more, failures + more_failures
    if conf.distill:
        more, more_failures = distil_choice(study, retrain, run, budget_class)
        ran, failures = ran + more, failures + more_failures
    return RetrainOutcome(study.study_name, [t.number for t in sources], conf.seeds, ran, failures)


def distil_choice(study: optuna.Study, retrain: optuna.Study, run: RunTrainer, budget_class: str) -> tuple[int, list[str]]:
    """Once every worker's compared runs have finished: one student of the chosen candidate (the best
    validation mean, as best.json chooses) distilled from the ensemble of its seeds' models, at seed 0.

    Trained on generated speech, a candidate's seeds disagree on people, and their averaged probabilities
    are right more often than any of them; the student keeps most of that gain in one model the board
    can run (``benchmarks/bench_real_speech.py``), so it is exported when it validates at least as well
    as the best seed (``candidates_frame``). (runs trained, fail reasons)
    """
    _wait_for_others(retrain, COMPARED_STAGE)
    runs = runs_frame(retrain, study.study_name, budget_class)
    choice = next(iter(final_choice(candidates_frame(runs)).values()), None)
    if choice is None:
        return 0, []
    seeds = finished_runs(runs)
    seeds = seeds[seeds["source_trial"] == choice["source_trial"]].sort_values("seed", kind="stable")
    if len(seeds) < 2:
        log.info("trial %d has one finished seed: no ensemble to distil from", choice["source_trial"])
        return 0, []
    source = next(t for t in study.get_trials(deepcopy=False) if t.number == int(choice["source_trial"]))
    enqueue_missing(retrain, [source], [0], budget_class, DISTILLED_STAGE, {"teachers": list(seeds["checkpoint"])})
    log.info("distilling trial %d from the ensemble of its %d seeds (exported if it validates at least as well as "
             "the best seed)", source.number, len(seeds))
    return run_waiting(retrain, run)


def _wait_for_others(retrain: optuna.Study, stage: str, poll_seconds: float = 5.0) -> None:
    """Return once no run of ``stage`` is running on another worker (a dead one's is failed when its
    heartbeat goes stale), so every worker chooses from the same finished runs."""
    while any(t.user_attrs.get("stage") == stage for t in retrain.get_trials(deepcopy=False, states=(TrialState.RUNNING,))):
        time.sleep(poll_seconds)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(retrain)


def shortlisted(retrain: optuna.Study, shortlist: list[FrozenTrial], seed: int) -> list[FrozenTrial]:
    """``shortlist`` ranked by their shortlist runs' validation accuracy (then screening accuracy); a
    candidate whose run failed goes last."""
    runs = {t.user_attrs["source_trial"]: t.value
            for t in retrain.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if t.user_attrs.get("seed") == seed and t.user_attrs.get("stage") == SHORTLIST_STAGE}
    return sorted(shortlist, key=lambda t: (-runs.get(t.number, -1.0), -t.values[0], t.number))
