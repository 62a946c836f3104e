"""`kws-nas search`: a Hydra app running one Optuna study per config (or per cell of a --multirun).

    kws-nas search                                   # ds_cnn under the small budget, generated data
    kws-nas search search_space=cnn constraints=medium trials=40 sampler=nsga2
    kws-nas search storage=postgresql://kws:kws@db/kws_nas    # run this on several machines at once
    kws-nas search --multirun search_space=dnn,cnn,ds_cnn constraints=small,medium,large
    kws-nas search hydra/launcher=joblib --multirun ...      # cells in parallel processes
    kws-nas search --cfg job                                  # print the composed config

Overrides are checked before anything runs: an unknown group member or key is one ConfigError that
lists the valid choices, instead of a Hydra traceback.
"""
from __future__ import annotations

import re
import sys

import hydra
from omegaconf import DictConfig, OmegaConf

from nas.errors import ConfigError, KwsNasError
from nas.paths import CONF_DIR
from nas.search.schema import register_configs

PROG = "kws-nas search"
# Flags after which Hydra only prints (help, config, info) or that take no override checking.
_INFO_FLAGS = {"--help", "-h", "--hydra-help", "--info", "-i", "--cfg", "-c", "--version", "--shell-completion", "-sc"}
_failures: list[str] = []


def main(argv: list[str] | None = None) -> int:
    """Run the Hydra app on ``argv`` (without the verb); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    register_configs()
    try:
        if not _INFO_FLAGS.intersection(argv):
            check_overrides([a for a in argv if not a.startswith("-")])
    except KwsNasError as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 2
    _failures.clear()
    saved_argv = sys.argv
    sys.argv = [PROG, *argv]
    try:
        _hydra_app()
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    finally:
        sys.argv = saved_argv
    return 2 if _failures else code


@hydra.main(config_path=str(CONF_DIR), config_name="config", version_base="1.3")
def _hydra_app(cfg: DictConfig) -> None:
    from nas.search.loop import run_search

    try:
        outcome = run_search(cfg)
    except KwsNasError as err:
        _failures.append(str(err))
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return
    except KeyboardInterrupt:
        _failures.append("interrupted")
        print(f"{PROG}: interrupted; finished trials are stored and the report is written: rerun the same "
              f"command to resume", file=sys.stderr)
        return
    print(
        f"{outcome.study_name}: {outcome.finished} trials trained, {outcome.rejected} infeasible samples this run; "
        f"results in {outcome.results_dir}/ (summary.md, trials.csv, pareto.html, best.json)"
    )


def check_overrides(overrides: list[str]) -> None:
    """Compose the config once per value of every swept override; ConfigError on the first failure."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except HydraException as err:
        raise ConfigError(f"bad override: {err}") from None
    choices = [[o.input_line] if not o.is_sweep_override() else
               [f"{o.get_key_element()}={v}" for v in o.sweep_string_iterator()] for o in parsed]
    # Each value of each sweep once (with the first value of the others): linear, not a full grid.
    trials = [list(c[0] for c in choices)]
    for i, values in enumerate(choices):
        for v in values[1:]:
            trials.append([*trials[0][:i], v, *trials[0][i + 1:]])
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        for attempt in trials:
            try:
                compose("config", overrides=attempt, return_hydra_config=True)
            except (HydraException, OmegaConfBaseException) as err:
                raise ConfigError(_explain(err, lambda: compose("config"))) from None


def compose_config(overrides: list[str]) -> DictConfig:
    """The config `kws-nas search OVERRIDES` would run, with Hydra's runtime set as in the app
    (for library callers: benchmarks and tests call ``run_search(compose_config([...]))``)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import open_dict

    register_configs()
    check_overrides(overrides)
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", overrides=overrides, return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        del cfg["hydra"]  # resolved already; the app's cfg has no hydra node either
    return cfg


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
