"""The search: Optuna studies of one search space under one budget, driven by Hydra configs.

``study`` (sampler, create or resume, trial-budget count), ``objective`` (one trial as a state
machine), ``pruning`` (dominance-aware median pruner), ``loop`` (run one study from a config), ``cli``
(the Hydra app behind `kws-nas search`). Reading a results folder back (marker, storage, trials
table, fronts) is ``nas.results``'s.
"""
