"""`kws-nas dashboard`: the storage of each kind of results folder, a real server that answers and stops on
Ctrl-C, and one clear line for a folder it cannot open."""
import json
import signal
import subprocess
import sys
import urllib.request

import optuna
import pytest

from nas.cli import main
from nas.report.dashboard_cli import storage_url_for
from nas.errors import DataError

PG = "postgresql://u:p@db/kws"


def _marker(folder, name, storage):
    folder.mkdir(parents=True)
    (folder / "study.json").write_text(json.dumps({"study_name": name, "storage": storage}))
    return folder


def test_each_kind_of_results_folder_gives_its_storage(tmp_path):
    assert storage_url_for(_marker(tmp_path / "a", "a", "sqlite:///study.db")) == f"sqlite:///{tmp_path / 'a' / 'study.db'}"
    (tmp_path / "copied").mkdir()
    (tmp_path / "copied" / "study.db").touch()
    assert storage_url_for(tmp_path / "copied") == f"sqlite:///{tmp_path / 'copied' / 'study.db'}"
    multirun = tmp_path / "multirun"
    for cell in ("dnn_small", "cnn_small"):
        _marker(multirun / cell, cell, PG)
    assert storage_url_for(multirun) == PG  # every cell on one server: one dashboard shows them all


def test_a_multirun_with_one_sqlite_file_per_study_names_a_study_folder_to_open(tmp_path):
    for cell in ("dnn_small", "cnn_small"):
        _marker(tmp_path / cell, cell, "sqlite:///study.db")
    with pytest.raises(DataError, match=r"2 studies live in 2 storages .* kws-nas dashboard .*cnn_small"):
        storage_url_for(tmp_path)


@pytest.mark.parametrize("make, expected", [
    (lambda tmp: tmp / "missing", "no such folder"),
    (lambda tmp: tmp, "not a kws-nas results folder"),
])
def test_a_folder_it_cannot_open_is_one_line(tmp_path, capsys, make, expected):
    assert main(["dashboard", str(make(tmp_path))]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kws-nas dashboard: error: ") and expected in err and len(err.strip().splitlines()) == 1


def test_the_server_shows_the_study_and_stops_cleanly_on_ctrl_c(tmp_path):
    folder = _marker(tmp_path / "dnn_small", "dnn_small", "sqlite:///study.db")
    study = optuna.create_study(study_name="dnn_small", storage=f"sqlite:///{folder / 'study.db'}")
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    # started as a shell starts a background job (`kws-nas dashboard DIR &`): with SIGINT ignored
    proc = subprocess.Popen([sys.executable, "-m", "nas", "dashboard", str(folder), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        first = proc.stdout.readline()
        assert "http://127.0.0.1:" in first, proc.stderr.read() if proc.poll() is not None else first
        url = first.split(" at ", 1)[1].split()[0]
        with urllib.request.urlopen(url + "api/studies", timeout=30) as answer:
            studies = json.load(answer)["study_summaries"]
        assert [s["study_name"] for s in studies] == ["dnn_small"]
        with urllib.request.urlopen(f"{url}api/studies/{studies[0]['study_id']}", timeout=30) as answer:
            assert len(json.load(answer)["trials"]) == 3
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
        assert proc.stdout.read().strip() == "kws-nas dashboard: stopped"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
