"""Where a study lives: its results folder, the folder's ``study.json`` marker and its storage URL.

Every results folder holds ``study.json`` naming its study and storage, so ``kws-nas report DIR`` finds
the storage from the folder alone, and a folder is never silently shared by two studies. The default
storage is an embedded SQLite file ``<results>/<study>/study.db``, recorded relative to the folder so
that the folder can move.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from nas.atomic import write_json_atomic
from nas.errors import ConfigError, DataError

MARKER = "study.json"
DB_FILE = "study.db"
RELATIVE_DB_URL = f"sqlite:///{DB_FILE}"  # how the marker records the default storage


@dataclass(frozen=True)
class StudyPlace:
    """Where a study lives: its name, its results folder and its storage URL."""

    name: str
    results_dir: Path
    storage_url: str


def default_storage_url(results_dir: Path) -> str:
    return f"sqlite:///{Path(results_dir) / DB_FILE}"


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
            f"results folder {place.results_dir} records storage {redact(recorded.storage_url)}, "
            f"not {redact(place.storage_url)}: pass storage={redact(recorded.storage_url)} to resume it"
        )
    return True


def claim_results_dir(place: StudyPlace) -> None:
    """Create the results folder and its marker, or check that it already belongs to this study."""
    if check_results_dir(place):
        return
    place.results_dir.mkdir(parents=True, exist_ok=True)
    url = place.storage_url
    if url == default_storage_url(place.results_dir):
        url = RELATIVE_DB_URL
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
    if url == RELATIVE_DB_URL:
        url = default_storage_url(results_dir)
    return StudyPlace(name, results_dir, url)


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    if "://" in url and "@" in url.split("://", 1)[1]:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"
    return url
