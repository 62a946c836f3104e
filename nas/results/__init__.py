"""The one reader of a results folder (layer 8: imports nothing above nas.export).

``place`` (the folder's ``study.json`` marker and where a study lives), ``storage`` (opening the Optuna
storage, finding the study in it), ``trials`` (the trials table, "best per class" by the accuracy
objective the study optimised, ``best.json``), ``pareto`` (fronts, hypervolume) and ``folder`` (open any
results folder — a study's, one holding only ``study.db``, a multirun parent, or a copied
``trials.csv``/``best.json`` — and answer which trials are each class's candidates). Every verb that
reads search results (report, export, evaluate, quant-sweep) goes through ``folder``.
"""
