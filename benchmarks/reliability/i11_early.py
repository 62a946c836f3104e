"""Issue 11 points 1 and 3: a search that cannot work stops before its first trial with one line and a
non-zero exit; config values that make no sense are refused at start. Cases for the reliability runner.

Setups that need a dataset generate a tiny one (about a second); the argv of a refused case would
otherwise start a search, so a case that is not refused runs past the runner's timeout or trains.
"""
from __future__ import annotations

from pathlib import Path


def _dataset(tmp: Path) -> dict:
    from nas.data.synth import SynthSettings, generate

    generate(tmp / "ds", SynthSettings(seed=0, per_word=6, unknown_per_voice=2, noise_seconds=3.0, workers=1),
             progress=False)
    return {"ds": str(tmp / "ds")}


def _empty_class_folder(tmp: Path) -> dict:
    placeholders = _dataset(tmp)
    (tmp / "ds" / "happy").mkdir()
    return placeholders


def _corrupt_wav(tmp: Path) -> dict:
    placeholders = _dataset(tmp)
    sorted((tmp / "ds" / "yes").glob("*.wav"))[0].write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    return placeholders


def _results_dir_is_a_file(tmp: Path) -> dict:
    (tmp / "results").write_text("not a folder")
    return {}


def _checkpoint_folder_blocked(tmp: Path) -> dict:
    """Every trained trial fails as it saves its checkpoint: the run must exit non-zero."""
    placeholders = _dataset(tmp)
    (tmp / "results" / "dnn_medium").mkdir(parents=True)
    (tmp / "results" / "dnn_medium" / "trials").write_text("in the way")
    return placeholders


def _tiny_search(*extra: str, data: str = "{ds}") -> list[str]:
    return ["search", "search_space=dnn", "constraints=medium", "trials=1", "train.epochs=1", "progress=false",
            "retrain.enabled=false",
            f"data.root={data}", "data.cache_dir={tmp}/cache", "results_dir={tmp}/results", *extra]


CASES = [
    {"name": "search: data.root is a missing folder", "argv": _tiny_search(data="{tmp}/nowhere"),
     "setup": None, "expect": "error"},
    {"name": "search: dataset with an empty class folder", "argv": _tiny_search(), "setup": _empty_class_folder,
     "expect": "error"},
    {"name": "search: dataset with a corrupt wav", "argv": _tiny_search(), "setup": _corrupt_wav, "expect": "error"},
    {"name": "search: every trial fails (checkpoint folder blocked)", "argv": _tiny_search("trials=2"),
     "setup": _checkpoint_folder_blocked, "expect": "error"},
    {"name": "search: trials=-1", "argv": _tiny_search("trials=-1", data="{tmp}/unused"), "setup": None,
     "expect": "error"},
    {"name": "search: trials=0", "argv": _tiny_search("trials=0", data="{tmp}/unused"), "setup": None,
     "expect": "error"},
    {"name": "search: timeout=0", "argv": _tiny_search("timeout=0", data="{tmp}/unused"), "setup": None,
     "expect": "error"},
    {"name": "search: timeout=-5", "argv": _tiny_search("timeout=-5", data="{tmp}/unused"), "setup": None,
     "expect": "error"},
    {"name": "search: max_rejected_in_a_row=0", "argv": _tiny_search("max_rejected_in_a_row=0", data="{tmp}/unused"),
     "setup": None, "expect": "error"},
    {"name": "search: storage=sqlite:// (in memory)", "argv": _tiny_search("storage=sqlite://", data="{tmp}/unused"),
     "setup": None, "expect": "error"},
    {"name": "search: results_dir is a file", "argv": _tiny_search(data="{tmp}/unused"),
     "setup": _results_dir_is_a_file, "expect": "error"},
    {"name": "search: data=folder without data.root", "argv": ["search", "data=folder", "results_dir={tmp}/results"],
     "setup": None, "expect": "error"},
    {"name": "search: budget below every candidate (100 B)",
     "argv": ["search", "search_space=ds_cnn", "constraints.max_memory_bytes=100", "results_dir={tmp}/results",
              "data.root={tmp}/unused"], "setup": None, "expect": "error"},
    {"name": "search: a tiny search that works", "argv": _tiny_search(), "setup": _dataset, "expect": "ok"},
]
