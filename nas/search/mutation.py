"""Local search: each candidate is a small mutation of a member of the study's current Pareto front.

White, Nolen, Hutter et al. ("Local search is state of the art for NAS benchmarks", 2020) found that
mutating the best architectures found so far is a strong search strategy when evaluations are few and
noisy, which is the search's situation (tens of short training runs). It also suits the question the
search must answer: whether a model beats the hand-designed one at no more cost. Hello Edge's
configuration is the study's first trial, so it is on the front from the start and its neighbours (a
little narrower, another front end, one layer more or less) are what the sampler tries first.

How a trial is drawn (Optuna's define-by-run: parameters appear as the search space asks for them):
- until ``n_startup_trials`` candidates have been trained, parameters are drawn uniformly at random;
- then a parent is picked from the non-dominated trained feasible trials (accuracy up, memory and ops
  or latency down) by a binary tournament on accuracy, and one of two moves is made:
  - point mutation: 1 to 3 of its parameters move to a neighbouring value (integers by a step, or by
    13-50 % on a log scale; ordered choices such as the front end's to the next choice up or down);
  - width scaling (``WIDTH_MOVE_P`` of the time): every log-scaled integer (in our spaces: filters,
    widths, cells, units) is multiplied by one factor, as a width multiplier does, so a model a point
    mutation made cheaper (a stride) can spend what it saved;
  every other parameter keeps the parent's value. A parameter the parent never had (a layer added by a deeper
  ``n_layers``) copies the same parameter of the layer before it, else is drawn at random.
- half of the children (``fit_p``) that would cost more memory or ops than Hello Edge's configuration are
  narrowed until they cost no more (every width times the largest of ``NARROW_FACTORS`` that fits), so the
  search keeps trying models that can dominate the hand-designed one however far its front has grown;
  the other half stay as drawn and extend the front. This needs the candidate's cost from its parameters
  (``cost_of``, which ``nas.search.loop`` sets from the search space and the cost model: microseconds).
A proposal equal to a trained candidate is answered from that trial without training (the objective's
duplicate guard), and one over the budget is rejected in milliseconds, so neither costs a training run.
"""
from __future__ import annotations

import re
from typing import Any, Callable

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from nas.errors import ConfigError
from nas.search.study import DUPLICATE_OF, is_infeasible

LOG_FACTORS = (0.67, 0.8, 0.87, 1.15, 1.25, 1.5)  # moves of a log-scaled integer (widths)
MUTATIONS_P = (0.5, 0.3, 0.2)  # chance of changing 1, 2 or 3 parameters
WIDTH_MOVE_P = 0.25  # chance that a child scales every width of its parent instead
WIDTH_FACTORS = (0.8, 0.9, 0.95, 1.05, 1.1, 1.25)
FIT_P = 0.5  # chance that a child over Hello Edge's memory or ops is narrowed to fit under both
NARROW_FACTORS = (0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.6, 0.5)
_LAYER_PARAM = re.compile(r"^layer(\d+)_(.+)$")


class MutationSampler(BaseSampler):
    """Mutates members of the current Pareto front (module docstring).

    Args:
        seed: random seed.
        n_startup_trials: trained candidates drawn at random before mutation starts (an enqueued
            Hello Edge trial counts as one).
        fit_p: chance that a child costing more than Hello Edge's configuration is narrowed to fit.

    ``cost_of``: parameters → (memory, ops) of their candidate, None when they make none; None (the
    default) never narrows.
    """

    def __init__(self, seed: int | None = None, n_startup_trials: int = 1, fit_p: float = FIT_P) -> None:
        self._rng = np.random.RandomState(seed)
        self._random = RandomSampler(seed=seed)
        self.n_startup_trials = n_startup_trials
        self.fit_p = fit_p
        self.cost_of: Callable[[dict[str, Any]], tuple[float, float] | None] | None = None
        # trial id -> (parent params, names to mutate, width factor or None)
        self._plans: dict[int, tuple[dict[str, Any], set[str], float | None]] = {}

    def reseed_rng(self) -> None:
        self._rng.seed()
        self._random.reseed_rng()

    def infer_relative_search_space(self, study, trial) -> dict[str, BaseDistribution]:
        return {}

    def sample_relative(self, study, trial, search_space) -> dict[str, Any]:
        return {}

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        front = self._front(study)
        if len(front) == 0 or self._trained(study) < self.n_startup_trials:
            return
        # binary tournament on accuracy: the front's accurate members are mutated more often than its
        # cheap, weak ones (which random startup trials and shrinking moves put there)
        a, b = front[self._rng.randint(len(front))], front[self._rng.randint(len(front))]
        parent = a if a.values[0] >= b.values[0] else b
        if self._rng.rand() < WIDTH_MOVE_P:
            factor = WIDTH_FACTORS[self._rng.randint(len(WIDTH_FACTORS))]
            plan = (dict(parent.params), set(), factor)
        else:
            names = sorted(parent.params)
            count = min(len(names), 1 + self._rng.choice(len(MUTATIONS_P), p=MUTATIONS_P))
            plan = (dict(parent.params), set(self._rng.choice(names, size=count, replace=False).tolist()), None)
        reference = self._hello_edge_costs(study)
        if self.cost_of is not None and reference is not None and self._rng.rand() < self.fit_p:
            fitted = self._fitted(parent, plan, reference)
            if fitted is not None:
                plan = (fitted, set(), None)  # every value decided: the child is taken as it is
        self._plans[trial._trial_id] = plan

    def after_trial(self, study, trial, state, values) -> None:
        self._plans.pop(trial._trial_id, None)

    def sample_independent(self, study, trial, param_name: str, param_distribution: BaseDistribution) -> Any:
        plan = self._plans.get(trial._trial_id)
        if plan is None:
            return self._random.sample_independent(study, trial, param_name, param_distribution)
        parent, chosen, width_factor = plan
        value = self._inherited(parent, param_name, param_distribution)
        if value is None:
            return self._random.sample_independent(study, trial, param_name, param_distribution)
        if width_factor is not None:
            return _scaled(value, param_distribution, width_factor)
        return self._neighbour(value, param_distribution) if param_name in chosen else value

    # --- helpers ----------------------------------------------------------------------------------

    def _fitted(self, parent: FrozenTrial, plan, reference: tuple[float, float]) -> dict[str, Any] | None:
        """The child of ``plan`` with every value decided, narrowed to at most ``reference`` (memory, ops)
        when it costs more; None when its cost is unknown (a new layer's parameters) or nothing fits."""
        values, chosen, width_factor = plan
        child = {}
        for name, value in values.items():
            dist = parent.distributions[name]
            if width_factor is not None:
                child[name] = _scaled(value, dist, width_factor)
            else:
                child[name] = self._neighbour(value, dist) if name in chosen else value
        for factor in (1.0, *NARROW_FACTORS):
            narrowed = {n: _scaled(v, parent.distributions[n], factor) for n, v in child.items()}
            costs = self.cost_of(narrowed)
            if costs is None:
                return None
            if costs[0] <= reference[0] and costs[1] <= reference[1]:
                return narrowed
        return None

    @staticmethod
    def _hello_edge_costs(study: optuna.Study) -> tuple[float, float] | None:
        """(memory, ops) of the study's trained Hello Edge trial, None without one."""
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            if "hello_edge" in t.user_attrs and "ops" in t.user_attrs and not is_infeasible(t):
                return float(t.user_attrs["memory_bytes"]), float(t.user_attrs["ops"])
        return None

    @staticmethod
    def _trained(study: optuna.Study) -> int:
        return sum(1 for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
                   if not is_infeasible(t))

    @staticmethod
    def _front(study: optuna.Study) -> list[FrozenTrial]:
        trials = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
                  if t.values and not is_infeasible(t) and DUPLICATE_OF not in t.user_attrs]
        if not trials:
            return []
        signs = np.array([-1.0 if d == StudyDirection.MAXIMIZE else 1.0 for d in study.directions])
        points = np.array([t.values for t in trials], dtype=float) * signs
        return [t for i, t in enumerate(trials)
                if not any(np.all(points[j] <= points[i]) and np.any(points[j] < points[i])
                           for j in range(len(trials)))]

    @staticmethod
    def _inherited(parent: dict[str, Any], name: str, dist: BaseDistribution) -> Any:
        """The parent's value for ``name`` (or the previous layer's), fitted into ``dist``; None if none."""
        value = parent.get(name)
        match = _LAYER_PARAM.match(name)
        if value is None and match:
            value = parent.get(f"layer{int(match.group(1)) - 1}_{match.group(2)}")
        if value is None:
            return None
        if isinstance(dist, CategoricalDistribution):
            return value if value in dist.choices else None
        return min(max(value, dist.low), dist.high)  # caps move with the map size

    def _neighbour(self, value: Any, dist: BaseDistribution) -> Any:
        """A value next to ``value`` inside ``dist``, different from it where the domain allows."""
        if isinstance(dist, CategoricalDistribution):
            i = dist.choices.index(value)
            steps = [j for j in (i - 1, i + 1) if 0 <= j < len(dist.choices)]
            return dist.choices[steps[self._rng.randint(len(steps))]] if steps else value
        if isinstance(dist, IntDistribution):
            if dist.log:
                moved = int(round(value * LOG_FACTORS[self._rng.randint(len(LOG_FACTORS))]))
            else:
                moved = value + dist.step * (1 if self._rng.rand() < 0.5 else -1)
            moved = min(max(moved, dist.low), dist.high)
            if moved == value and dist.low < dist.high:  # pushed against a bound: step the other way
                moved = value + dist.step if value < dist.high else value - dist.step
            return moved
        if isinstance(dist, FloatDistribution):
            factor = LOG_FACTORS[self._rng.randint(len(LOG_FACTORS))]
            return float(min(max(value * factor if dist.log else value + (dist.high - dist.low) * (factor - 1),
                                 dist.low), dist.high))
        return value


def _scaled(value: Any, dist: BaseDistribution, factor: float) -> Any:
    """A log-scaled integer (a width) times ``factor``, kept inside ``dist``; any other value unchanged."""
    if factor == 1.0 or not (isinstance(dist, IntDistribution) and dist.log):
        return value
    return min(max(int(round(value * factor)), dist.low), dist.high)


def costs_from_space(space, estimate: Callable, budget) -> Callable[[dict[str, Any]], tuple[float, float] | None]:
    """``MutationSampler.cost_of`` for a search space (``nas.spaces.SearchSpace``), the cost model and a
    budget (whose memory convention counts): the parameters replayed through the space's ``sample``."""
    def cost_of(params: dict[str, Any]) -> tuple[float, float] | None:
        try:
            cost = estimate(space.sample(_Replay(params)))
        except KeyError:  # a parameter the space asks for is missing (a layer the parent never had)
            return None
        except ConfigError:  # no valid model (a kernel larger than the map it slides over)
            return None
        return float(budget.memory_of(cost)), float(cost.ops)
    return cost_of


class _Replay:
    """Answers a search space's ``suggest_*`` calls from fixed parameters, each clamped into the range the
    space asks for, as ``MutationSampler`` clamps an inherited value (a cap that moved with the map size)."""

    def __init__(self, params: dict[str, Any]):
        self.params = params

    def suggest_int(self, name: str, low: int, high: int, step: int = 1, log: bool = False) -> int:
        return min(max(self.params[name], low), high)

    def suggest_categorical(self, name: str, choices: list) -> Any:
        value = self.params[name]
        if value not in choices:
            raise KeyError(name)
        return value
