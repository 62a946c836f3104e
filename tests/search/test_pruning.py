"""The dominance-aware median pruner compares a trial only with cheaper finished trials."""
import optuna
import pytest

from nas.search.pruning import DominanceMedianPruner


def _finished(study, curve, memory, ops, state=optuna.trial.TrialState.COMPLETE):
    values = [max(curve), memory, ops] if state == optuna.trial.TrialState.COMPLETE else None
    study.add_trial(optuna.trial.create_trial(
        state=state, values=values,
        user_attrs={"val_curve": curve, "memory_bytes": memory, "ops": ops},
    ))


@pytest.fixture
def study():
    s = optuna.create_study(directions=["maximize", "minimize", "minimize"])
    for acc in (0.6, 0.7, 0.8):  # three cheap trials (memory 10 KB, 1 MOps)
        _finished(s, [acc - 0.1, acc, acc], 10_000, 1e6)
    _finished(s, [0.95, 0.97, 0.98], 90_000, 9e6)  # one expensive, very good trial
    return s


def test_prunes_a_trial_worse_than_the_median_of_cheaper_trials(study):
    pruner = DominanceMedianPruner(warmup_epochs=2, min_peers=3)
    assert pruner.peer_median(study, 99, 2, memory=20_000, ops=2e6) == pytest.approx(0.7)
    assert pruner.should_prune(study, 99, 2, 0.65, memory=20_000, ops=2e6)
    assert not pruner.should_prune(study, 99, 2, 0.75, memory=20_000, ops=2e6)


def test_a_cheap_trial_is_not_judged_by_expensive_ones(study):
    # Cheaper than everything: no peers, so even a weak curve goes on (it may still be Pareto-optimal).
    pruner = DominanceMedianPruner(warmup_epochs=1, min_peers=1)
    assert pruner.peer_median(study, 99, 2, memory=5_000, ops=0.5e6) is None
    assert not pruner.should_prune(study, 99, 2, 0.1, memory=5_000, ops=0.5e6)


def test_the_expensive_trial_counts_once_it_is_cheaper(study):
    pruner = DominanceMedianPruner(warmup_epochs=1, min_peers=4)
    assert pruner.peer_median(study, 99, 2, memory=100_000, ops=1e7) == pytest.approx((0.7 + 0.8) / 2)


def test_warmup_and_too_few_peers_never_prune(study):
    assert not DominanceMedianPruner(warmup_epochs=3, min_peers=1).should_prune(study, 99, 2, 0.0, 1e9, 1e9)
    assert not DominanceMedianPruner(warmup_epochs=1, min_peers=5).should_prune(study, 99, 2, 0.0, 20_000, 2e6)


def test_pruned_trials_curves_count_up_to_their_last_epoch(study):
    _finished(study, [0.1], 1_000, 1e5, state=optuna.trial.TrialState.PRUNED)
    pruner = DominanceMedianPruner(warmup_epochs=1, min_peers=4)
    # Epoch 1: four cheap curves (0.5, 0.6, 0.7, 0.1) → median 0.55; epoch 2: the pruned one has no value.
    assert pruner.peer_median(study, 99, 1, 20_000, 2e6) == pytest.approx(0.55)
    assert pruner.peer_median(study, 99, 2, 20_000, 2e6) is None
