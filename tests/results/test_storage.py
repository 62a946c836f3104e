"""Opening a study's storage: clear errors for a missing study, an unreachable server or a bad URL,
and the one study of a folder that holds only study.db."""
import time

import optuna
import pytest

from nas.errors import ConfigError, DataError
from nas.results.place import claim_results_dir, place_for
from nas.results import storage as storage_mod


def test_load_study_of_a_folder_whose_storage_lacks_the_study(tmp_path):
    place = place_for("s", tmp_path, None)
    claim_results_dir(place)
    optuna.create_study(study_name="someone_else", storage=place.storage_url)
    with pytest.raises(DataError, match="different study"):
        storage_mod.load_study(place)


def test_unreachable_postgres_fails_fast_with_a_clear_error():
    started = time.monotonic()
    with pytest.raises(ConfigError, match=r"storage postgresql://kws:\*\*\*@127.0.0.1:1/x: cannot open \(.*(refused|connect)"):
        storage_mod.open_storage("postgresql://kws:pw@127.0.0.1:1/x")
    assert time.monotonic() - started < 10


def test_unknown_storage_scheme_and_missing_folder(tmp_path):
    with pytest.raises(ConfigError, match="expected sqlite"):
        storage_mod.open_storage("redis://localhost")
    with pytest.raises(ConfigError, match="does not exist"):
        storage_mod.open_storage(f"sqlite:///{tmp_path}/nope/study.db")


def test_the_one_study_of_a_folder_with_only_study_db(tmp_path):
    url = f"sqlite:///{tmp_path}/study.db"
    optuna.create_study(study_name="dnn_small", storage=url)
    place = storage_mod.place_in_db_file(tmp_path)
    assert (place.name, place.results_dir, place.storage_url) == ("dnn_small", tmp_path, url)
    empty = tmp_path / "empty"
    empty.mkdir()
    storage_mod.open_storage(f"sqlite:///{empty}/study.db")  # Optuna's tables, no study
    with pytest.raises(DataError, match="expected exactly one study, found none"):
        storage_mod.place_in_db_file(empty)
