"""The comparison report of a multirun: Hello Edge's published table beside what this run measured.

One row per cell (architecture × budget class) of the multirun: the paper's accuracy, memory and ops;
the paper's configuration retrained here (the study's ``hello_edge`` trial, mean ± std over seeds); and
the searched best, retrained with the same seeds and recipe. The searched best is the cell's dominance
pick (``nas.results.dominance``): the searched candidate of best retrained validation mean among those at
most the paper configuration's memory and ops, else the best searched one. Everything comes from the
stored studies and ``results/reference/hello_edge.csv``, so ``kws-nas report`` rebuilds it.

Written to the multirun's folder: ``comparison.csv`` (pandas), ``comparison.md`` (the table and notes
on what differs from the paper) and ``comparison.html/png`` (the paper's figure style: accuracy vs ops,
marker size for memory, a colour per architecture).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import optuna
import pandas as pd

from nas.atomic import write_text_atomic
from nas.report import figures
from nas.results.dominance import cell_verdicts
from nas.results.retrain import candidates_frame

CLASSES = ("small", "medium", "large")
PAPER_DATA = "Speech Commands v1 (real speech; the paper's own split)"
PAPER_RECIPE = ("batch 100, Adam, learning rate 5e-4 → 1e-4 → 2e-5 over 3 × 10 k steps, time shift ±100 ms, "
                "background noise on 80 % of clips at volume ≤ 0.1 (ARM-software/ML-KWS-for-MCU)")
SETS = ("paper_config", "searched")  # column prefixes of the two sets measured here
SET_LABELS = {"paper_config": "paper's configuration, retrained here", "searched": "searched best, retrained"}
SET_SYMBOLS = {"paper_config": "square", "searched": "circle"}


def comparison_frame(cells: list[tuple[str, dict, pd.DataFrame | None]], reference: pd.DataFrame) -> pd.DataFrame:
    """One row per cell from ``(study name, study user attributes, its retraining runs or None)``,
    in the paper's order (architecture, then small / medium / large). Accuracies are fractions."""
    rows = []
    for study, attrs, runs in cells:
        arch, budget_class = attrs.get("search_space", ""), attrs.get("constraints", "")
        paper = reference[(reference["arch"] == arch) & (reference["budget_class"] == budget_class)]
        row = {"study": study, "arch": arch, "budget_class": budget_class,
               "paper_accuracy": paper["accuracy"].iloc[0] if len(paper) else np.nan,
               "paper_memory_bytes": paper["memory_bytes"].iloc[0] if len(paper) else np.nan,
               "paper_ops": paper["ops"].iloc[0] if len(paper) else np.nan}
        picks = _picks(runs) if runs is not None else {}
        for prefix in SETS:
            pick = picks.get(prefix)
            for key in ("source_trial", "model_size_info", "seeds", "val_mean", "val_std", "test_mean", "test_std",
                        "memory_bytes", "ops"):
                row[f"{prefix}_{key}"] = pick[key] if pick is not None else np.nan
        row["dominates"] = picks.get("dominates", False)
        rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    arch_order = {a: i for i, a in enumerate(dict.fromkeys(reference["arch"]))}
    order = table["arch"].map(lambda a: arch_order.get(a, len(arch_order))) * 10 + \
        table["budget_class"].map(lambda c: CLASSES.index(c) if c in CLASSES else len(CLASSES))
    return table.iloc[np.argsort(order.to_numpy(), kind="stable")].reset_index(drop=True)


def _picks(runs: pd.DataFrame) -> dict:
    """The paper configuration's and the searched best's retrained rows of one cell, and the verdict."""
    candidates = candidates_frame(runs)
    picks: dict = {}
    paper = candidates[candidates["hello_edge"]]
    if len(paper):
        picks["paper_config"] = paper.iloc[0]
    verdicts = cell_verdicts(runs)
    searched = candidates[~candidates["hello_edge"]]
    if verdicts and verdicts[0].searched_trial is not None:
        picks["searched"] = searched[searched["source_trial"] == verdicts[0].searched_trial].iloc[0]
        picks["dominates"] = verdicts[0].dominates
    elif len(searched):  # no paper configuration to compare with: the best searched one
        picks["searched"] = searched.iloc[0]
    return picks


def comparison_markdown(table: pd.DataFrame, dataset: str, recipes: list[dict], seeds: list[int]) -> str:
    """The table for people, then plain-language notes on what differs from the paper."""
    lines = ["# Hello Edge's table beside this run", "",
             "Accuracies in %, mean ± std over the retraining seeds (validation / test). Memory in KB "
             "(Hello Edge's convention), ops in MOps.", "",
             "| Cell | Paper accuracy | Paper memory | Paper ops | Paper config here: val | test | "
             "Searched best: val | test | memory | ops | Dominates |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for _, r in table.iterrows():
        lines.append(
            f"| {r['arch']} {r['budget_class']} | {_num(100 * r['paper_accuracy'], 1)} | "
            f"{_num(r['paper_memory_bytes'] / 1e3, 1)} | {_num(r['paper_ops'] / 1e6, 2)} | "
            f"{_pm(r, 'paper_config', 'val')} | {_pm(r, 'paper_config', 'test')} | "
            f"{_pm(r, 'searched', 'val')} | {_pm(r, 'searched', 'test')} | "
            f"{_num(r['searched_memory_bytes'] / 1e3, 1)} | {_num(r['searched_ops'] / 1e6, 2)} | "
            f"{'yes' if r['dominates'] else 'no' if not math.isnan(r['searched_val_mean']) else '–'} |")
    lines += ["", "## What differs from the paper", ""] + [f"- {note}" for note in notes(dataset, recipes, seeds)]
    return "\n".join(lines) + "\n"


def notes(dataset: str, recipes: list[dict], seeds: list[int]) -> list[str]:
    """Plain-language notes: data, recipe, seeds, where the paper's numbers come from, how the searched
    best was chosen."""
    generated = "generated speech" in dataset
    data = (f"Data: the paper trained and tested on {PAPER_DATA}; this run used {dataset}.")
    if generated:
        data += (" Generated speech ranks candidates against each other but its accuracies say little about "
                 "accuracy on people: do not read the paper's accuracy column against the two measured ones.")
    else:
        data += " A different dataset version or split moves every accuracy by itself, before any model differs."
    recipe = "; ".join(sorted({_recipe_text(r) for r in recipes})) or "no retraining run has finished"
    return [
        data,
        f"Recipe: the paper's is {PAPER_RECIPE}. Here both sets were retrained with the same recipe: {recipe}.",
        f"Seeds: the paper gives one number per model. Here each model was retrained with seeds "
        f"{', '.join(str(s) for s in seeds) or '–'} and the table gives the mean ± std (ddof = 1) over them.",
        "The paper's memory and ops are computed by kws-nas's cost model for the published model_size_info "
        "(results/reference/hello_edge.csv): memory matches the paper's Table 5, ops count 2 × MACs of the "
        "matrix products (the paper's DS-CNN ops are a little higher).",
        "Searched best: the searched candidate with the best retrained validation mean among those at most the "
        "paper configuration's memory and ops (else the best searched one); test accuracy is reported, never "
        "used to choose. 'Dominates': it is that cheap and its validation mean is higher.",
    ]


def _recipe_text(recipe: dict) -> str:
    # a run with steps set lasts that many steps whatever its epochs (``TrainConfig.steps``)
    parts = [f"{recipe['steps']} steps" if recipe.get("steps") else f"{recipe.get('epochs')} epochs"]
    if recipe.get("batch_size"):
        parts.append(f"batch {recipe['batch_size']}")
    if recipe.get("lr_phases"):
        parts.append(f"learning rate {' → '.join(f'{lr:g}' for lr in recipe['lr_phases'])} "
                     f"({recipe.get('schedule', '')})")
    return ", ".join(parts)


def comparison_figure(table: pd.DataFrame, title: str):
    """The paper's figure style: accuracy vs ops (log), marker area for memory, a colour per architecture;
    squares are the paper's configuration retrained here, circles the searched best, a grey line joins the
    two of a cell. Test accuracy (validation where no test split was scored), mean ± std."""
    import plotly.express as px
    import plotly.graph_objects as go

    metric = "test" if table[[f"{s}_test_mean" for s in SETS]].notna().any().any() else "val"
    fig = go.Figure()
    largest = max(table[[f"{s}_memory_bytes" for s in SETS]].max().max(), 1.0)
    palette = px.colors.qualitative.D3
    for _, r in table.iterrows():  # the joining lines first, under the markers
        if not (math.isnan(r[f"paper_config_{metric}_mean"]) or math.isnan(r[f"searched_{metric}_mean"])):
            fig.add_scatter(x=[r["paper_config_ops"] / 1e6, r["searched_ops"] / 1e6],
                            y=[100 * r[f"paper_config_{metric}_mean"], 100 * r[f"searched_{metric}_mean"]],
                            mode="lines", line={"color": "#bbbbbb", "width": 1}, showlegend=False, hoverinfo="skip")
    for i, arch in enumerate(dict.fromkeys(table["arch"])):
        cells = table[table["arch"] == arch]
        for prefix in SETS:
            rows = cells[cells[f"{prefix}_{metric}_mean"].notna()]
            if rows.empty:
                continue
            fig.add_scatter(
                x=rows[f"{prefix}_ops"] / 1e6, y=100 * rows[f"{prefix}_{metric}_mean"], mode="markers",
                name=f"{arch}: {SET_LABELS[prefix]}", legendgroup=arch,
                error_y={"type": "data", "array": 100 * rows[f"{prefix}_{metric}_std"], "visible": True,
                         "color": palette[i % len(palette)], "thickness": 1},
                marker={"color": palette[i % len(palette)], "symbol": SET_SYMBOLS[prefix], "opacity": 0.8,
                        "size": [8 + 30 * math.sqrt(m / largest) for m in rows[f"{prefix}_memory_bytes"]],
                        "line": {"width": 1, "color": "#333333"}},
                text=[f"{r['arch']} {r['budget_class']}, trial {int(r[f'{prefix}_source_trial'])}: "
                      f"{r[f'{prefix}_model_size_info']}<br>{r[f'{prefix}_memory_bytes'] / 1e3:.1f} KB, "
                      f"{r[f'{prefix}_ops'] / 1e6:.2f} MOps" for _, r in rows.iterrows()],
            )
    fig.update_xaxes(title_text="ops (MOps, log scale)", type="log")
    fig.update_yaxes(title_text=f"retrained {'test' if metric == 'test' else 'validation'} accuracy (%), mean ± std")
    fig.add_annotation(text="marker area: memory (KB); square: the paper's configuration retrained here; circle: "
                            "the searched best; a grey line joins the two of a cell",
                       xref="paper", yref="paper", x=0, y=-0.16, xanchor="left", showarrow=False, font={"size": 11})
    fig.update_layout(title=title, width=1100, height=650, template="plotly_white", margin={"b": 100})
    return fig


def write_comparison(parent: Path, studies: list, reference: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """``comparison.csv``, ``comparison.md`` and ``comparison.html/png`` in the multirun's folder, from its
    search studies (``optuna.Study``) and their retraining studies."""
    from nas.report.retrain_report import study_runs
    from nas.results.retrain import load_retrain

    cells = [(study.study_name, study.user_attrs, study_runs(study)) for study in studies]
    table = comparison_frame(cells, reference)
    if table.empty:
        return table
    write_text_atomic(parent / "comparison.csv", table.to_csv(index=False, float_format="%.6g"))
    finished = [t for study in studies if (retrain := load_retrain(study)) is not None
                for t in retrain.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))]
    recipes = [t.user_attrs["recipe"] for t in finished if isinstance(t.user_attrs.get("recipe"), dict)]
    seeds = sorted({int(t.user_attrs["seed"]) for t in finished if "seed" in t.user_attrs})
    write_text_atomic(parent / "comparison.md", comparison_markdown(table, dataset, recipes, seeds))
    if table[[f"{s}_val_mean" for s in SETS]].notna().any().any():
        figures.write_figure(comparison_figure(table, f"Hello Edge's configurations and the searched models, retrained"
                                                      f"<br><sup>accuracy on {dataset}</sup>"), parent / "comparison")
    return table


def _pm(row: pd.Series, prefix: str, metric: str) -> str:
    mean, std = row[f"{prefix}_{metric}_mean"], row[f"{prefix}_{metric}_std"]
    return "–" if pd.isna(mean) else f"{100 * mean:.1f} ± {100 * (0 if pd.isna(std) else std):.1f}"


def _num(value, digits: int) -> str:
    return "–" if pd.isna(value) else f"{value:.{digits}f}"
