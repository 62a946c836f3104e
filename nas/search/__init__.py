"""The search: Optuna studies of one search space under one budget, driven by Hydra configs.

``study`` (storage, sampler, resume), ``objective`` (one trial as a state machine), ``pruning``
(dominance-aware median pruner), ``pareto`` (fronts, hypervolume), ``loop`` (run one study from a
config), ``cli`` (the Hydra app behind `kws-nas search`).
"""
