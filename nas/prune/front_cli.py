"""`kws-nas prune RESULTS_DIR --front`: width against structured pruning on a budget class's front.

Takes the ``--front-top`` most accurate trials of the class's feasible Pareto front, runs both arms of
`nas.prune.front` (each searched model fine-tuned ``--finetune-steps`` more; each pruned by every
``--front-ratios`` and fine-tuned as long, distilled from it), and writes ``front.csv`` and the
``prune_front`` figure. It prints the hypervolume of each arm's front and of their union, and which
arm gave the better front.
"""
from __future__ import annotations

from pathlib import Path

from nas.errors import ConfigError


def front_trials(results, budget_class: str) -> list:
    """The class's feasible front trials with a checkpoint, most accurate first."""
    from nas.prune.front import FrontTrial
    from nas.results.trials import front_flags

    rows = results.table[results.table["budget_class"].astype(str) == budget_class]
    on_front = {(str(r["study"]), int(r["number"])) for _, r in rows[front_flags(rows)].iterrows()}
    trials = [t for t in results.shortlist().get(budget_class, []) if (t.study, t.trial) in on_front]
    if not trials:
        raise ConfigError(f"--front: class {budget_class} has no feasible front trial with a checkpoint")
    return [FrontTrial(f"trial {t.trial} ({t.arch} {t.model_size_info})", t.checkpoint) for t in trials]


def verdict(table, budget) -> list[str]:
    """Hypervolume lines and the better arm."""
    from nas.prune.front import ARMS, objective_points
    from nas.results.pareto import hypervolume

    limits = budget.plot_limits()

    def volume(points) -> float:
        pts = objective_points(points, limits)
        return hypervolume(pts, (0.0, 1.0, 1.0), [True, False, False]) if len(pts) else 0.0

    volumes = {arm: volume(table[table["arm"] == arm]) for arm in ARMS}
    union = volume(table)
    better = max(ARMS, key=volumes.get)
    lines = [f"front hypervolume (validation accuracy ↑, memory ↓, ops ↓ over the {budget.name} limits): "
             + ", ".join(f"{arm} {v:.4f}" for arm, v in volumes.items()) + f", both {union:.4f}"]
    if volumes["width"] == volumes["pruning"]:
        lines.append("neither arm gave a better front")
    else:
        other = "pruning" if better == "width" else "width"
        lines.append(f"{better} gave the better front ({volumes[better]:.4f} vs {volumes[other]:.4f}; "
                     f"{'searched widths, fine-tuned as long' if better == 'width' else 'pruned front models'})")
    return lines


def front_figure(table, title: str):
    """Validation accuracy vs memory: each trial's width point joined to its pruned points."""
    import plotly.graph_objects as go

    from nas.prune.figures import COLOURS

    fig = go.Figure()
    for i, (trial, rows) in enumerate(table.groupby("trial", sort=False)):
        rows = rows.sort_values("ratio")
        colour = COLOURS[i % len(COLOURS)]
        fig.add_scatter(x=rows["memory_bytes"] / 1e3, y=100 * rows["val_acc"], mode="lines+markers", name=trial,
                        line={"color": colour}, marker={"symbol": ["star" if r == 0 else "circle" for r in rows["ratio"]],
                                                        "size": [13 if r == 0 else 9 for r in rows["ratio"]]},
                        text=[f"{arm} {r:g}" for arm, r in zip(rows["arm"], rows["ratio"])])
    fig.update_layout(title=f"{title}: searched width (★) vs its channels pruned (●), same fine-tuning",
                      xaxis_title="memory (KB, the budget's convention)", yaxis_title="validation accuracy (%)",
                      width=1000, height=560)
    return fig


def run_front(args, target: Path, budget_class: str, data) -> int:
    from tqdm import tqdm

    from nas.atomic import atomic_path
    from nas.cost.budget import load_budget
    from nas.data.cache import load_features
    from nas.export.accuracy import load_model
    from nas.prune.front import width_vs_pruning
    from nas.report.figures import write_figure
    from nas.results.folder import open_results

    ratios = args.front_ratios
    if not ratios or not all(0 < r < 1 for r in ratios):
        raise ConfigError(f"--front-ratios: each ratio must lie in (0, 1) (0 is the width arm itself), got {ratios}")
    if args.front_top < 1:
        raise ConfigError(f"--front-top must be >= 1, got {args.front_top}")
    budget = load_budget(budget_class)
    front = front_trials(open_results(target), budget_class)
    trials = front[:args.front_top]
    _, candidate = load_model(trials[0].checkpoint)
    sets = {split: load_features(data, candidate.frontend, split) for split in ("train", "validation", "test")}
    out = args.out or target / "prune"
    out.mkdir(parents=True, exist_ok=True)
    with tqdm(total=len(trials) * (1 + len(ratios)), desc="front", unit="model") as bar:
        table = width_vs_pruning(trials, budget, ratios, sets, args.finetune_steps, args.finetune_lr,
                                 progress=lambda name: (bar.set_postfix_str(name), bar.update()))
    with atomic_path(out / "front.csv") as tmp:
        table.to_csv(tmp, index=False)
    written = write_figure(front_figure(table, f"{budget_class} front of {target.name}"), out / "prune_front")
    print(table.to_string(index=False))
    print("\n".join(verdict(table, budget)))
    if len(trials) < len(front):
        print(f"the width arm holds the {len(trials)} most accurate of the class's {len(front)} front trials: its "
              f"cheaper ones are missing from both arms (--front-top {len(front)} takes them all)")
    print(f"→ {out / 'front.csv'}, " + ", ".join(str(p) for p in written if p.suffix == ".html"))
    return 0
