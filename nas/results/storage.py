"""Opening a study's Optuna storage: an ``RDBStorage`` with heartbeats, for the search and the readers.

Storage: an embedded SQLite file (``optuna-dashboard sqlite:///results/ds_cnn_small/study.db`` opens
it), or any SQLAlchemy URL such as ``postgresql://user:pw@host/db`` shared by several workers. A worker
that dies mid-trial leaves a RUNNING trial whose heartbeat stops; the next worker to start a trial marks
it FAIL and re-enqueues its parameters (``RetryHeartbeatStaleTrialCallback``).
"""
from __future__ import annotations

import time
import warnings
from pathlib import Path

import optuna
from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

from nas.errors import ConfigError, DataError
from nas.results.place import DB_FILE, StudyPlace, default_storage_url, redact

TABLE_RACE_RETRIES = 4


def open_storage(url: str, heartbeat_interval: int = 10, grace_period: int = 30, max_retry: int = 2) -> RDBStorage:
    """An ``RDBStorage`` with heartbeats; an unreachable or unknown URL fails fast with ConfigError."""
    import sqlalchemy.exc

    given = url
    scheme = check_storage_url(url)
    engine_kwargs: dict = {}
    if scheme == "sqlite":
        engine_kwargs = {"connect_args": {"timeout": 60}}  # wait for a busy writer instead of failing
    elif scheme == "postgresql":
        engine_kwargs = {"connect_args": {"connect_timeout": 5}, "pool_pre_ping": True}
        if url.startswith("postgresql://"):
            # SQLAlchemy ≥ 2.1 maps a bare postgresql:// to psycopg 3; our dependency is psycopg2.
            url = "postgresql+psycopg2://" + url.removeprefix("postgresql://")
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
                    raise ConfigError(f"storage {redact(given)}: cannot create Optuna's tables ({_first_line(err)})") from err
                attempt += 1
                time.sleep(attempt)
            except (sqlalchemy.exc.SQLAlchemyError, ImportError) as err:
                raise ConfigError(f"storage {redact(given)}: cannot open ({_first_line(err)})") from err


def check_storage_url(url: str) -> str:
    """The URL's scheme (sqlite, postgresql or mysql), without connecting; ConfigError for a URL that
    cannot hold a study: an unknown scheme, an in-memory SQLite database, a file in a missing folder."""
    scheme = url.split(":", 1)[0].split("+", 1)[0]
    if scheme == "sqlite":
        db_path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else ""
        if db_path in ("", ":memory:"):
            raise ConfigError(f"storage {url}: an in-memory database vanishes with this process; expected "
                              f"sqlite:///FILE (or no storage: <results_dir>/<study>/study.db)")
        if not Path(db_path).parent.is_dir():
            raise ConfigError(f"storage {url}: folder {Path(db_path).parent} does not exist")
    elif scheme not in ("postgresql", "mysql"):
        raise ConfigError(f"storage {redact(url)!r}: expected sqlite:///FILE, postgresql://... or mysql://...")
    return scheme


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def study_names(storage: RDBStorage) -> list[str]:
    return [s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)]


def load_study(place: StudyPlace) -> optuna.Study:
    """Open an existing study read-only (for reports).

    Raises:
        DataError: the storage holds no study of that name.
    """
    storage = open_storage(place.storage_url)
    names = study_names(storage)
    if place.name not in names:
        raise DataError(
            f"{place.results_dir}: storage {redact(place.storage_url)} holds no study {place.name!r} "
            f"(it holds {names or 'none'}): the folder belongs to a different study"
        )
    return optuna.load_study(study_name=place.name, storage=storage)


def place_in_db_file(results_dir: str | Path) -> StudyPlace:
    """The one study in ``results_dir/study.db``, for a folder whose ``study.json`` is missing.

    Raises:
        DataError: the file holds no study, or several (their names are listed: which one is meant
            cannot be guessed).
    """
    results_dir = Path(results_dir)
    url = default_storage_url(results_dir)
    names = study_names(open_storage(url))
    if len(names) != 1:
        raise DataError(
            f"{results_dir / DB_FILE}: expected exactly one study, found {sorted(names) or 'none'}; "
            f"without study.json the folder does not say which one it holds"
        )
    return StudyPlace(names[0], results_dir, url)
