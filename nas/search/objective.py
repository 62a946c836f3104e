"""One trial of the search as an explicit state machine.

    SAMPLE → COST → CONSTRAIN ─ infeasible → (record costs, never train) → DONE
                              ├ trained before → (copy that trial's results, ``duplicate_of``) → DONE
                              └ feasible → FEATURES → TRAIN → TEST → [INT8] → MEASURE → ARTIFACTS → DONE

The trained model is converted to a full-int8 .tflite once, in memory, when anything needs it
(`nas.search.int8_stage.convert_trial`): INT8 runs with ``objective.accuracy=int8`` and makes that
model's TFLite Micro accuracy the objective; MEASURE (a configured board) times the same bytes.

Like ``optuna.study._optimize._run_trial``, outcomes are states: ``optuna.TrialPruned`` from the
per-epoch check → PRUNED; any other exception → FAIL with ``fail_reason`` = "<stage>: <error>" stored on
the trial (``study.optimize(catch=(Exception,))`` then goes on with the next trial). The stage reached
is stored as ``stage`` while the trial runs, so a trial killed with its worker says where it died.

Everything a report needs is stored on the trial (user attributes), so the storage alone rebuilds every
table; files under ``<results>/trials/<number>/`` (``model.pt``, ``history.json``) are written atomically.
"""
from __future__ import annotations

import logging
import math
import time
from enum import Enum
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

import optuna

from nas.atomic import write_json_atomic
from nas.cost.budget import Limits
from nas.search.measure_policy import LATENCY_SOURCE, MeasurePolicy
from nas.search.pruning import CURVE_ATTR, DominanceMedianPruner
from nas.search.study import DUPLICATE_OF, GRID_PARAM, WORKER, is_infeasible

log = logging.getLogger("nas.search")

COST_KEYS = ("params", "memory_hello_edge_bytes", "memory_deploy_bytes", "macs", "ops")
# What a repeat does not copy from the trial it repeats: bookkeeping, the Hello Edge mark of an enqueued
# trial, and the per-epoch records (the pruner's medians would count one training twice; it took 0 s).
NOT_COPIED = frozenset({"worker", "stage", "hello_edge", "history", CURVE_ATTR, "train_seconds"})


class Stage(str, Enum):
    SAMPLE = "sample"
    COST = "cost"
    CONSTRAIN = "constrain"
    FEATURES = "features"
    TRAIN = "train"
    TEST = "test"
    INT8 = "int8"
    MEASURE = "measure"
    ARTIFACTS = "artifacts"
    DONE = "done"


class CandidateSource(Protocol):
    """Proposes the candidate of a trial (all ``suggest_*`` calls happen here)."""

    def propose(self, trial: optuna.Trial) -> Any: ...


class SpaceSource:
    """Candidates sampled from a search space (``nas.spaces.SearchSpace``)."""

    def __init__(self, space):
        self.space = space

    def propose(self, trial: optuna.Trial) -> Any:
        return self.space.sample(trial)


class ListSource:
    """A fixed list of candidates, one per grid index (the ``grid`` sampler replays them exactly)."""

    def __init__(self, candidates: Sequence[Any]):
        self.candidates = list(candidates)

    def propose(self, trial: optuna.Trial) -> Any:
        return self.candidates[trial.suggest_categorical(GRID_PARAM, list(range(len(self.candidates))))]


class FeatureProvider(Protocol):
    """Feature sets (``nas.data.cache.FeatureSet``) for a candidate's front end."""

    def split(self, frontend, split: str) -> Any: ...


class LatencyProbe(Protocol):
    """A board hook (``board=...`` configs build one): latency in ms per inference of a trial's int8
    .tflite, given as bytes; ``close`` releases the board when the study ends."""

    def measure(self, tflite: bytes) -> float: ...

    def close(self) -> None: ...


class TrialRunner:
    """The objective: ``study.optimize(TrialRunner(...), catch=(Exception,))``.

    Args:
        source: proposes candidates.
        estimate: candidate → CostReport (``nas.cost.estimate``).
        budget: a ``nas.cost.budget.Limits`` (budget class or board profile): constraint values
            (≤ 0 feasible), the memory objective and the measured-footprint check.
        features: feature sets per front end.
        train_config: ``nas.train.TrainConfig``.
        results_dir: the study's folder; artifacts go to ``trials/<number>/``.
        pruner: None to never prune.
        probe: a LatencyProbe when a board is configured; the third objective is then latency.
        on_trained: called after each trained trial (counters in tests, progress in the CLI).
        int8: make the int8 .tflite's TFLite Micro validation accuracy the accuracy objective.
        measure: which trained trials the probe measures; the others' latency is the prediction.
    """

    def __init__(
        self,
        source: CandidateSource,
        estimate: Callable,
        budget: Limits,
        features: FeatureProvider,
        train_config,
        results_dir: Path,
        pruner: DominanceMedianPruner | None = None,
        probe: LatencyProbe | None = None,
        on_trained: Callable[[int], None] | None = None,
        int8: bool = False,
        measure: MeasurePolicy = MeasurePolicy(),
    ):
        self.source, self.estimate, self.budget = source, estimate, budget
        self.features, self.train_config = features, train_config
        self.results_dir = Path(results_dir)
        self.pruner, self.probe, self.on_trained = pruner, probe, on_trained
        self.int8, self.measure = int8, measure

    def __call__(self, trial: optuna.Trial) -> list[float]:
        try:
            trial.set_user_attr("worker", WORKER)  # first: a retry starts with its dead predecessor's
            self._enter(trial, Stage.SAMPLE)
            candidate = self.source.propose(trial)
            trial.set_user_attr("candidate", candidate.to_dict())
            trial.set_user_attr("candidate_key", candidate.to_json())
            trial.set_user_attr("arch", candidate.arch)

            self._enter(trial, Stage.COST)
            cost = self.estimate(candidate)
            costs = {k: float(getattr(cost, k)) for k in COST_KEYS}
            memory = float(self.budget.memory_of(cost))
            trial.set_user_attr("cost", costs)
            trial.set_user_attr("memory_bytes", memory)
            trial.set_user_attr("ops", costs["ops"])
            if cost.latency_ms is not None:  # beside the measured latency_ms of a trained trial
                trial.set_user_attr("latency_ms_predicted", float(cost.latency_ms))

            self._enter(trial, Stage.CONSTRAIN)
            constraints = self.budget.constraints(cost)
            inherited = trial.constraints  # a retry of a dead worker's trial carries its constraints over
            for name, value in constraints.items():
                if name not in inherited:
                    trial.set_constraint(name, float(value))
            feasible = all(v <= 0 for v in constraints.values())
            trial.set_user_attr("feasible", feasible)
            if not feasible:
                # Recorded with its costs so the sampler learns the boundary; never trained.
                self._enter(trial, Stage.DONE)
                return [0.0, memory, costs["ops"] if self.probe is None else math.inf]

            earlier = trained_before(trial.study, candidate.to_json())
            if earlier is not None:
                return self._repeat(trial, earlier)
            return self._train_and_score(trial, candidate, memory, costs)
        except optuna.TrialPruned:
            raise
        except Exception as err:  # KeyboardInterrupt is no trial failure: it stays uncounted
            stage = trial.user_attrs.get("stage", Stage.SAMPLE.value)
            trial.set_user_attr("fail_reason", f"{stage}: {type(err).__name__}: {err}"[:2000])
            raise

    def _train_and_score(self, trial: optuna.Trial, candidate, memory: float, costs: dict) -> list[float]:
        from nas.spaces import build_model
        from nas.train import evaluate, save_checkpoint, train

        self._enter(trial, Stage.FEATURES)
        train_set = self.features.split(candidate.frontend, "train")
        val_set = self.features.split(candidate.frontend, "validation")

        self._enter(trial, Stage.TRAIN)
        model = build_model(candidate, seed=self.train_config.seed)
        history: list[dict] = []
        trial.set_user_attr(CURVE_ATTR, [])  # a retried trial inherits its dead predecessor's attributes

        def on_epoch(epoch: int, stats: dict) -> None:
            if epoch == 1:
                history.clear()  # a float32 retry after a diverged run starts over
            history.append({k: float(v) if isinstance(v, (int, float)) else v for k, v in stats.items()})
            curve = [h["val_acc"] for h in history]
            trial.set_user_attr("history", history)
            trial.set_user_attr(CURVE_ATTR, curve)
            logging.getLogger("nas.search.detail").info(  # on the console only when verbose
                "trial %d epoch %d: train_acc %.3f val_acc %.3f loss %.3f (%.1fs)",
                trial.number, epoch, stats["train_acc"], stats["val_acc"], stats["train_loss"], stats["seconds"],
            )
            if self.pruner and self.pruner.should_prune(trial.study, trial.number, epoch, stats["val_acc"], memory, costs["ops"]):
                trial.set_user_attr("pruned_at_epoch", epoch)
                raise optuna.TrialPruned(f"val_acc {stats['val_acc']:.3f} below cheaper trials' median at epoch {epoch}")

        started = time.perf_counter()
        try:
            result = train(model, train_set, val_set, self.train_config, on_epoch=on_epoch)
        finally:
            trial.set_user_attr("train_seconds", time.perf_counter() - started)
            if self.on_trained:
                self.on_trained(trial.number)
        trial.set_user_attr("best_val_acc", float(result.best_val_acc))
        trial.set_user_attr("best_epoch", int(result.best_epoch))
        if result.fallback:
            trial.set_user_attr("precision_fallback", result.fallback)

        self._enter(trial, Stage.TEST)
        test_acc = float(evaluate(model, self.features.split(candidate.frontend, "test"))["accuracy"])
        trial.set_user_attr("test_acc", test_acc)

        trial_dir = self.results_dir / "trials" / str(trial.number)
        trial_dir.mkdir(parents=True, exist_ok=True)
        checkpoint = trial_dir / "model.pt"
        save_checkpoint(checkpoint, model, candidate.to_dict(),  # atomic: temp file + rename
                        {"trial": trial.number, "val_acc": result.best_val_acc, "test_acc": test_acc})
        trial.set_user_attr("checkpoint", str(checkpoint.relative_to(self.results_dir)))

        accuracy, tflite = float(result.best_val_acc), None
        if self.int8:
            from nas.search.int8_stage import convert_trial, score_int8

            # converted once: the scorer and the board get the same bytes
            self._enter(trial, Stage.INT8)
            tflite = convert_trial(model, candidate, train_set)
            accuracy = score_int8(trial, model, candidate, tflite, val_set, self.budget,
                                  trial_dir / "model.tflite", self.results_dir)

        third = costs["ops"]
        if self.probe is not None:
            self._enter(trial, Stage.MEASURE)
            predicted = trial.user_attrs.get("latency_ms_predicted")
            if self.measure.should_measure(trial, accuracy, memory, predicted):
                if tflite is None:
                    from nas.search.int8_stage import convert_trial

                    tflite = convert_trial(model, candidate, train_set)
                third = float(self.probe.measure(tflite))
                trial.set_user_attr("latency_ms", third)
                trial.set_user_attr(LATENCY_SOURCE, "measured")
            else:
                third = float(predicted)
                trial.set_user_attr(LATENCY_SOURCE, "predicted")

        self._enter(trial, Stage.ARTIFACTS)
        write_json_atomic(trial_dir / "history.json", {
            "trial": trial.number, "candidate": candidate.to_dict(), "cost": costs, "history": history,
            "best_val_acc": result.best_val_acc, "best_epoch": result.best_epoch, "test_acc": test_acc,
        })
        self._enter(trial, Stage.DONE)
        return [accuracy, memory, third]

    def _repeat(self, trial: optuna.Trial, earlier: optuna.trial.FrozenTrial) -> list[float]:
        """A candidate the study trained already is not trained again: this trial reports that trial's
        results (the sampler learns the point once more) and says which trial it repeats."""
        own = trial.user_attrs  # its candidate and costs: the same as the earlier trial's
        for key, value in earlier.user_attrs.items():
            if key not in NOT_COPIED and key not in own:
                trial.set_user_attr(key, value)
        trial.set_user_attr(DUPLICATE_OF, earlier.number)
        self._enter(trial, Stage.DONE)
        return list(earlier.values)

    @staticmethod
    def _enter(trial: optuna.Trial, stage: Stage) -> None:
        trial.set_user_attr("stage", stage.value)



def trained_before(study: optuna.Study, candidate_key: str) -> optuna.trial.FrozenTrial | None:
    """The first trial of ``study`` that trained the candidate of ``candidate_key`` to the end; None if none."""
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        if (trial.user_attrs.get("candidate_key") == candidate_key and DUPLICATE_OF not in trial.user_attrs
                and not is_infeasible(trial)):
            return trial
    return None
