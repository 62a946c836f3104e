"""Issue 11 points 3 and 4, the last two cases: a budget that only the space's cheapest candidates
show to be impossible is refused in seconds, and a candidate proposed again is not trained again.
Cases for the reliability runner.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

KWS_NAS = [sys.executable, "-m", "nas"]
REFUSAL_SECONDS = 30  # the old rejected-samples guard took 183-214 s to give up


def _budget_between_floor_and_least_cost(tmp: Path) -> tuple[str, str]:
    """800 B: above the old bound (input + output layer, 168 B for DS-CNN), below its least, 940 B (900 B at 0.1 KB)."""
    argv = ["search", "search_space=ds_cnn", "constraints.max_memory_bytes=800", f"results_dir={tmp / 'results'}",
            f"data.root={tmp / 'unused'}"]
    started = time.monotonic()
    try:
        done = subprocess.run([*KWS_NAS, *argv], cwd=tmp, capture_output=True, text=True, timeout=REFUSAL_SECONDS,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return "hang", f"not refused within {REFUSAL_SECONDS} s"
    last = (done.stderr.strip().splitlines() or [""])[-1]
    if "Traceback (most recent call last)" in done.stderr:
        return "traceback", last
    if done.returncode == 0 or "no candidate of search_space=ds_cnn can meet it" not in last:
        return "silent", f"exit {done.returncode}: {last}"
    return "error", f"{time.monotonic() - started:.1f} s: {last}"


def _dataset(tmp: Path) -> None:
    from nas.data.synth import SynthSettings, generate

    generate(tmp / "ds", SynthSettings(seed=0, per_word=6, unknown_per_voice=2, noise_seconds=3.0, workers=1),
             progress=False)


def _candidate_proposed_again(tmp: Path) -> tuple[str, str]:
    """A 1-trial study, then its trained candidate queued again and a rerun to 2 trials: 'ok' when the
    repeat reports the first training (``duplicate_of``) and a fresh candidate trains for the budget."""
    import optuna
    from optuna.trial import TrialState

    _dataset(tmp)
    argv = ["search", "search_space=dnn", "constraints=medium", f"data.root={tmp / 'ds'}",
            f"data.cache_dir={tmp / 'cache'}", f"results_dir={tmp / 'results'}", "train.epochs=1",
            "progress=false", "pruner.enabled=false", "retrain.enabled=false"]
    subprocess.run([*KWS_NAS, *argv, "trials=1"], check=True, capture_output=True, timeout=120)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    url = f"sqlite:///{tmp / 'results' / 'dnn_medium' / 'study.db'}"
    study = optuna.load_study(study_name="dnn_medium", storage=url)
    study.enqueue_trial(study.trials[0].params)  # what a seeded sampler re-proposing it amounts to
    rerun = subprocess.run([*KWS_NAS, *argv, "trials=2"], capture_output=True, text=True, timeout=300)
    if rerun.returncode != 0:
        return ("traceback" if "Traceback" in rerun.stderr else "error"), rerun.stderr.strip()[-300:]
    trials = optuna.load_study(study_name="dnn_medium", storage=url).trials
    repeats = [t.number for t in trials if t.user_attrs.get("duplicate_of") == 0]
    trained = [t.number for t in trials if t.state == TrialState.COMPLETE and t.user_attrs.get("feasible")
               and "duplicate_of" not in t.user_attrs]
    checkpoints = sorted(p.parent.name for p in (tmp / "results" / "dnn_medium" / "trials").glob("*/model.pt"))
    closing = next((line for line in rerun.stdout.splitlines() if "the study holds" in line), "")
    if len(repeats) != 1 or len(trained) != 2 or checkpoints != sorted(str(n) for n in trained):
        return "silent", f"repeats {repeats}, trained {trained}, checkpoints {checkpoints}"
    return "ok", f"trial {repeats[0]} repeats trial 0, not retrained; {closing.strip()}"


CASES = [
    {"name": "search: budget between the old cost floor and the least cost (ds_cnn, 800 B)",
     "run": _budget_between_floor_and_least_cost, "expect": "error"},
    {"name": "search: a trained candidate proposed again", "run": _candidate_proposed_again, "expect": "ok"},
]
