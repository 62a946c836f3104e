"""Structured pruning of Hello Edge's small DS-CNN to half its channels: board latency and accuracy.

Trains the published small DS-CNN on a generated dataset (``--data``; or loads ``--checkpoint``) and
removes half of every layer's channels (L1 norm of the filters, `nas.prune.channels`). The baseline is
honest: the unpruned model also gets ``--finetune-steps`` more steps on the same schedule, since a
10-epoch model still gains from them (``--baseline-steps 0`` for a checkpoint already fully trained,
such as a study's retrained Hello Edge configuration). The half-channel model is fine-tuned for the same steps
(or ``--retrain-epochs`` of the retraining recipe), distilled from that fine-tuned unpruned model
(the ``teacher`` of `nas.prune.measure.finetune` or `nas.train.train`), and with
``--compare-labels-only`` also on the labels alone. Then both models are converted to int8 and timed on the emulated Cortex-M7
(``mps2_an500``: QEMU instruction counts, the board's own dense int8 kernels). The issue's bar: >= 1.8x
lower latency and <= 1 point accuracy loss after fine-tuning.

    .venv/bin/python benchmarks/bench_prune.py --data data/speech_commands_synth [--epochs 10]
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import statistics
import tempfile
import time
from pathlib import Path

import torch

from nas.board.probe import BoardLatencyProbe
from nas.cost import estimate
from nas.data.cache import load_features
from nas.export.accuracy import convert_trained, load_model
from nas.prune.channels import prune_channels
from nas.prune.measure import finetune
from nas.search.schema import RETRAIN_TRAINING, SEARCH_TRAINING
from nas.spaces import build_model, hello_edge_candidates
from nas.train import evaluate, save_checkpoint, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a generated Speech Commands folder")
    parser.add_argument("--checkpoint", type=Path, default=None, help="a trained small DS-CNN (default: train one)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--finetune-steps", type=int, default=2000)
    parser.add_argument("--finetune-lr", type=float, default=5e-4)
    parser.add_argument("--baseline-steps", type=int, default=None,
                        help="extra steps of the unpruned baseline (default --finetune-steps; 0 for a checkpoint "
                             "already fully trained, e.g. a study's retrained model)")
    parser.add_argument("--retrain-epochs", type=int, default=0,
                        help="instead of --finetune-steps: train the pruned model (and, unless --baseline-steps 0, "
                             "the baseline) this many more epochs with the search's retraining recipe (augmented, "
                             "bf16, cosine; best validation epoch kept)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (default 1: on a shared, loaded 2-core machine two threads took 5x "
                             "the CPU time per step)")
    parser.add_argument("--compare-labels-only", action="store_true",
                        help="also fine-tune the half-channel model on the labels alone (no distillation)")
    parser.add_argument("--scratch-seeds", type=int, default=0,
                        help="also train the half-channel architecture and the unpruned one from scratch with the "
                             "retraining recipe for --epochs + --retrain-epochs epochs, seeds 0..N-1: the accuracy "
                             "a half-width model reaches at all, whatever pruning method made it")
    parser.add_argument("--seeds", type=int, default=1,
                        help="repeat the baseline's and the pruned model's extra training with seeds 0..N-1 "
                             "(one 360-clip split moves ~1.6 points per run: compare means)")
    parser.add_argument("--board", default="mps2_an500")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "kws_bench_prune")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)

    if args.checkpoint:
        model, candidate = load_model(args.checkpoint)
    else:
        (_, candidate), = [(m, c) for m, c in hello_edge_candidates("ds_cnn") if m.budget == "small"]
        model = build_model(candidate)
    sets = {s: load_features(args.data, candidate.frontend, s) for s in ("train", "validation", "test")}
    if not args.checkpoint:
        start = time.perf_counter()
        result = train(model, sets["train"], sets["validation"], dataclasses.replace(SEARCH_TRAINING, epochs=args.epochs))
        model.load_state_dict(result.best_state_dict)
        save_checkpoint(args.out / "model.pt", model, candidate.to_dict(), {})
        print(f"trained {candidate.describe()} for {len(result.history)} epochs in {time.perf_counter() - start:.0f} s "
              f"→ {args.out / 'model.pt'}")
    model.eval()
    steps = args.finetune_steps

    def accuracy(m) -> str:
        return " / ".join(f"{100 * evaluate(m, sets[split])['accuracy']:.2f} %" for split in ("test", "validation"))

    def tuned(m, teacher=None, steps=steps, seed=0):
        if args.retrain_epochs:
            recipe = dataclasses.replace(RETRAIN_TRAINING, epochs=args.retrain_epochs, seed=seed)
            m.load_state_dict(train(m, sets["train"], sets["validation"], recipe, teacher=teacher).best_state_dict)
            m.eval()
        else:
            finetune(m, sets["train"], steps, lr=args.finetune_lr, teacher=teacher, seed=seed)
        return {split: 100 * evaluate(m, sets[split])["accuracy"] for split in ("test", "validation")}

    def mean_std(runs) -> str:
        return " / ".join(f"{statistics.mean(r[s] for r in runs):.2f}"
                          + (f" ± {statistics.stdev(r[s] for r in runs):.2f}" if len(runs) > 1 else "") + " %"
                          for s in ("test", "validation"))

    extra = f"{args.retrain_epochs} epochs of the retraining recipe" if args.retrain_epochs else f"{steps} steps"
    seeds = range(args.seeds)
    print(f"accuracy, test ({len(sets['test'].labels)} clips) / validation ({len(sets['validation'].labels)} clips)"
          f", seeds {seeds.start}-{seeds.stop - 1} (mean ± std over seeds):")
    print(f"  unpruned as trained: {accuracy(model)}")
    small, smaller = prune_channels(candidate, model, 0.5, "l1", "layer")
    print(f"  half channels, just pruned: {accuracy(small)}")
    baseline_steps = steps if args.baseline_steps is None else args.baseline_steps
    arms = {"baseline": [], "labels": [], "distilled": []}
    for seed in seeds:
        start = time.perf_counter()
        baseline = copy.deepcopy(model)
        arms["baseline"].append(tuned(baseline, steps=baseline_steps, seed=seed) if baseline_steps
                                else {s: 100 * evaluate(baseline, sets[s])["accuracy"] for s in ("test", "validation")})
        if args.compare_labels_only:
            arms["labels"].append(tuned(copy.deepcopy(small), seed=seed))
        pruned = copy.deepcopy(small)
        arms["distilled"].append(tuned(pruned, teacher=baseline, seed=seed))
        print(f"  seed {seed}: " + "; ".join(f"{name} {mean_std(runs[-1:])}" for name, runs in arms.items() if runs)
              + f" ({time.perf_counter() - start:.0f} s)")
    if baseline_steps:
        print(f"  unpruned + {extra if args.retrain_epochs else f'{baseline_steps} steps'} (the baseline): "
              f"{mean_std(arms['baseline'])}")
    if args.compare_labels_only:
        print(f"  half channels + {extra} on the labels: {mean_std(arms['labels'])}")
    print(f"  half channels + {extra} distilled from the baseline: {mean_std(arms['distilled'])}")
    loss = {s: statistics.mean(r[s] for r in arms["baseline"]) - statistics.mean(r[s] for r in arms["distilled"])
            for s in ("test", "validation")}
    small = pruned
    print(f"{candidate.describe()} → {smaller.describe()}")
    if args.scratch_seeds:
        epochs = args.epochs + args.retrain_epochs
        for name, c in (("unpruned", candidate), ("half channels", smaller)):
            runs = []
            for seed in range(args.scratch_seeds):
                m = build_model(c, seed=seed)
                train(m, sets["train"], sets["validation"], dataclasses.replace(RETRAIN_TRAINING, epochs=epochs, seed=seed))
                runs.append({split: 100 * evaluate(m.eval(), sets[split])["accuracy"] for split in ("test", "validation")})
            print(f"  {name} from scratch, {epochs} epochs of the retraining recipe, seeds 0-{args.scratch_seeds - 1}: "
                  f"{mean_std(runs)}")
    print(f"MACs {estimate(candidate).macs} → {estimate(smaller).macs}; params {estimate(candidate).params} → "
          f"{estimate(smaller).params}; int8 flash (cost model) {estimate(candidate).flash_bytes} → "
          f"{estimate(smaller).flash_bytes} bytes")

    probe = BoardLatencyProbe(args.board)
    try:
        timings = {}
        for name, m, c in (("unpruned", baseline, candidate), ("half channels", small, smaller)):
            ms = probe.measure(convert_trained(m, c, sets["train"]))
            meas = probe.last_measurement
            timings[name] = ms
            print(f"{args.board} {name}: {meas.stages['network']} {meas.unit} → {ms:.3f} ms")
    finally:
        probe.close()
    print(f"board latency ratio (unpruned / half channels): {timings['unpruned'] / timings['half channels']:.2f}x "
          f"(bar >= 1.8x); accuracy loss vs the baseline {loss['test']:+.2f} points on test, "
          f"{loss['validation']:+.2f} on validation (bar <= 1)")


if __name__ == "__main__":
    main()
