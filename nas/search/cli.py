"""`kws-nas search`: a Hydra app running one Optuna study per config (or per cell of a --multirun).

    kws-nas search                                   # ds_cnn under the small budget, generated data
    kws-nas search search_space=cnn constraints=medium trials=40 sampler=nsga2
    kws-nas search storage=postgresql://kws:kws@db/kws_nas    # run this on several machines at once
    kws-nas search --multirun search_space=dnn,cnn,ds_cnn constraints=small,medium,large
    kws-nas search hydra/launcher=joblib --multirun ...      # cells in parallel processes
    kws-nas search hydra/launcher=submitit_slurm --multirun workers=4 storage=postgresql://... ...
                                                    # SLURM jobs: 4 per cell, on the cell's one study
    kws-nas search --cfg job                                  # print the composed config
    kws-nas search --multirun +experiment=hello_edge --cfg job   # print every cell's config
    kws-nas search -v ...                                     # per-epoch lines (same as verbose=true)

How it drives Hydra: ``@hydra.main`` reads ``sys.argv`` and reports every error itself (a traceback
hint, exit 1), so instead this parses ``argv`` with Hydra's own argument parser and runs the app
through Hydra's ``Hydra`` object (what ``@hydra.main`` calls underneath; internal API of Hydra 1.3,
pinned in pyproject). A single run composes its config once, in ``Hydra.run``; a composition error
is caught there and becomes one ``ConfigError`` line listing the valid choices. A ``--multirun``
composes each value of each swept override once before launching (each cell composes anyway):
without it, a typo in the last cell would only show after the first cells' searches had run. Each
job returns its error text (or None), so the exit status comes from the jobs' return values, also
from a joblib or submitit launcher's worker processes. ``workers=N`` (on the command line) turns each
cell into N jobs (``worker=0..N-1``, each with its own Hydra folder) that share the cell's study on a
PostgreSQL server. Help, ``--cfg``, ``--info`` and shell completion go to Hydra's own entry point
unchanged (the help text is ``hydra.help.template`` in nas/conf/config.yaml), except ``--multirun --cfg``,
which Hydra refuses: it prints the config of every cell the sweep would launch (``multirun_cells``), so
an experiment's grid can be checked before it runs.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from nas.errors import ConfigError, KwsNasError
from nas.paths import CONF_DIR
from nas.search.console import CELLS_ENV
from nas.search.preflight import check_results_dir_writable
from nas.search.schema import register_configs

PROG = "kws-nas search"
CONFIG_NAME = "config"


def argument_parser():
    """Hydra's own argument parser (overrides, --multirun, --cfg, --help, ...) plus ``-v/--verbose``."""
    from hydra._internal.utils import get_args_parser

    parser = get_args_parser()
    parser.prog = PROG
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="per-epoch lines and TensorFlow's log lines (same as the override verbose=true)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the search app on ``argv`` (without the verb); returns the exit status."""
    from nas.cli import quiet_tensorflow

    register_configs()
    parser = argument_parser()
    args = parser.parse_intermixed_args(list(sys.argv[1:] if argv is None else argv))  # overrides around flags
    if args.verbose:
        args.overrides.append("verbose=true")
    quiet_tensorflow("verbose=true" in args.overrides)
    try:
        if args.multirun and args.cfg:
            return _print_cells(args.overrides, args.cfg, args.resolve)
        if args.help or args.hydra_help or args.cfg or args.info or args.shell_completion:
            return _hydra_entry_point(args, parser)
        failures = _run(args.overrides, multirun=args.multirun)
    except KwsNasError as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 2
    return 2 if failures else 0


def _run(overrides: list[str], multirun: bool) -> list[str]:
    """Run (or sweep) the app; the error texts of the jobs that failed."""
    from hydra._internal.hydra import Hydra
    from hydra._internal.utils import create_config_search_path
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    if multirun:
        check_overrides(overrides)
        cells = len(multirun_cells(overrides))  # an experiment's grid included
        overrides = [*overrides, f"++hydra.job.env_set.{CELLS_ENV}={cells}"]  # for each cell's "cell 3/21"
    overrides = [*overrides, *worker_overrides(overrides, multirun)]
    GlobalHydra.instance().clear()
    hydra = Hydra.create_main_hydra2(task_name="search", config_search_path=create_config_search_path(str(CONF_DIR)))
    try:
        if multirun:
            cells = hydra.multirun(CONFIG_NAME, run_job, [*overrides, "hydra.mode=MULTIRUN"])
            returns = [job.return_value for batch in cells for job in batch]
        else:
            returns = [hydra.run(CONFIG_NAME, run_job, [*overrides, "hydra.mode=RUN"]).return_value]
    except (HydraException, OmegaConfBaseException) as err:
        raise ConfigError(_explain(err, _default_config)) from None
    except OSError as err:  # Hydra makes <results_dir>/<study>/hydra before the app runs
        if err.filename is None:
            raise
        check_results_dir_writable(Path(err.filename))  # names a file or read-only folder in the way
        raise ConfigError(f"results_dir: cannot create {err.filename} ({err.strerror})") from None
    finally:
        GlobalHydra.instance().clear()
    return [text for text in returns if text is not None]


def multirun_cells(overrides: list[str]) -> list[list[str]]:
    """The overrides of each cell `kws-nas search --multirun OVERRIDES` launches, in order, as Hydra's
    basic sweeper expands them: ``hydra.sweeper.params`` (an experiment's grid), then the command line's
    own sweeps and values, which win over the params of the same key."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    parsed = parser.parse_overrides(overrides)
    first = [o.input_line if not o.is_sweep_override() else
             f"{o.get_key_element()}={next(iter(o.sweep_string_iterator()))}" for o in parsed]
    params = compose_config(first, keep_hydra=True).hydra.sweeper.params or {}
    swept = parser.parse_overrides([f"{k}={v}" for k, v in params.items()] + overrides)
    return BasicSweeper.split_arguments(swept, None)[0]


def _print_cells(overrides: list[str], part: str, resolve: bool) -> int:
    """--multirun --cfg job|hydra|all: each cell's overrides as a comment line, then its config."""
    if part not in ("job", "hydra", "all"):
        raise ConfigError(f"--cfg {part}: expected job, hydra or all")
    check_overrides(overrides)
    cells = multirun_cells(overrides)
    for number, cell in enumerate(cells, start=1):
        cfg = compose_config(cell, keep_hydra=part != "job")
        node = cfg.hydra if part == "hydra" else cfg
        print(f"# cell {number}/{len(cells)}: {' '.join(cell)}")
        print(OmegaConf.to_yaml(node, resolve=resolve))
    return 0


def _hydra_entry_point(args, parser) -> int:
    """Help, --cfg, --info and shell completion: Hydra's own handling of the parsed arguments."""
    from hydra._internal.utils import _run_hydra

    try:
        _run_hydra(args=args, args_parser=parser, task_function=run_job, config_path=str(CONF_DIR),
                   config_name=CONFIG_NAME)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    return 0


def run_job(cfg: DictConfig) -> str | None:
    """One search (one multirun cell): prints its closing line; returns the error text, or None."""
    from nas.search.loop import run_search

    try:
        outcome = run_search(cfg)
    except KwsNasError as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return str(err)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; finished trials are stored and the report is written: rerun the same "
              f"command to resume", file=sys.stderr)
        return "interrupted"
    print(f"{outcome.study_name}: the study holds {outcome.counts.describe()} (all workers); "
          f"see {outcome.results_dir}/summary.md")
    for line in outcome.verdicts:
        print(f"{outcome.study_name}: retrained: {line}")
    if outcome.all_failed:
        text = (f"all {outcome.ran} trials of this run failed, the first with {outcome.failures[0]} "
                f"(every trial's reason: trials.csv, column fail_reason)")
        print(f"{PROG}: error: {text}", file=sys.stderr)
        return text
    return None


def check_overrides(overrides: list[str]) -> None:
    """Compose the config once per value of every swept override; ConfigError on the first failure."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    register_configs()
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except HydraException as err:
        raise ConfigError(f"bad override: {err}") from None
    choices = [[o.input_line] if not o.is_sweep_override() else
               [f"{o.get_key_element()}={v}" for v in o.sweep_string_iterator()] for o in parsed]
    # Each value of each sweep once (with the first value of the others): linear, not a full grid.
    attempts = [list(c[0] for c in choices)]
    for i, values in enumerate(choices):
        for v in values[1:]:
            attempts.append([*attempts[0][:i], v, *attempts[0][i + 1:]])
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        for attempt in attempts:
            try:
                compose(CONFIG_NAME, overrides=attempt, return_hydra_config=True)
            except (HydraException, OmegaConfBaseException) as err:
                raise ConfigError(_explain(err, lambda: compose(CONFIG_NAME))) from None


def worker_overrides(overrides: list[str], multirun: bool) -> list[str]:
    """The overrides that make ``workers=N`` (N > 1) of a --multirun N jobs per cell: a sweep of
    ``worker`` and a Hydra folder per worker. ConfigError where the workers could not share a study."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = {o.get_key_element(): o for o in OverridesParser.create().parse_overrides(overrides)}
    if "workers" not in parsed:
        return []
    if parsed["workers"].is_sweep_override():
        raise ConfigError("workers: expected one number of jobs per cell for the whole multirun, got a sweep")
    workers = int(parsed["workers"].value())
    if workers < 1:
        raise ConfigError(f"workers: expected a whole number >= 1, got {workers}")
    if workers == 1:
        return []
    if not multirun:
        raise ConfigError(f"workers={workers}: for --multirun (one run is one worker: start the command "
                          f"{workers} times with the same storage=)")
    storage = parsed.get("storage")
    if storage is None or not str(storage.value() or "").startswith(("postgresql", "mysql")):
        raise ConfigError(f"workers={workers}: the workers of a cell share its study through a database server "
                          f"every job reaches: add storage=postgresql://USER:PASSWORD@HOST/DB")
    return [f"worker=range(0,{workers})", "hydra.sweep.subdir=${study_name}/hydra/worker${worker}"]


def compose_config(overrides: list[str], keep_hydra: bool = False) -> DictConfig:
    """The config `kws-nas search OVERRIDES` would run, with Hydra's runtime set as in the app
    (for library callers: benchmarks and tests call ``run_search(compose_config([...]))``); with
    ``keep_hydra`` its ``hydra`` node too."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig
    from hydra.errors import HydraException
    from omegaconf import open_dict
    from omegaconf.errors import OmegaConfBaseException

    register_configs()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        try:
            cfg = compose(CONFIG_NAME, overrides=overrides, return_hydra_config=True)
        except (HydraException, OmegaConfBaseException) as err:
            raise ConfigError(_explain(err, lambda: compose(CONFIG_NAME))) from None
    HydraConfig.instance().set_config(cfg)
    if not keep_hydra:
        with open_dict(cfg):
            del cfg["hydra"]  # resolved already; the app's cfg has no hydra node either
    return cfg


def _default_config() -> DictConfig:
    """The config with no overrides, to list the valid keys in an error message."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(CONFIG_NAME)


def _explain(err: Exception, compose_default) -> str:
    """Hydra's message without its search-path listing and append hint, plus the valid keys."""
    text = str(err).split("\nConfig search path:")[0].strip().replace("\n\t", " ").replace("\n", " ")
    text = text.split(" To append to your config use")[0].rstrip(".")
    if err.__cause__ is not None:  # e.g. "Value 'x' of type 'str' could not be converted to Integer"
        text += ": " + str(err.__cause__).splitlines()[0]
    unknown = re.search(r"Could not override '([^']+)'", text)
    if unknown:
        parent, _, _ = unknown.group(1).rpartition(".")
        node = compose_default()
        node = OmegaConf.select(node, parent) if parent else node
        if isinstance(node, DictConfig):
            text += f" (valid keys{' of ' + parent if parent else ''}: {', '.join(k for k in node if k != 'hydra')})"
    return text
