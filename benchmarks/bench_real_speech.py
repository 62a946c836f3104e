"""Honest accuracy: a model trained on generated speech only, scored on real people's clips.

Takes the best feasible candidate of a search (``--results results/ds_cnn_small``, the demo's study),
or Hello Edge's small DS-CNN when no search has run, retrains it from scratch on the default generated
dataset once per ``--seeds`` seed, and prints the mean ± std over seeds of its accuracy on the generated
test split and on the real Speech Commands v0.02 test clips beside the repository
(``../shared/data/speech_commands_test_v2_half_a``, or ``KWS_NAS_REAL_DATA``; development and CI machines
only), the real clips' per-class recall (mean over seeds) and their confusion matrix (summed over seeds).

Then the recipe's model: one student per seed, distilled (``nas.train.ensemble``) from the ensemble of
every seed's model above and of the ``--teachers`` (Hello Edge's medium GRU by default: the same recipe
and seeds, trained on the labels too), which is right on people more often than any one of them; models
of other architectures err on other clips, so they add more to it than more seeds of the same one. The
students mix pairs of clips (mixup; the teacher scores the mixed clip) and train ``--student-epochs``
(30) epochs. The ensemble's own accuracy is printed too. ``--no-distill`` skips it.

Then, with the first seed, the same recipe without distillation per synthesizer engine of the generated
set: trained on the voices of every other engine, scored on every clip of that engine's voices (*held out
by engine*).
Generated-speech figures rank recipes; only the real clips say how a model does on people.

``--parallel 2`` runs two trainings at a time, each in its own process with one torch thread (how the
README's screens ran). A thread count changes the order of float sums, so its figures differ from a
default run's by up to a few points per seed; each is reproducible with the same thread count.

    .venv/bin/python benchmarks/bench_real_speech.py [--results DIR] [--epochs 30] [--student-epochs 30]
        [--seeds 0 1 2] [--decimation 2]
        [--parallel 2] [--no-distill] [--teachers gru_medium crnn_small ...]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from functools import partial
from multiprocessing import get_context
from pathlib import Path

from nas.data.cache import FeatureSet, load_features
from nas.data.frontend_config import FrontEndConfig
from nas.data.speech_commands import LABELS
from nas.data.synth import MANIFEST, ensure_default_dataset
from nas.spaces import Candidate, build_model, candidate_from_model_size_info
from nas.spaces.hello_edge import HELLO_EDGE_BEST
from nas.train import Ensemble, TrainConfig, evaluate, train

REPO = Path(__file__).resolve().parents[1]
REAL_DATA = Path(os.environ.get("KWS_NAS_REAL_DATA", REPO.parent / "shared/data/speech_commands_test_v2_half_a"))
HELLO_EDGE_SMALL_DS_CNN = [5, 64, 10, 4, 2, 2, 64, 3, 3, 1, 1, 64, 3, 3, 1, 1, 64, 3, 3, 1, 1, 64, 3, 3, 1, 1]


def best_candidate(results: Path | None, budget_class: str) -> tuple[Candidate, str]:
    best_file = results / "best.json" if results else None
    if best_file and best_file.is_file():
        entry = json.loads(best_file.read_text())["classes"].get(budget_class)
        if entry and entry.get("candidate"):
            return Candidate.from_dict(entry["candidate"]), f"{results.name} trial {entry['trial']}"
    return (candidate_from_model_size_info("ds_cnn", HELLO_EDGE_SMALL_DS_CNN, FrontEndConfig()),
            "Hello Edge small DS-CNN (no search results given)")


# Hello Edge models (``<arch>_<budget>``) whose seeds join the ensemble the students learn from.
TEACHERS = ("gru_medium",)


def recipe(epochs: int, seed: int, mixup: bool = False) -> TrainConfig:
    """The default recipe of this benchmark (the one every screened generator variant is trained with);
    a distilled student also mixes its clips (``mixup``: the teacher scores the mixed clip)."""
    return TrainConfig(epochs=epochs, schedule="cosine", lr_phases=(3e-3, 1e-4), seed=seed,
                       early_stopping_patience=None, label_smoothing=0.1,
                       time_shift_frames=5, time_mask_frames=4, freq_mask_bins=2, distill_alpha=0.9,
                       mixup_alpha=0.4 if mixup else 0.0)


def teacher_candidate(name: str, front_end: FrontEndConfig) -> Candidate:
    """Hello Edge's ``<arch>_<budget>`` model on the benchmark's front end (its features feed every model)."""
    published = {f"{m.arch}_{m.budget}": m for m in HELLO_EDGE_BEST}
    if name not in published:
        raise SystemExit(f"--teachers: unknown model {name!r}; expected one of {', '.join(published)}")
    return candidate_from_model_size_info(published[name].arch, published[name].model_size_info, front_end)


def subset(features: FeatureSet, keep) -> FeatureSet:
    """The rows of ``features`` whose file ``keep(file)`` accepts."""
    import torch

    rows = torch.tensor([i for i, f in enumerate(features.files) if keep(f)], dtype=torch.int64)
    return replace(features, features=features.features[rows], labels=features.labels[rows],
                   files=[features.files[i] for i in rows.tolist()])


def scored_run(job: tuple, threads: int | None = None) -> tuple[dict[str, dict], float, dict]:
    """One training of ``candidate`` (distilled from the ensemble of the ``teachers``' (candidate, weights),
    when given) and its scores on each named test set, with its run time and its trained weights."""
    candidate, train_set, val_set, tests, epochs, seed, teachers = job
    started = time.perf_counter()
    model = build_model(candidate, seed=seed)
    teacher = ensemble_of(teachers) if teachers else None
    train(model, train_set, val_set, replace(recipe(epochs, seed, mixup=teacher is not None), num_threads=threads),
          teacher=teacher)
    return ({name: evaluate(model, test) for name, test in tests.items()}, time.perf_counter() - started,
            model.state_dict())


def ensemble_of(models: list[tuple[Candidate, dict]]) -> Ensemble:
    members = [build_model(candidate, seed=0) for candidate, _ in models]
    for member, (_, state) in zip(members, models):
        member.load_state_dict(state)
    return Ensemble(members)


def scored_runs(jobs: list[tuple], parallel: int):
    """``scored_run`` of each job, in order; ``parallel`` > 1 runs that many at a time in spawned processes,
    one torch thread each."""
    if parallel <= 1:
        yield from map(scored_run, jobs)
        return
    with ProcessPoolExecutor(parallel, mp_context=get_context("spawn")) as pool:
        yield from pool.map(partial(scored_run, threads=1), jobs)


def seed_runs(title: str, seeds: list[int], jobs: list[tuple], args) -> list[tuple]:
    """Runs one job per seed, prints each and then the mean ± std over seeds; with real clips also their
    per-class recall (mean over seeds) and confusion matrix (summed over seeds)."""
    import pandas as pd

    print(f"{title}:")
    runs = []
    for seed, job, run in zip(seeds, jobs, scored_runs(jobs, args.parallel)):
        runs.append(run)
        scores, seconds, _ = run
        line = f"  seed {seed}: generated test {scores['generated']['accuracy']:.3f}"
        print(line + (f", REAL {scores['real']['accuracy']:.3f}" if "real" in scores else "")
              + f"  ({job[4]} epochs, {seconds:.0f} s)", flush=True)
    scored = [scores for scores, _, _ in runs]
    print(f"  generated speech, test split (voices unseen in training), {len(seeds)} seeds: "
          f"{mean_std([s['generated']['accuracy'] for s in scored])}  [ranks recipes; says little about people]")
    if "real" not in scored[0]:
        print(f"  real clips not found at {REAL_DATA} (set KWS_NAS_REAL_DATA): no real-speech figure")
        return runs
    real = [s["real"] for s in scored]
    print(f"  REAL speech, Speech Commands v0.02 test half ({sum(map(sum, real[0]['confusion'])):,} clips, 120 "
          f"speakers), {len(seeds)} seeds: accuracy {mean_std([r['accuracy'] for r in real])} (chance 1/12 = 0.083)")
    recall = {label: statistics.mean(r["per_class"][label] for r in real) for label in LABELS}
    print("  per-class recall (mean over seeds): " + ", ".join(f"{k} {v:.2f}" for k, v in recall.items()))
    print("  confusion on the real clips, summed over seeds (rows: true class, columns: predicted):")
    confusion = [[sum(cells) for cells in zip(*rows)] for rows in zip(*(r["confusion"] for r in real))]
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(pd.DataFrame(confusion, index=LABELS, columns=[c.strip("_")[:5] for c in LABELS]))
    return runs


def mean_std(values: list[float]) -> str:
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} ± {spread:.3f}"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--results", type=Path, default=REPO / "results/ds_cnn_small")
    p.add_argument("--budget-class", default="small")
    p.add_argument("--epochs", type=int, default=30, help="epochs of every training on the labels")
    p.add_argument("--student-epochs", type=int, default=30,
                   help="epochs of the distilled students (60 for the README's round 11; not shown to help)")
    p.add_argument("--augment-copies", type=int, default=0)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--data", type=Path, help="a generated set (kws-nas data synth --out) instead of the default")
    p.add_argument("--no-held-out-engines", action="store_true", help="skip the held-out-engine runs")
    p.add_argument("--decimation", type=int, choices=[1, 2],
                   help="the front end's decimation (FrontEndConfig.decimation), instead of the candidate's")
    p.add_argument("--parallel", type=int, default=1, help="trainings at a time, one torch thread each")
    p.add_argument("--no-distill", action="store_true",
                   help="skip the teachers and the students distilled from their ensemble")
    p.add_argument("--teachers", nargs="*", default=list(TEACHERS), metavar="ARCH_BUDGET",
                   help=f"Hello Edge models trained beside the seeds for the ensemble (default: {' '.join(TEACHERS)})")
    args = p.parse_args()

    started = time.perf_counter()
    candidate, origin = best_candidate(args.results, args.budget_class)
    if args.decimation is not None:
        candidate = replace(candidate, frontend=replace(candidate.frontend, decimation=args.decimation))
    print(f"model: {candidate.describe()}  ({origin})")
    generated = args.data or ensure_default_dataset()
    front_end = candidate.frontend
    splits = {s: load_features(generated, front_end, s, augment_copies=args.augment_copies if s == "train" else 0,
                               seed=args.seeds[0], progress=False) for s in ("train", "validation", "test")}
    real = load_features(REAL_DATA, front_end, "test", progress=False) if REAL_DATA.is_dir() else None
    print(f"generated set {generated}: {len(splits['train'].labels):,} train rows ({args.augment_copies} "
          f"augmented copies), {len(splits['validation'].labels)} validation, {len(splits['test'].labels)} test clips")

    others = {name: teacher_candidate(name, front_end) for name in args.teachers}  # a bad name fails before training
    tests = {"generated": splits["test"]} | ({"real": real} if real is not None else {})
    jobs = [(candidate, splits["train"], splits["validation"], tests, args.epochs, seed, None) for seed in args.seeds]
    runs = seed_runs("trained on the labels", args.seeds, jobs, args)
    if not args.no_distill:
        teachers = [(candidate, weights) for _, _, weights in runs]
        for name, other in others.items():
            other_jobs = [(other, *job[1:]) for job in jobs]
            teachers += [(other, weights) for _, _, weights in
                         seed_runs(f"teacher {name} ({other.describe()}), trained on the labels", args.seeds,
                                   other_jobs, args)]
        ensemble = ensemble_of(teachers)
        print(f"ensemble of the {len(teachers)} models above (mean probability): " + ", ".join(
            f"{name} {evaluate(ensemble, test)['accuracy']:.3f}" for name, test in tests.items()))
        jobs = [job[:4] + (args.student_epochs, job[5], teachers) for job in jobs]
        distilled = recipe(1, 0, mixup=True)
        seed_runs(f"distilled from that ensemble (alpha {distilled.distill_alpha}, temperature "
                  f"{distilled.distill_temperature:g}, mixup {distilled.mixup_alpha}, {args.student_epochs} epochs): "
                  "the recipe's model", args.seeds, jobs, args)

    if not args.no_held_out_engines:
        held_out_engines(generated, splits, candidate, args.epochs, args.seeds[0], front_end, args.parallel)
    print(f"total run time {time.perf_counter() - started:.0f} s")
    return 0


def held_out_engines(generated: Path, splits: dict, candidate: Candidate, epochs: int, seed: int,
                     front_end: FrontEndConfig, parallel: int) -> None:
    """Accuracy on each engine's voices (all their clips) after training on the other engines' voices."""
    import torch

    voices = json.loads((generated / MANIFEST).read_text())["voices"]
    engine_of = {v["hash"]: v["engine"] for v in voices}
    engines = sorted(set(engine_of.values()))
    if len(engines) < 2:
        print(f"held out by engine: the generated set has one engine ({engines}), nothing to hold out")
        return
    clean_train = load_features(generated, front_end, "train", progress=False)
    every_clip = replace(clean_train, features=torch.cat([clean_train.features, splits["validation"].features,
                                                          splits["test"].features]),
                         labels=torch.cat([clean_train.labels, splits["validation"].labels, splits["test"].labels]),
                         files=clean_train.files + splits["validation"].files + splits["test"].files)

    def engine(file: str) -> str | None:
        """The engine of a voice's clip; None for a `_silence_` row (noise, no voice: trained on always)."""
        return engine_of.get(Path(file).name.split("_nohash_")[0])

    jobs = [(candidate, subset(splits["train"], lambda f: engine(f) != held),
             subset(splits["validation"], lambda f: engine(f) != held),
             {"held": subset(every_clip, lambda f: engine(f) == held)}, epochs, seed, None) for held in engines]
    for held, job, (scores, seconds, _) in zip(engines, jobs, scored_runs(jobs, parallel)):
        voices_held = sum(1 for v in voices if v["engine"] == held)
        print(f"held out by engine: {held} ({voices_held} voices, {len(job[3]['held'].labels)} clips), trained on "
              f"{', '.join(e for e in engines if e != held)}: accuracy {scores['held']['accuracy']:.3f} "
              f"(seed {seed}, {seconds:.0f} s)", flush=True)


if __name__ == "__main__":
    sys.exit(main())
