"""The Optuna study of one search: storage URL, sampler, resume, and the results folder it owns.

Storage: an embedded SQLite file ``<results>/<study>/study.db`` by default (``optuna-dashboard
sqlite:///results/ds_cnn_small/study.db`` opens it), or any SQLAlchemy URL such as
``postgresql://user:pw@host/db`` shared by several workers. Either way an ``RDBStorage`` with heartbeats:
a worker that dies mid-trial leaves a RUNNING trial whose heartbeat stops; the next worker to start a
trial marks it FAIL and re-enqueues its parameters (``RetryHeartbeatStaleTrialCallback``).

Every results folder holds ``study.json`` naming its study and storage, so ``kws-nas report DIR`` finds
the storage from the folder alone, and a folder is never silently shared by two studies.
"""
from __future__ import annotations

import json
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import optuna
from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.trial import FrozenTrial, TrialState

from nas.atomic import write_text_atomic
from nas.errors import ConfigError, DataError

MARKER = "study.json"
TABLE_RACE_RETRIES = 4
DB_FILE = "study.db"
DIRECTIONS_OPS = ["maximize", "minimize", "minimize"]  # accuracy, memory, ops (or latency)
OBJECTIVE_NAMES_OPS = ["accuracy", "memory_bytes", "ops"]
OBJECTIVE_NAMES_LATENCY = ["accuracy", "memory_bytes", "latency_ms"]


@dataclass(frozen=True)
class StudyPlace:
    """Where a study lives: its name, its results folder and its storage URL."""

    name: str
    results_dir: Path
    storage_url: str


def default_storage_url(results_dir: Path) -> str:
    return f"sqlite:///{results_dir / DB_FILE}"


def place_for(study_name: str, results_root: str | Path, storage: str | None) -> StudyPlace:
    """Resolve the folder and storage URL of ``study_name`` (storage None: the embedded SQLite file)."""
    if not study_name or "/" in study_name or study_name.startswith("."):
        raise ConfigError(f"study_name: expected a plain folder name, got {study_name!r}")
    results_dir = Path(results_root) / study_name
    return StudyPlace(study_name, results_dir, storage or default_storage_url(results_dir))


def check_results_dir(place: StudyPlace) -> bool:
    """Whether the results folder already belongs to this study (False: it has no marker yet).

    Raises:
        ConfigError: the folder's ``study.json`` names another study or another storage.
    """
    if not (place.results_dir / MARKER).exists():
        return False
    recorded = read_marker(place.results_dir)
    if recorded.name != place.name:
        raise ConfigError(
            f"results folder {place.results_dir} belongs to study {recorded.name!r}, not "
            f"{place.name!r}: choose another study_name or results_dir"
        )
    if recorded.storage_url != place.storage_url:
        raise ConfigError(
            f"results folder {place.results_dir} records storage {_redact(recorded.storage_url)}, "
            f"not {_redact(place.storage_url)}: pass storage={_redact(recorded.storage_url)} to resume it"
        )
    return True


def claim_results_dir(place: StudyPlace) -> None:
    """Create the results folder and its marker, or check that it already belongs to this study."""
    if check_results_dir(place):
        return
    place.results_dir.mkdir(parents=True, exist_ok=True)
    url = place.storage_url
    if url == default_storage_url(place.results_dir):
        url = f"sqlite:///{DB_FILE}"  # relative to the folder, so that the folder can move
    write_json_atomic(place.results_dir / MARKER, {"study_name": place.name, "storage": url})


def read_marker(results_dir: str | Path) -> StudyPlace:
    """The study recorded in ``results_dir/study.json``.

    Raises:
        DataError: no marker, or an unreadable one.
    """
    results_dir = Path(results_dir)
    marker = results_dir / MARKER
    if not marker.is_file():
        raise DataError(f"{results_dir}: not a kws-nas results folder (no {MARKER}; `kws-nas search` writes it)")
    try:
        data = json.loads(marker.read_text())
        name, url = data["study_name"], data["storage"]
    except (ValueError, KeyError, TypeError) as err:
        raise DataError(f"{marker}: expected JSON with study_name and storage ({err})") from err
    if url == f"sqlite:///{DB_FILE}":
        url = default_storage_url(results_dir)
    return StudyPlace(name, results_dir, url)


def open_storage(url: str, heartbeat_interval: int = 10, grace_period: int = 30, max_retry: int = 2) -> RDBStorage:
    """An ``RDBStorage`` with heartbeats; an unreachable or unknown URL fails fast with ConfigError."""
    import sqlalchemy.exc

    given = url
    scheme = url.split(":", 1)[0].split("+", 1)[0]
    engine_kwargs: dict = {}
    if scheme == "sqlite":
        engine_kwargs = {"connect_args": {"timeout": 60}}  # wait for a busy writer instead of failing
        db_path = url.removeprefix("sqlite:///")
        if db_path and db_path != ":memory:" and not Path(db_path).parent.is_dir():
            raise ConfigError(f"storage {url}: folder {Path(db_path).parent} does not exist")
    elif scheme == "postgresql":
        engine_kwargs = {"connect_args": {"connect_timeout": 5}, "pool_pre_ping": True}
        if url.startswith("postgresql://"):
            # SQLAlchemy ≥ 2.1 maps a bare postgresql:// to psycopg 3; our dependency is psycopg2.
            url = "postgresql+psycopg2://" + url.removeprefix("postgresql://")
    elif scheme not in ("mysql",):
        raise ConfigError(f"storage {url!r}: expected sqlite:///FILE, postgresql://... or mysql://...")
    attempt = 0
    while True:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            try:
                return RDBStorage(
                    url,
                    engine_kwargs=engine_kwargs,
                    heartbeat_interval=heartbeat_interval,
                    grace_period=grace_period,
                    heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=max_retry),
                )
            except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError) as err:
                # Workers starting together on an empty database race to create Optuna's tables:
                # the loser sees a duplicate; a moment later the tables are there.
                if attempt == TABLE_RACE_RETRIES:
                    raise ConfigError(f"storage {_redact(given)}: cannot create Optuna's tables ({_first_line(err)})") from err
                attempt += 1
                time.sleep(attempt)
            except (sqlalchemy.exc.SQLAlchemyError, ImportError) as err:
                raise ConfigError(f"storage {_redact(given)}: cannot open ({_first_line(err)})") from err


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def open_study(
    place: StudyPlace,
    sampler: optuna.samplers.BaseSampler | None,
    directions: list[str],
    storage: RDBStorage | None = None,
) -> optuna.Study:
    """Create the study, or load it to resume; stale RUNNING trials of dead workers are failed first."""
    storage = storage or open_storage(place.storage_url)
    study = optuna.create_study(
        study_name=place.name, storage=storage, sampler=sampler, directions=directions, load_if_exists=True
    )
    if [d.name.lower() for d in study.directions] != directions:
        raise ConfigError(
            f"study {place.name!r} in {_redact(place.storage_url)} optimises "
            f"{[d.name.lower() for d in study.directions]}, not {directions}: was it made with another board?"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
    return study


def load_study(place: StudyPlace) -> optuna.Study:
    """Open an existing study read-only (for reports).

    Raises:
        DataError: the storage holds no study of that name.
    """
    storage = open_storage(place.storage_url)
    names = [s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)]
    if place.name not in names:
        raise DataError(
            f"{place.results_dir}: storage {_redact(place.storage_url)} holds no study {place.name!r} "
            f"(it holds {names or 'none'}): the folder belongs to a different study"
        )
    return optuna.load_study(study_name=place.name, storage=storage)


# --- counting trials --------------------------------------------------------------------------------

def is_infeasible(trial: FrozenTrial) -> bool:
    return any(v > 0 for v in trial.constraints.values())


def counts_toward_budget(trial: FrozenTrial) -> bool:
    """Whether a finished trial used one of the ``trials`` the user asked for.

    Feasible trials that finished (complete, pruned, or failed in the objective) count; infeasible
    samples cost milliseconds and do not; a trial failed by heartbeat (its worker died) does not either,
    because its retry will run it again.
    """
    if trial.state in (TrialState.COMPLETE, TrialState.PRUNED):
        return not is_infeasible(trial)
    return trial.state == TrialState.FAIL and "fail_reason" in trial.user_attrs


def budget_used(study: optuna.Study) -> tuple[int, int]:
    """(finished trials that count, trials RUNNING now) of the study, across all workers."""
    trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL, TrialState.RUNNING))
    finished = sum(counts_toward_budget(t) for t in trials)
    running = sum(t.state == TrialState.RUNNING for t in trials)
    return finished, running


# --- samplers ---------------------------------------------------------------------------------------

GRID_PARAM = "grid_index"


def _tpe(conf, seed: int, n_grid: int) -> optuna.samplers.BaseSampler:
    # constant_liar: workers sharing a study avoid proposing the same point while others run.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(
            seed=seed, n_startup_trials=conf.n_startup_trials, multivariate=True, group=True, constant_liar=True
        )


def _nsga2(conf, seed: int, n_grid: int) -> optuna.samplers.BaseSampler:
    return optuna.samplers.NSGAIISampler(seed=seed, population_size=conf.population_size)


def _random(conf, seed: int, n_grid: int) -> optuna.samplers.BaseSampler:
    return optuna.samplers.RandomSampler(seed=seed)


def _grid(conf, seed: int, n_grid: int) -> optuna.samplers.BaseSampler:
    # One categorical index over the spec list: GridSampler hands each index out once, also across
    # workers, and stops the study when all are done.
    return optuna.samplers.GridSampler({GRID_PARAM: list(range(n_grid))}, seed=seed)


SAMPLERS: dict[str, Callable] = {"tpe": _tpe, "nsga2": _nsga2, "random": _random, "grid": _grid}


def make_sampler(conf, seed: int, n_grid: int = 0) -> optuna.samplers.BaseSampler:
    """The sampler named by ``conf.name`` (a SamplerConf); ``n_grid``: number of specs for ``grid``."""
    if conf.name not in SAMPLERS:
        raise ConfigError(f"sampler.name: expected one of {sorted(SAMPLERS)}, got {conf.name!r}")
    return SAMPLERS[conf.name](conf, seed, n_grid)


# --- small shared helpers ---------------------------------------------------------------------------

def write_json_atomic(path: Path, data) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def _redact(url: str) -> str:
    """The URL without its password, for messages."""
    if "://" in url and "@" in url.split("://", 1)[1]:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"
    return url
