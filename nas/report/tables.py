"""``summary.md``: Hello Edge's table shape (architecture, class, accuracy, memory, ops) for the best
feasible trial, then the Pareto front; rows are read from ``nas.results.trials``'s table."""
from __future__ import annotations

import pandas as pd

from nas.results.trials import completed_feasible, json_number, ranked, third_objective

ACCURACY_NOTES = {
    "float": "the float model's best validation accuracy",
    "int8": "the int8 model's validation accuracy in TFLite Micro (test accuracy: the float model's)",
}


def summary_markdown(df: pd.DataFrame, title: str, dataset: str) -> str:
    """Hello Edge-shaped table of the best feasible trial per (architecture, class), then the fronts."""
    third = third_objective(df)
    lines = [f"# {title}", "", f"Accuracy is measured on: {dataset}.", "", _accuracy_note(df), ""]
    lines += [
        "| Architecture | Class | Val accuracy (%) | Test accuracy (%) | Memory (KB) | "
        + ("Latency (ms)" if third == "latency_ms" else "Ops (MOps)") + " | Trial |",
        "|---|---|---|---|---|---|---|",
    ]
    done = completed_feasible(df)
    for (arch, budget_class), group in done.groupby(["arch", "budget_class"], sort=True):
        row = ranked(group).iloc[0]
        lines.append(
            f"| {arch} | {budget_class} | {_pct(row['accuracy'])} | {_pct(row['test_acc'])} | "
            f"{row['memory_bytes'] / 1000:.1f} | {_third(row, third)} | {row['study']}#{int(row['number'])} |"
        )
    counts = df["state"].value_counts()
    infeasible = int(((df["state"] == "COMPLETE") & ~df["feasible"]).sum())
    lines += [
        "",
        f"Trials: {int(counts.get('COMPLETE', 0)) - infeasible} trained, {infeasible} infeasible (never trained), "
        f"{int(counts.get('PRUNED', 0))} pruned, {int(counts.get('FAIL', 0))} failed, "
        f"{int(counts.get('RUNNING', 0))} running.",
        "",
        "## Pareto front (feasible trials; accuracy ↑, memory ↓, " + ("latency" if third == "latency_ms" else "ops") + " ↓)",
        "",
        "| Study | Trial | Architecture | model_size_info | MFCC × window × stride | Val acc (%) | Memory (KB) | "
        + ("Latency (ms)" if third == "latency_ms" else "Ops (MOps)") + " |",
        "|---|---|---|---|---|---|---|---|",
    ]
    front = df[df["pareto"]].sort_values(["study", "memory_bytes", "number"], kind="stable")
    for _, row in front.iterrows():
        lines.append(
            f"| {row['study']} | {int(row['number'])} | {row['arch']} | {row['model_size_info']} | "
            f"{_int(row['n_mfcc'])} × {row['window_ms']:g} ms × {row['stride_ms']:g} ms | {_pct(row['accuracy'])} | "
            f"{row['memory_bytes'] / 1000:.1f} | {_third(row, third)} |"
        )
    return "\n".join(lines) + "\n"


def _accuracy_note(df: pd.DataFrame) -> str:
    """Which accuracy the "Val acc" columns hold: the objective each study optimised."""
    notes = [ACCURACY_NOTES.get(o, o) for o in sorted(set(df["accuracy_objective"]))]
    return "Val accuracy is the objective the search optimised: " + ("; ".join(notes) or "none recorded") + "."


def _third(row, third: str) -> str:
    return f"{row['latency_ms']:.2f}" if third == "latency_ms" else f"{row['ops'] / 1e6:.2f}"


def _pct(value) -> str:
    return "–" if json_number(value) is None else f"{100 * value:.1f}"


def _int(value) -> str:
    return "–" if json_number(value) is None else str(int(value))
