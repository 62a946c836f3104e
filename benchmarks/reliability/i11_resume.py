"""Issue 11 points 2 and 4, resumes: a rerun with another definition refuses; a rerun after `kill -9`
retries the dead worker's trial at once and trains no candidate twice. Cases for the reliability runner.

Each setup generates a tiny dataset (about a second) and runs a first 1-trial search, so that the
case's argv resumes a study that exists.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

KWS_NAS = [sys.executable, "-m", "nas"]


def _search_args(tmp: Path) -> list[str]:
    return ["search", "search_space=dnn", "constraints=medium", f"data.root={tmp / 'ds'}",
            f"data.cache_dir={tmp / 'cache'}", f"results_dir={tmp / 'results'}", "train.epochs=1",
            "progress=false", "pruner.enabled=false", "retrain.enabled=false"]


def _dataset(tmp: Path) -> None:
    from nas.data.synth import SynthSettings, generate

    generate(tmp / "ds", SynthSettings(seed=0, per_word=6, unknown_per_voice=2, noise_seconds=3.0, workers=1),
             progress=False)


def _first_study(tmp: Path) -> dict:
    _dataset(tmp)
    subprocess.run([*KWS_NAS, *_search_args(tmp), "trials=1"], check=True, capture_output=True, timeout=120)
    return {"ds": str(tmp / "ds")}


def _first_study_and_another_dataset(tmp: Path) -> dict:
    import shutil

    placeholders = _first_study(tmp)
    shutil.copytree(tmp / "ds", tmp / "ds2")
    return placeholders


RESUME = ["search", "search_space=dnn", "constraints=medium", "data.root={ds}", "data.cache_dir={tmp}/cache",
          "results_dir={tmp}/results", "train.epochs=1", "progress=false", "pruner.enabled=false", "trials=2",
          "retrain.enabled=false"]


def _crash_then_rerun(tmp: Path) -> tuple[str, str]:
    """kill -9 a worker mid-trial, rerun at once: 'ok' when the rerun fills the budget with the dead
    trial retried (not left RUNNING) and no candidate trained twice."""
    import optuna
    from optuna.trial import TrialState

    _dataset(tmp)
    argv = [*_search_args(tmp), "trials=2", "train.epochs=150", "train.batch_size=4", "grace_period=600",
            "search_space.n_layers.low=3", "search_space.n_layers.high=3", "search_space.width.low=200",
            "search_space.width.high=220"]
    url = f"sqlite:///{tmp / 'results' / 'dnn_medium' / 'study.db'}"
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    proc = subprocess.Popen([*KWS_NAS, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                trials = optuna.load_study(study_name="dnn_medium", storage=url).get_trials(deepcopy=False)
            except Exception:  # not created yet
                trials = []
            if any(t.state == TrialState.RUNNING and t.user_attrs.get("stage") == "train" for t in trials):
                break
            time.sleep(0.1)
        else:
            return "hang", "no trial reached training within 60 s"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    rerun = subprocess.run([*KWS_NAS, *argv], capture_output=True, text=True, timeout=300)
    if rerun.returncode != 0:
        return ("traceback" if "Traceback" in rerun.stderr else "error"), rerun.stderr.strip()[-300:]
    trials = optuna.load_study(study_name="dnn_medium", storage=url).trials
    running = [t.number for t in trials if t.state == TrialState.RUNNING]
    trained = [tuple(sorted(t.params.items())) for t in trials
               if t.state == TrialState.COMPLETE and "duplicate_of" not in t.user_attrs]  # a repeat trains nothing
    retried = [t.number for t in trials if "failed_trial" in t.system_attrs]
    if running or not retried or len(set(trained)) != len(trained):
        return "silent", f"running {running}, retries {retried}, {len(trained)} trained, {len(set(trained))} distinct"
    return "ok", f"dead trial retried as {retried}; {len(trained)} distinct candidates trained"


CASES = [
    {"name": "resume: another search space range", "argv": [*RESUME, "search_space.width.high=512"],
     "setup": _first_study, "expect": "error"},
    {"name": "resume: another front-end range", "argv": [*RESUME, "search_space.frontend.n_mfcc=[10]"],
     "setup": _first_study, "expect": "error"},
    {"name": "resume: another budget, same study_name",
     "argv": [*RESUME, "constraints.max_memory_bytes=100000"], "setup": _first_study, "expect": "error"},
    {"name": "resume: another dataset", "argv": [*[a for a in RESUME if not a.startswith("data.root=")],
                                                 "data.root={tmp}/ds2"],
     "setup": _first_study_and_another_dataset, "expect": "error"},
    {"name": "resume: another training recipe", "argv": [*RESUME, "train.epochs=2"], "setup": _first_study,
     "expect": "error"},
    {"name": "resume: same settings, more trials", "argv": RESUME, "setup": _first_study, "expect": "ok"},
    {"name": "resume: kill -9 mid-trial, immediate rerun", "run": _crash_then_rerun, "expect": "ok"},
]
