"""Does the default search beat Hello Edge's configuration? One cell per architecture of a budget class.

Each architecture runs `kws-nas search search_space=ARCH constraints=CLASS` as a user would: the default
sampler, trials, recipe and final retraining (Hello Edge's configuration and the best screened
candidates, the same seeds and recipe), into a temporary folder. The verdict per cell is the report's
(``nas.results.dominance``, written to best.json): the best retrained candidate at most Hello Edge's
memory and ops, Δ accuracy paired by seed, and whether it dominates by at least one point. Closing line:
"dominates k of N cells" (issue 10's bar: 5 of the 7 small cells). Accuracy is on generated speech,
which ranks candidates; it is not a Speech Commands figure.

    .venv/bin/python benchmarks/bench_dominance.py                    # 7 small cells, ≈ 8-10 min each
    .venv/bin/python benchmarks/bench_dominance.py --archs ds_cnn cnn --trials 16
    .venv/bin/python benchmarks/bench_dominance.py data=folder data.root=DIR data.split_test_archive=true
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time

from nas.results.dominance import MARGIN
from nas.search.cli import compose_config
from nas.search.loop import run_search
from nas.spaces.base import ARCH_ORDER


def run_cell(arch: str, budget: str, args, tmp: str) -> dict | None:
    """The cell's verdict from its best.json (None when no retrained comparison exists)."""
    overrides = [f"search_space={arch}", f"constraints={budget}", f"results_dir={tmp}", f"seed={args.seed}",
                 "progress=false", *([f"trials={args.trials}"] if args.trials else []), *args.overrides]
    started = time.perf_counter()
    outcome = run_search(compose_config(overrides))
    best = json.loads((outcome.results_dir / "best.json").read_text())
    verdicts = best.get("dominance") or []
    return {**verdicts[0], "seconds": time.perf_counter() - started} if verdicts else None


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--archs", nargs="+", default=list(ARCH_ORDER), choices=ARCH_ORDER)
    p.add_argument("--budget", default="small", choices=["small", "medium", "large"])
    p.add_argument("--trials", type=int, default=None, help="trained trials per cell (default: the search's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("overrides", nargs="*", help="more search overrides (key=value), e.g. data=folder ...")
    args = p.parse_args()

    print(f"default search vs Hello Edge's configuration, {args.budget} class, cells {args.archs}, "
          f"overrides {args.overrides or 'none'} (generated speech unless data= says otherwise)", flush=True)
    print(f"{'cell':16s} {'searched':>8s} {'Δ acc (points)':>16s} {'memory':>7s} {'ops':>6s} {'dominates':>9s} "
          f"{'≥1 pt':>6s} {'minutes':>7s}", flush=True)
    verdicts = []
    with tempfile.TemporaryDirectory(prefix="bench_dominance_") as tmp:
        for arch in args.archs:
            v = run_cell(arch, args.budget, args, tmp)
            if v is None or v["searched_trial"] is None:
                print(f"{arch + ' ' + args.budget:16s} no searched candidate retrained", flush=True)
                verdicts.append(None)
                continue
            verdicts.append(v)
            print(f"{arch + ' ' + args.budget:16s} {v['searched_trial']:8d} "
                  f"{100 * v['delta_mean']:+7.1f} ± {100 * v['delta_std']:4.1f}  ×{v['memory_ratio']:5.2f} "
                  f"×{v['ops_ratio']:4.2f} {str(v['dominates']):>9s} {str(v['margin_met']):>6s} "
                  f"{v['seconds'] / 60:7.1f}", flush=True)
    k = sum(bool(v and v["margin_met"]) for v in verdicts)
    print(f"\nthe default search dominates Hello Edge's configuration by >= {100 * MARGIN:g} point in {k} of "
          f"{len(verdicts)} cells ({args.budget} class)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
