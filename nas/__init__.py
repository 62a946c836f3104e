"""kws-nas: hardware-aware neural architecture search for keyword spotting on Cortex-M.

The packages form layers: each imports only packages of lower layers (``LAYERS``, lowest first), so
nothing imports back up and no two packages depend on each other. The command-line modules
(``nas/cli.py``, ``nas/__main__.py``, every ``cli.py`` or ``*_cli.py``, and the search's Hydra
callbacks) form one top layer that may import any package. ``tests/test_layers.py`` walks every
import in ``nas/`` (inside functions too) and fails on an import against this order.
"""

__version__ = "0.1.0"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "atomic", "paths", "interrupt", "firmware"),  # plain helpers (firmware: its Python packers, numpy only)
    ("data",),  # datasets, front end, feature cache
    ("cost",),  # cost model, budgets and board profiles
    ("spaces",),  # search spaces and model builders
    ("train",),  # training and evaluation of one model
    ("tflite_model",),  # the one reader of .tflite files and the supported op list
    ("board",),  # firmware builds, emulator, serial protocol, latency probe
    ("export",),  # int8 conversion, bundles, bit-width studies
    ("prune",),  # pruning masks, physical channel removal, the pruning sweep
    ("results",),  # a study folder: marker, storage, trials table, best per class, Pareto math
    ("report",),  # tables and figures of a results folder
    ("stream",),  # keyword spotting on long recordings: window features, model backends, post-processing
    ("search",),  # the Optuna search loop
)
CLI_MODULES = ("nas.cli", "nas.__main__", "nas.search.callbacks")  # besides every *cli.py
