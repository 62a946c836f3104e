"""The local-search sampler: children differ from a Pareto-front parent in a few parameters."""
from __future__ import annotations

import optuna
import pytest

from nas.errors import ConfigError
from nas.search.mutation import WIDTH_FACTORS, MutationSampler
from nas.search.study import make_sampler
from nas.search.schema import SamplerConf

optuna.logging.set_verbosity(optuna.logging.WARNING)
PARENT = {"n_layers": 3, "layer1_filters": 64, "layer2_filters": 64, "layer3_filters": 64,
          "n_mfcc": 10, "kernel": 3}


def _draw(trial: optuna.Trial) -> dict:
    params = {"n_layers": trial.suggest_int("n_layers", 2, 5)}
    for i in range(1, params["n_layers"] + 1):
        params[f"layer{i}_filters"] = trial.suggest_int(f"layer{i}_filters", 16, 640, log=True)
    params["n_mfcc"] = trial.suggest_categorical("n_mfcc", [6, 8, 10, 13, 16])
    params["kernel"] = trial.suggest_int("kernel", 1, 5)
    return params


def _study(sampler) -> optuna.Study:
    return optuna.create_study(directions=["maximize", "minimize", "minimize"], sampler=sampler)


def _objective(accuracy_of):
    def objective(trial):
        params = _draw(trial)
        trial.set_constraint("memory", -1.0)
        return accuracy_of(params), 1.0, 1.0
    return objective


def test_children_change_one_to_three_parameters_of_the_front_parent():
    study = _study(MutationSampler(seed=0, n_startup_trials=1))
    study.enqueue_trial(PARENT)
    # the parent stays the only front member: every child scores lower at the same cost
    study.optimize(_objective(lambda p: 1.0 if p == PARENT else 0.0), n_trials=40)
    sizes = []
    for trial in study.trials[1:]:
        changed = {k for k in PARENT if k in trial.params and trial.params[k] != PARENT[k]}
        assert 1 <= len(changed) <= 3, (trial.params, changed)
        if trial.params["n_layers"] == 4:  # the added layer copies the layer before it
            assert trial.params["layer4_filters"] == PARENT["layer3_filters"]
        sizes.append(len(changed))
    assert set(sizes) >= {1, 2}


def test_moves_are_to_neighbouring_values():
    study = _study(MutationSampler(seed=1, n_startup_trials=1))
    study.enqueue_trial(PARENT)
    study.optimize(_objective(lambda p: 1.0 if p == PARENT else 0.0), n_trials=60)
    for trial in study.trials[1:]:
        p = trial.params
        assert p["n_mfcc"] in (8, 10, 13)  # the choice next to 10, or 10 itself
        assert abs(p["kernel"] - 3) <= 1
        assert abs(p["n_layers"] - 3) <= 1
        assert 64 * 0.6 <= p["layer1_filters"] <= 64 * 1.55


def test_random_until_startup_and_with_an_empty_front():
    sampler = MutationSampler(seed=0, n_startup_trials=5)
    study = _study(sampler)
    study.optimize(_objective(lambda p: 0.5), n_trials=5)
    mfccs = {t.params["n_mfcc"] for t in study.trials}
    assert len(mfccs) >= 3  # drawn at random, not mutated from a single parent


def test_infeasible_trials_are_never_parents():
    study = _study(MutationSampler(seed=0, n_startup_trials=1))
    study.enqueue_trial({**PARENT, "kernel": 5})

    def objective(trial):
        params = _draw(trial)
        infeasible = trial.number == 0
        trial.set_constraint("memory", 1.0 if infeasible else -1.0)
        return (0.0 if infeasible else 0.5), 1.0, 1.0

    study.optimize(objective, n_trials=1)
    assert MutationSampler._front(study) == []
    study.optimize(objective, n_trials=3)  # no feasible parent yet: random draws, no error
    assert len(MutationSampler._front(study)) >= 1


def test_make_sampler_builds_it_from_the_config():
    sampler = make_sampler(SamplerConf(name="mutation", n_startup_trials=2), seed=3)
    assert isinstance(sampler, MutationSampler) and sampler.n_startup_trials == 2


@pytest.mark.parametrize("seed", [0, 1])
def test_same_seed_same_proposals(seed):
    def run():
        study = _study(MutationSampler(seed=seed, n_startup_trials=1))
        study.enqueue_trial(PARENT)
        study.optimize(_objective(lambda p: 1.0 if p == PARENT else 0.0), n_trials=8)
        return [t.params for t in study.trials]
    assert run() == run()


def test_width_moves_scale_every_log_scaled_integer_by_one_factor():
    study = _study(MutationSampler(seed=2, n_startup_trials=1))
    study.enqueue_trial(PARENT)
    study.optimize(_objective(lambda p: 1.0 if p == PARENT else 0.0), n_trials=60)
    widths = {round(64 * f) for f in WIDTH_FACTORS}
    scaled = [t.params for t in study.trials[1:]
              if {k: v for k, v in t.params.items() if "filters" not in k} == {"n_layers": 3, "n_mfcc": 10, "kernel": 3}
              and len({t.params[f"layer{i}_filters"] for i in (1, 2, 3)} & widths) == 1
              and t.params["layer1_filters"] == t.params["layer2_filters"] == t.params["layer3_filters"]]
    # about WIDTH_MOVE_P of 59 children (a point mutation moving all three widths alike is rare)
    assert 6 <= len(scaled) <= 30


def _cost_of(params: dict):
    """A stand-in cost model of ``_draw``'s parameters: None when a layer's width is missing, as the
    search space's replay is when the parent never had that layer."""
    try:
        widths = [params[f"layer{i}_filters"] for i in range(1, params["n_layers"] + 1)]
    except KeyError:
        return None
    return float(sum(widths) * params["kernel"]), float(sum(widths) * params["n_mfcc"])


def _hello_edge_objective(trial):
    params = _draw(trial)
    memory, ops = _cost_of(params)
    trial.set_constraint("memory", -1.0)
    trial.set_user_attr("memory_bytes", memory)
    trial.set_user_attr("ops", ops)
    if trial.number == 0:
        trial.set_user_attr("hello_edge", "small")
    # the parent is the most accurate, so it stays the front's accurate end; children score lower
    return (1.0 if params == PARENT else 0.5), memory, ops


@pytest.mark.parametrize("fit_p", [1.0, 0.0])
def test_children_over_hello_edge_cost_are_narrowed_to_fit(fit_p):
    sampler = MutationSampler(seed=3, n_startup_trials=1, fit_p=fit_p)
    sampler.cost_of = _cost_of
    study = _study(sampler)
    study.enqueue_trial(PARENT)
    study.optimize(_hello_edge_objective, n_trials=60)
    he_memory, he_ops = _cost_of(PARENT)
    # a child with a layer its parent never had has no known cost when it is planned, so it is not narrowed
    children = [t for t in study.trials[1:] if t.params["n_layers"] <= PARENT["n_layers"]]
    over = [t for t in children if t.user_attrs["memory_bytes"] > he_memory or t.user_attrs["ops"] > he_ops]
    if fit_p == 1.0:
        # a child drawn over the cost is narrowed: every width scaled by one factor below 1
        grown = [t for t in children if t.params["layer1_filters"] < PARENT["layer1_filters"]]
        assert not over and grown
    else:
        assert over  # without narrowing, children cost more than Hello Edge's configuration


def test_costs_from_space_replays_parameters_through_the_space():
    from nas.cost import estimate
    from nas.cost.budget import load_budget
    from nas.search.mutation import costs_from_space
    from nas.spaces import get_space

    space = get_space("ds_cnn")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask()
    candidate = space.sample(trial)
    budget = load_budget("small")
    cost_of = costs_from_space(space, estimate, budget)
    cost = estimate(candidate)
    assert cost_of(trial.params) == (float(budget.memory_of(cost)), float(cost.ops))
    missing = dict(trial.params)
    missing.pop("n_mfcc")
    assert cost_of(missing) is None
    # a spec the cost model refuses (e.g. a kernel wider than its map) has no cost: no error out of the sampler
    def refuses(candidate):
        raise ConfigError("ds_cnn spec: dw4: kernel_f 3 is larger than its input (2)")
    assert costs_from_space(space, refuses, budget)(trial.params) is None
