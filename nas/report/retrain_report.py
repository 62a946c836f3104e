"""The final retraining in a results folder: ``retrain.csv``, a summary.md section, best.json's final
choice and ``retrain.html/png`` (a multirun's parent: ``dominance.html/png``), all from the stored runs.

Searched candidates and Hello Edge's configuration are drawn as mean ± std over seeds (error bars) of
validation accuracy against memory and against ops (or latency); each cell's verdict
(``nas.results.dominance``) is a line of the summary.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from nas.atomic import write_text_atomic
from nas.report import figures
from nas.results.dominance import CellVerdict, cell_verdicts, dominance_line
from nas.results.retrain import (COMPARED_STAGE, SHORTLIST_STAGE, candidates_frame, final_choice, load_retrain,
                                 runs_frame)
from nas.results.trials import best_entry, json_number

RETRAIN_CSV = "retrain.csv"
SEARCHED, HELLO_EDGE, DOMINATES = "#1f77b4", "#2ca02c", "#d62728"


def study_runs(study) -> pd.DataFrame | None:
    """The retraining runs of a search study, or None when it was never retrained."""
    retrain = load_retrain(study)
    if retrain is None:
        return None
    return runs_frame(retrain, study.study_name, study.user_attrs.get("constraints", ""))


def write_runs_csv(runs: pd.DataFrame, folder: Path) -> None:
    write_text_atomic(Path(folder) / RETRAIN_CSV, runs.to_csv(index=False, float_format="%.6g"))


def retrain_markdown(runs: pd.DataFrame, combined: bool = False) -> str:
    """The summary.md section: every retrained candidate's mean ± std, the choice per class, the verdicts."""
    candidates = candidates_frame(runs)
    verdicts = cell_verdicts(runs)
    lines = ["", "## Final retraining (mean ± std over seeds; the choice per class is the best validation mean)", ""]
    if candidates.empty:
        return "\n".join(lines + ["No retraining run has finished yet.", ""])
    recipe = runs.dropna(subset=["epochs"])
    epochs = f"{int(recipe['epochs'].max())} epochs, " if len(recipe) else ""
    compared = runs[runs["stage"] == COMPARED_STAGE]
    lines += [f"Each candidate was trained again with the same recipe ({epochs}seeds "
              f"{', '.join(str(int(s)) for s in sorted(compared['seed'].unique()))}) on the same data; test accuracy "
              f"is reported, never used to choose.", *_shortlist_lines(runs), "",
              "| Study | Trial | Architecture | Class | model_size_info | Seeds | Val accuracy (%) | Test accuracy (%) | "
              "Screening val (%) | Memory (KB) | Ops (MOps) |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    chosen = {(r["study"], int(r["source_trial"])) for r in final_choice(candidates).values()}
    for _, row in candidates.sort_values(["study", "val_mean"], ascending=[True, False], kind="stable").iterrows():
        mark = " **(chosen)**" if (row["study"], int(row["source_trial"])) in chosen else ""
        label = f"{int(row['source_trial'])}{' (Hello Edge)' if row['hello_edge'] else ''}{mark}"
        lines.append(f"| {row['study']} | {label} | {row['arch']} | {row['budget_class']} | {row['model_size_info']} | "
                     f"{int(row['seeds'])} | {_pm(row['val_mean'], row['val_std'])} | {_pm(row['test_mean'], row['test_std'])} | "
                     f"{_pct(row['screening_accuracy'])} | {row['memory_bytes'] / 1000:.1f} | {row['ops'] / 1e6:.2f} |")
    lines += _distilled_lines(candidates)
    lines += ["", "### Against Hello Edge's configuration (same data, recipe and seeds)", ""]
    if combined:
        lines += [f"The search {dominance_line(verdicts)}.", ""]
    lines += [f"- {v.describe()}" for v in verdicts] or ["- no cell retrained Hello Edge's configuration"]
    return "\n".join(lines) + "\n"


def _shortlist_lines(runs: pd.DataFrame) -> list[str]:
    """Which candidates at most Hello Edge's cost had a shortlist run, and what each reached."""
    shortlist = runs[(runs["stage"] == SHORTLIST_STAGE) & (runs["state"] == "COMPLETE")]
    return ["", *(f"{study}: the candidates at most Hello Edge's cost with the best screening had one run each at a seed "
            f"outside the comparison, and the best went on to every seed: "
            + ", ".join(f"trial {int(r['source_trial'])} {_pct(r['val_acc'])} %" for _, r in
                        rows.sort_values("val_acc", ascending=False, kind="stable").iterrows()) + "."
            for study, rows in shortlist.groupby("study", sort=True))] if len(shortlist) else []


def _distilled_lines(candidates: pd.DataFrame) -> list[str]:
    """Which candidates have a student distilled from their seeds, what it reached, and whether it is the
    exported model (it is unless it validates below the best seed)."""
    students = candidates.dropna(subset=["distilled_val"])
    return ["", *(f"{'Exported' if row['distilled_exported'] else 'Not exported'} for {row['study']} trial "
                  f"{int(row['source_trial'])}: one student distilled from the ensemble of {int(row['distilled_teachers'])} "
                  f"of its seeds' models, validation {_pct(row['distilled_val'])} %, test {_pct(row['distilled_test'])} % "
                  f"(not in the means above)"
                  + ("." if row["distilled_exported"] else ": it validates below the best seed, whose model is exported.")
                  for _, row in students.iterrows())] if len(students) else []


def chosen_entries(runs: pd.DataFrame, trials: pd.DataFrame, candidates: dict[tuple[str, int], dict],
                   prefix: dict[str, str]) -> dict[str, dict]:
    """Budget class → best.json's entry for the retrained choice (the screened trial's row, plus the
    retrained numbers under ``retrained``); classes no retraining finished are left out."""
    entries = {}
    for budget_class, row in final_choice(candidates_frame(runs)).items():
        source = trials[(trials["study"] == row["study"]) & (trials["number"] == row["source_trial"])]
        if source.empty:
            continue
        t = source.iloc[0]
        entry = best_entry(t, candidates, prefix)
        entries[budget_class] = {
            **entry,
            # its best seed's retrained weights or its distilled student (candidates_frame); a run stored
            # before checkpoints were kept: the screening one
            "checkpoint": f"{prefix.get(t['study'], '')}{row['checkpoint'] or t['checkpoint']}",
            "screening_checkpoint": entry["checkpoint"],
            "retrained": {"seeds": int(row["seeds"]), "val_mean": float(row["val_mean"]), "val_std": float(row["val_std"]),
                          "test_mean": json_number(row["test_mean"]), "test_std": json_number(row["test_std"]),
                          "hello_edge": bool(row["hello_edge"])},
            **({"distilled": {"teachers": int(row["distilled_teachers"]), "val_acc": float(row["distilled_val"]),
                              "test_acc": json_number(row["distilled_test"]),
                              "exported": bool(row["distilled_exported"])}} if pd.notna(row["distilled_val"]) else {}),
        }
    return entries


def with_retrained_choice(best: dict, runs: pd.DataFrame | None, trials: pd.DataFrame,
                          candidates: dict[tuple[str, int], dict], prefix: dict[str, str] | None = None) -> dict:
    """``best`` (a best.json object) with each retrained class's entry replaced by the retrained choice,
    and the verdicts added under ``dominance``."""
    if runs is None or runs.empty:
        return best
    entries = chosen_entries(runs, trials, candidates, prefix or {})
    classes = {**best["classes"], **entries}
    return {**best, "classes": classes, "dominance": [v.to_dict() for v in cell_verdicts(runs)]}


def retrain_figure(runs: pd.DataFrame, title: str):
    """Validation accuracy mean ± std vs memory and vs ops (or latency): each cell's searched candidates
    (circles) and its Hello Edge configuration (a star), one colour per cell; a red rim marks the searched
    candidate that dominates its cell's Hello Edge configuration. Several cells: log x axes."""
    import plotly.express as px
    from plotly.subplots import make_subplots

    candidates = candidates_frame(runs)
    third, third_scale, third_label = (("latency_ms", 1.0, "latency (ms)") if candidates["latency_ms"].notna().any()
                                       else ("ops", 1e6, "ops (MOps)"))
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, subplot_titles=("accuracy vs memory", f"accuracy vs {third_label}"))
    verdicts = {v.study: v for v in cell_verdicts(runs)}
    studies = sorted(candidates["study"].unique())
    palette = px.colors.qualitative.D3
    for col, (key, scale) in enumerate((("memory_bytes", 1e3), (third, third_scale)), start=1):
        for i, study in enumerate(studies):
            color = palette[i % len(palette)] if len(studies) > 1 else None
            cell = candidates[candidates["study"] == study]
            label = f"{cell['arch'].iloc[0]} {cell['budget_class'].iloc[0]} " if len(studies) > 1 else ""
            for name, mask, symbol in (("searched", ~cell["hello_edge"], "circle"),
                                       ("Hello Edge", cell["hello_edge"], "star")):
                rows = cell[mask]
                if rows.empty:
                    continue
                fig.add_scatter(
                    x=rows[key] / scale, y=100 * rows["val_mean"], mode="markers", name=f"{label}{name} (retrained)",
                    legendgroup=f"{study} {name}", showlegend=col == 1,
                    error_y={"type": "data", "array": 100 * rows["val_std"], "visible": True},
                    marker={"color": color or (SEARCHED if symbol == "circle" else HELLO_EDGE), "symbol": symbol,
                            "size": 15 if symbol == "star" else 9,
                            "line": {"width": [3 if _dominates(r, verdicts) else 0 for _, r in rows.iterrows()],
                                     "color": DOMINATES}},
                    text=[f"{r['study']} trial {int(r['source_trial'])}: {r['model_size_info']}<br>"
                          f"val {_pm(r['val_mean'], r['val_std'])} % over {int(r['seeds'])} seeds" for _, r in rows.iterrows()],
                    row=1, col=col)
    axis_type = "log" if len(studies) > 1 else "linear"
    fig.update_xaxes(title_text="memory (KB, Hello Edge convention)", type=axis_type, row=1, col=1)
    fig.update_xaxes(title_text=third_label, type=axis_type, row=1, col=2)
    fig.update_yaxes(title_text="retrained validation accuracy (%), mean ± std", row=1, col=1)
    fig.add_annotation(text="red rim: dominates its cell's Hello Edge configuration (≤ memory, ≤ ops, higher mean)",
                       xref="paper", yref="paper", x=0, y=-0.2, xanchor="left", showarrow=False, font={"size": 11})
    fig.update_layout(title=title, width=1200, height=580, template="plotly_white", margin={"b": 110})
    return fig


def _dominates(row: pd.Series, verdicts: dict[str, CellVerdict]) -> bool:
    """Whether ``row`` is its cell's searched candidate that dominates Hello Edge (drawn with a red rim)."""
    v = verdicts.get(row["study"])
    return bool(v and v.dominates and v.searched_trial == int(row["source_trial"]) and not row["hello_edge"])


def write_retrain_figure(runs: pd.DataFrame, stem: Path, title: str) -> None:
    if not candidates_frame(runs).empty:
        figures.write_figure(retrain_figure(runs, title), stem)


def _pm(mean, std) -> str:
    return "–" if json_number(mean) is None else f"{100 * mean:.1f} ± {100 * (std if json_number(std) is not None else 0):.1f}"


def _pct(value) -> str:
    return "–" if json_number(value) is None else f"{100 * value:.1f}"
