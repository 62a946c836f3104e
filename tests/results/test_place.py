"""Study places: storage URLs, the results-folder marker, and a folder claimed by one study only."""
import pytest

from nas.errors import ConfigError, DataError
from nas.results import place as place_mod


def test_default_storage_is_a_sqlite_file_in_the_results_folder(tmp_path):
    place = place_mod.place_for("ds_cnn_small", tmp_path, None)
    assert place.results_dir == tmp_path / "ds_cnn_small"
    assert place.storage_url == f"sqlite:///{tmp_path}/ds_cnn_small/study.db"


@pytest.mark.parametrize("name", ["", "a/b", ".hidden"])
def test_study_name_must_be_a_folder_name(tmp_path, name):
    with pytest.raises(ConfigError, match="study_name"):
        place_mod.place_for(name, tmp_path, None)


def test_marker_is_written_once_and_read_back_relative_to_the_folder(tmp_path):
    place = place_mod.place_for("s", tmp_path, None)
    place_mod.claim_results_dir(place)
    place_mod.claim_results_dir(place)  # same study again: fine (resume)
    moved = tmp_path / "moved"
    place.results_dir.rename(moved)
    assert place_mod.read_marker(moved).storage_url == f"sqlite:///{moved}/study.db"


def test_a_folder_of_another_study_is_refused(tmp_path):
    place_mod.claim_results_dir(place_mod.place_for("s", tmp_path, None))
    other = place_mod.StudyPlace("other", tmp_path / "s", place_mod.default_storage_url(tmp_path / "s"))
    with pytest.raises(ConfigError, match="belongs to study 's'"):
        place_mod.claim_results_dir(other)
    with pytest.raises(ConfigError, match="records storage"):
        place_mod.claim_results_dir(place_mod.StudyPlace("s", tmp_path / "s", "postgresql://u:secret@h/db"))


def test_read_marker_of_a_plain_folder_says_what_is_missing(tmp_path):
    with pytest.raises(DataError, match="not a kws-nas results folder"):
        place_mod.read_marker(tmp_path)
